"""Screen and re-encode one evidence file, in a process of its own.

Run as a script (`python -I screening.py MAX_PIXELS`), never imported by the
web app: it reads the file on stdin, caps its own memory and CPU time first,
and writes one JSON line (the verdict) then the cleaned bytes on stdout. A
hostile file (a decoding bomb, a crafted header) costs this bounded child,
never a web worker: when a limit is hit the child dies and the parent
refuses the file.

- Images: JPEG (MPF phone photos too), PNG, GIF, WebP; JPEG scans are
  counted before decoding; re-encoded from the pixels, so no metadata
  (EXIF location, camera, time) survives.
- PDFs: parsed with qpdf (pikepdf); JavaScript, open and page actions,
  launch, link (URI), form-submit and import actions, embedded files,
  rich media and XFA forms are removed, and the stored copy is written from
  the parsed structure. Encrypted or unreadable PDFs are refused.
"""

from __future__ import annotations

import io
import json
import resource
import sys

MEMORY_BYTES = 768 * 1024 * 1024  # address space: the interpreter and libraries use ~150 MB of it
CPU_SECONDS = 10
MAX_SIDE = 20_000  # pixels: no photo or screenshot is wider or taller
MAX_SCANS = 100  # a progressive JPEG has about ten
MAX_DECODED = 200 * 1024 * 1024  # all of a PDF's streams, opened


class Refused(Exception):
    """A reason code the web app turns into a message beside the field."""


def jpeg_scans(data: bytes) -> int:
    """Count the start-of-scan markers by walking the JPEG's segments."""
    pos, scans = 2, 0
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise Refused("wrong_type")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # end of image
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        pos += 2 + length
        if marker == 0xDA:  # a scan: skip its entropy-coded data to the next marker
            scans += 1
            if scans > MAX_SCANS:
                raise Refused("too_complex")
            while pos + 1 < len(data) and not (data[pos] == 0xFF and data[pos + 1] not in (0x00, *range(0xD0, 0xD8))):
                pos += 1
    return scans


_KEEP_AS = {"JPEG": ("JPEG", "image/jpeg", "jpg"), "MPO": ("JPEG", "image/jpeg", "jpg")}
_KEEP_AS.update({kind: ("PNG", "image/png", "png") for kind in ("PNG", "GIF", "WEBP")})


def clean_image(data: bytes, max_pixels: int) -> tuple[str, str, bytes]:
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = max_pixels
    if data.startswith(b"\xff\xd8"):
        jpeg_scans(data)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            size = probe.size
            probe.verify()
    except Exception:
        raise Refused("wrong_type") from None
    if kind not in _KEEP_AS:
        raise Refused("wrong_type")
    if size[0] * size[1] > max_pixels or max(size) > MAX_SIDE:
        raise Refused("too_large_image")
    fmt, content_type, extension = _KEEP_AS[kind]
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)  # the first frame of a GIF, WebP or MPO
            try:
                image = ImageOps.exif_transpose(image)  # keep it the right way up, then drop EXIF
            except Exception:
                pass  # a crafted orientation: keep the pixels as they are
            if fmt == "JPEG" and image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, fmt, **({"quality": 90} if fmt == "JPEG" else {}))  # pixels only
    except MemoryError:
        raise
    except Exception:
        raise Refused("wrong_type") from None
    return extension, content_type, out.getvalue()


# What makes a PDF act by itself: scripts, programs, forms that send or
# fetch, files or media inside it. Such a PDF is refused.
_REFUSED_KEYS = ("/JS", "/JavaScript", "/EmbeddedFiles", "/EmbeddedFile", "/RichMedia", "/XFA")
_REFUSED_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/RichMediaExecute"}
# What acts only when opened or clicked (open and page actions, links to web
# addresses) is removed, and the rest of the document kept.
_STRIPPED_KEYS = ("/OpenAction", "/AA")


def _active(obj) -> bool:
    return (
        any(key in obj for key in _REFUSED_KEYS)
        or str(obj.get("/S")) in _REFUSED_ACTIONS
        or str(obj.get("/Type")) == "/Filespec"
        or str(obj.get("/Subtype")) in ("/FileAttachment", "/RichMedia", "/Movie", "/Sound", "/Screen", "/3D")
    )


def _strip(obj) -> None:
    for key in _STRIPPED_KEYS:
        if key in obj:
            del obj[key]
    if str(obj.get("/S")) == "/URI":  # a link's action: it now goes nowhere
        del obj["/S"]
        del obj["/URI"]


def _dictionaries(pdf):
    """Every dictionary in the file: each object's, and those nested in them."""
    import pikepdf

    todo = [obj for obj in pdf.objects if isinstance(obj, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream))]
    while todo:
        obj = todo.pop()
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if isinstance(obj, pikepdf.Dictionary):
            yield obj
            children = obj.values()
        else:
            children = list(obj)
        todo += [
            child
            for child in children
            if isinstance(child, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)) and not child.is_indirect
        ]


def clean_pdf(data: bytes) -> tuple[str, str, bytes]:
    import pikepdf

    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        raise Refused("pdf_unreadable") from None
    except Exception:
        raise Refused("pdf_damaged") from None
    with pdf:
        if pdf.is_encrypted:
            raise Refused("pdf_unreadable")
        decoded = 0
        for obj in pdf.objects:  # every stream, opened: a flate bomb stops here, inside the caps
            if isinstance(obj, pikepdf.Stream):
                try:  # image codecs (JPEG, JBIG2...) stay as they are: their raw size counts
                    opened = obj.read_bytes(pikepdf.StreamDecodeLevel.generalized)
                except pikepdf.PdfError as exc:
                    if "unfilterable" not in str(exc):  # out of memory (std::bad_alloc), a broken filter
                        raise Refused("too_complex") from None
                    opened = obj.read_raw_bytes()
                decoded += len(opened)
                if decoded > MAX_DECODED:
                    raise Refused("too_complex")
        dictionaries = list(_dictionaries(pdf))
        if not len(pdf.pages) or any(_active(obj) for obj in dictionaries):
            raise Refused("pdf_active" if len(pdf.pages) else "pdf_damaged")
        for obj in dictionaries:
            _strip(obj)
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)  # written from the parsed objects, not the bytes sent
    with pikepdf.open(io.BytesIO(out.getvalue())) as check:  # what is stored: nothing active is left
        if any(_active(obj) or any(k in obj for k in _STRIPPED_KEYS) for obj in _dictionaries(check)):
            raise Refused("pdf_active")
    return "pdf", "application/pdf", out.getvalue()


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    max_pixels = int(sys.argv[1])
    data = sys.stdin.buffer.read()
    try:
        extension, content_type, cleaned = (
            clean_pdf(data) if data.startswith(b"%PDF-") else clean_image(data, max_pixels)
        )
    except Refused as refused:
        sys.stdout.write(json.dumps({"refused": str(refused)}) + "\n")
        return
    except MemoryError:
        sys.stdout.write(json.dumps({"refused": "too_complex"}) + "\n")
        return
    header = {"extension": extension, "content_type": content_type, "length": len(cleaned)}
    sys.stdout.buffer.write(json.dumps(header).encode() + b"\n" + cleaned)


if __name__ == "__main__":
    main()
