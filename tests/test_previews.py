"""Evidence previews: each PDF page or image becomes a bounded PNG, drawn by
a real child process (not mocked); a file that cannot be drawn, or that
costs too much memory or time, gives no preview, never an exception."""

from __future__ import annotations

import io
import json
import logging
import os
import resource

import pikepdf
import pytest
from PIL import Image

from mantra.web.previews import Preview, _split, render_preview

COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


def _pdf(*pages: tuple[float, float], colours=COLOURS, content: bytes | None = None) -> bytes:
    """A PDF as pikepdf writes it (as screening leaves it): each page filled
    with the next colour, or drawn with the given content stream."""
    pdf = pikepdf.new()
    for index, (width, height) in enumerate(pages):
        pdf.add_blank_page().MediaBox = [0, 0, width, height]  # add_blank_page() refuses a strip
        r, g, b = (c / 255 for c in colours[index % len(colours)])
        fill = f"{r} {g} {b} rg 0 0 {width} {height} re f".encode()
        pdf.pages[index].Contents = pdf.make_stream(content if content is not None else fill)
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def _images(preview: Preview) -> list[Image.Image]:
    images = [Image.open(io.BytesIO(png)) for png in preview.images]
    assert all(image.format == "PNG" for image in images)
    return images


def test_each_pdf_page_becomes_a_png_as_wide_as_asked_showing_that_page():
    preview = render_preview(_pdf((200, 300), (200, 300), (200, 300)), width=600)
    assert preview is not None and preview.pages == 3
    images = _images(preview)
    assert [image.size for image in images] == [(600, 900)] * 3
    assert [image.convert("RGB").getpixel((300, 450)) for image in images] == COLOURS


def test_a_long_pdf_shows_its_first_pages_and_says_how_many_it_has():
    preview = render_preview(_pdf(*[(595, 842)] * 12))
    assert preview is not None and preview.pages == 12 and len(preview.images) == 5
    assert [image.size for image in _images(preview)] == [(1000, 1416)] * 5  # A4: 842 pt x 1000 / 595, rounded up
    assert len(render_preview(_pdf(*[(595, 842)] * 12), max_pages=2).images) == 2


@pytest.mark.parametrize("page, size", [((14400, 1), (1000, 1)), ((1, 14400), (1, 4000)), ((100, 1000), (400, 4000))])
def test_a_strip_of_a_page_gives_a_small_picture_of_the_whole_page(page, size):
    preview = render_preview(_pdf(page))
    assert preview is not None and preview.pages == 1
    assert [image.size for image in _images(preview)] == [size]


def _image(fmt: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "blue").save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    "data, size",
    [
        (_image("PNG", (3000, 2000)), (1000, 667)),
        (_image("JPEG", (300, 200)), (300, 200)),  # never enlarged
        (_image("PNG", (500, 6000)), (333, 4000)),
    ],
)
def test_an_image_becomes_one_png_that_fits_the_width(data, size):
    preview = render_preview(data)
    assert preview is not None and preview.pages == 1
    (image,) = _images(preview)
    assert image.size == size
    assert image.convert("RGB").getpixel((size[0] // 2, size[1] // 2))[2] > 240  # still blue


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"a note about the man next door, not a file",
        b"%PDF-1.7\n a note about the man next door",
        _pdf((200, 300), (200, 300))[:-200],  # no cross-reference table or trailer
        _image("PNG", (300, 200))[:60],  # the header only
    ],
)
def test_a_file_that_cannot_be_drawn_gives_no_preview_and_logs_no_content(data, caplog):
    with caplog.at_level(logging.WARNING, logger="mantra.web.previews"):
        assert render_preview(data) is None
    assert "evidence preview not made" in caplog.text
    assert "man next door" not in caplog.text


def test_a_child_that_runs_past_the_wall_clock_gives_no_preview():
    assert render_preview(_pdf((200, 300)), timeout=0.01) is None


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_a_page_slow_to_draw_stops_at_the_childs_cpu_cap():
    """100,000 full-page fills, a 5 KB file: over a minute of drawing."""
    slow = _pdf((200, 200), content=b"0 0 200 200 re f\n" * 100_000)
    assert len(slow) < 10_000
    before = _children_cpu()
    assert render_preview(slow) is None
    assert _children_cpu() - before < 12  # the 10 s cap stopped it, not the 20 s wall clock


def test_a_form_fan_out_that_needs_gigabytes_to_draw_stops_at_the_childs_memory_cap():
    """Six levels of a form drawing the next ten times: a million draws, which
    PDFium needs about 1.6 GB for."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    form = dict(Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form, BBox=[0, 0, 200, 200])
    inner = pdf.make_stream(b"0 0 1 1 re f", **form)
    for _ in range(6):
        resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(X=inner))
        inner = pdf.make_stream(b"/X Do " * 10, Resources=resources, **form)
    pdf.pages[0].Contents = pdf.make_stream(b"/X Do")
    pdf.pages[0].Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(X=inner))
    out = io.BytesIO()
    pdf.save(out)
    assert render_preview(out.getvalue()) is None


PNG = _image("PNG", (10, 10))


@pytest.mark.parametrize(
    "header, body",
    [
        ({"pages": 1, "images": [len(PNG)]}, PNG + b"more"),  # lengths do not add up
        ({"pages": 1, "images": [len(PNG) + 4]}, PNG),
        ({"pages": 1, "images": [4]}, b"GIF8"),  # not a PNG
        ({"pages": 9, "images": [len(PNG)] * 6}, PNG * 6),  # more pictures than asked for
        ({"pages": 1, "images": [len(PNG)] * 2}, PNG * 2),  # more pictures than pages
        ({"pages": "1", "images": [len(PNG)]}, PNG),
        ({"pages": 1, "images": [True]}, PNG[:1]),
        ({"pages": 1, "images": []}, b""),
        ({"refused": "unreadable"}, b""),
        ([1, 2], b""),
    ],
)
def test_the_parent_believes_nothing_odd_the_child_prints(header, body):
    assert _split(json.dumps(header).encode(), body, 5, 1000) is None


def test_the_parent_survives_a_header_nested_too_deep_to_parse():
    assert _split(b"[" * 100_000, b"", 5, 1000) is None


def test_the_parent_refuses_a_png_larger_than_asked_for():
    for size in [(1001, 10), (10, 4001)]:
        png = _image("PNG", size)
        assert _split(json.dumps({"pages": 1, "images": [len(png)]}).encode(), png, 5, 1000) is None
    assert _split(json.dumps({"pages": 1, "images": [len(PNG)]}).encode(), PNG, 5, 1000) == Preview(1, (PNG,))


def test_noisy_pages_give_fewer_pictures_never_a_huge_page():
    """Pages whose pictures would not compress (noise) stop the preview at a
    bounded size: the web worker never holds more than MAX_OUTPUT of them."""
    from mantra.web.previews import MAX_OUTPUT

    noise = [Image.frombytes("RGB", (1000, 1400), os.urandom(1000 * 1400 * 3)) for _ in range(5)]
    out = io.BytesIO()
    noise[0].save(out, "PDF", save_all=True, append_images=noise[1:], quality=95)
    preview = render_preview(out.getvalue(), max_pages=5, width=1000)
    assert preview is not None and preview.pages == 5
    assert 1 <= len(preview.images) < 5 and sum(map(len, preview.images)) <= MAX_OUTPUT
