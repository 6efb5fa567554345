"""Draw one screened evidence file as PNG pictures, in a process of its own.

Run as a script (`python -I rendering.py MAX_PAGES WIDTH`), never imported by
the web app, like screening.py: it caps its own memory and CPU time first,
reads the file on stdin, and writes one JSON line, {"pages": N, "images":
[length, ...]}, then the PNGs one after another on stdout. Partner staff see
these pictures, never the PDF itself, so no browser's PDF viewer ever runs a
file a stranger sent; a page that is slow or costly to draw kills this child,
never a web worker.

- PDFs (already rewritten by pikepdf): the first MAX_PAGES pages, drawn with
  PDFium, each WIDTH pixels wide. A page more than TALLEST times as tall as
  it is wide is drawn narrower instead, so the whole page still shows and a
  1 x 14400 pt strip cannot ask for a giant bitmap.
- Images (already re-encoded by Pillow): one PNG, shrunk to fit the same box,
  never enlarged.
"""

from __future__ import annotations

import io
import json
import resource
import sys

MEMORY_BYTES = 768 * 1024 * 1024  # address space: the interpreter, PDFium and Pillow use ~150 MB of it
MAX_OUTPUT = 12 * 1024 * 1024  # bytes of PNG in all: what the page holds, as data: addresses
CPU_SECONDS = 10
TALLEST = 4  # a picture is at most TALLEST x WIDTH pixels tall
MAX_PIXELS = 40_000_000  # an image, decoded: as the screening child allows


class Refused(Exception):
    """A reason code for the parent; it shows no preview either way."""


def _scale(width_pt: float, height_pt: float, width: int) -> float:
    """Pixels per point that fit the page in WIDTH x TALLEST*WIDTH pixels.
    render() rounds each side up, so stay a hair inside the box."""
    if not (width_pt > 0 and height_pt > 0):  # also NaN
        raise Refused("empty_page")
    return min(width / width_pt, TALLEST * width / height_pt) * (1 - 1e-9)


def _png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def render_pdf(data: bytes, max_pages: int, width: int) -> tuple[int, list[bytes]]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        images = []
        for index in range(min(len(pdf), max_pages)):
            page = pdf[index]
            bitmap = page.render(scale=_scale(*page.get_size(), width), may_draw_forms=False)
            if bitmap.width > width or bitmap.height > TALLEST * width:
                raise Refused("too_large_page")
            png = _png(bitmap.to_pil())  # to_pil() may share the bitmap's memory: save it first
            bitmap.close()
            page.close()
            if sum(map(len, images)) + len(png) > MAX_OUTPUT:  # noisy pages: fewer pictures, never a huge page
                if not images:
                    raise Refused("too_large_output")
                break
            images.append(png)
        return len(pdf), images
    finally:
        pdf.close()


def render_image(data: bytes, width: int) -> tuple[int, list[bytes]]:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    with Image.open(io.BytesIO(data)) as image:
        if image.format not in ("JPEG", "PNG", "GIF", "WEBP"):
            raise Refused("wrong_type")
        image.draft("RGB", (width, TALLEST * width))  # a large JPEG is decoded at 1/2, 1/4 or 1/8 size
        picture = image.convert("RGBA" if image.has_transparency_data else "RGB")
    picture.thumbnail((width, TALLEST * width))  # keeps the shape; never enlarges
    png = _png(picture)
    if len(png) > MAX_OUTPUT:
        raise Refused("too_large_output")
    return 1, [png]


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    max_pages, width = int(sys.argv[1]), int(sys.argv[2])
    data = sys.stdin.buffer.read()
    try:
        pages, images = render_pdf(data, max_pages, width) if data.startswith(b"%PDF-") else render_image(data, width)
    except Refused as refused:
        sys.stdout.write(json.dumps({"refused": str(refused)}) + "\n")
        return
    except MemoryError:
        sys.stdout.write(json.dumps({"refused": "too_complex"}) + "\n")
        return
    except Exception:  # PDFium and Pillow raise many kinds for a file they cannot read: all mean no preview
        sys.stdout.write(json.dumps({"refused": "unreadable"}) + "\n")
        return
    header = {"pages": pages, "images": [len(image) for image in images]}
    sys.stdout.buffer.write(json.dumps(header).encode() + b"\n" + b"".join(images))


if __name__ == "__main__":
    main()
