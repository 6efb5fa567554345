"""Evidence previews: partner staff see PNG pictures of a file's first pages,
drawn in a separate, bounded process (`rendering.py`), so their browser never
opens a PDF a stranger sent and a file that is costly to draw costs that
child, never a web worker. The child's output is checked, not trusted."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

RENDERING = Path(__file__).with_name("rendering.py")
WALL_SECONDS = 20  # the child also stops itself after 10 s of CPU
TALLEST = 4  # as in rendering.py: a picture is at most 4 x width tall
MAX_OUTPUT = 12 * 1024 * 1024  # as in rendering.py
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Preview:
    pages: int  # in the whole file; images holds the first few
    images: tuple[bytes, ...]


def _fits(png: bytes, width: int) -> bool:
    """A PNG whose header (signature, then IHDR) says it fits the box."""
    wide, tall = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    return png.startswith(PNG_SIGNATURE) and png[12:16] == b"IHDR" and 0 < wide <= width and 0 < tall <= TALLEST * width


def _split(head: bytes, body: bytes, max_pages: int, width: int) -> Preview | None:
    try:
        header = json.loads(head)
        pages, lengths = header["pages"], header["images"]
    except (ValueError, TypeError, KeyError, RecursionError):  # RecursionError: "[[[[..." nested too deep
        return None
    if not (type(pages) is int and isinstance(lengths, list) and 0 < len(lengths) <= min(pages, max_pages)):
        return None
    if not all(type(n) is int and n > 0 for n in lengths) or sum(lengths) != len(body):
        return None
    ends = list(accumulate(lengths))
    images = tuple(body[end - n : end] for n, end in zip(lengths, ends, strict=True))
    return Preview(pages, images) if all(_fits(image, width) for image in images) else None


def render_preview(
    data: bytes, *, max_pages: int = 5, width: int = 1000, timeout: float = WALL_SECONDS
) -> Preview | None:
    """PNG pictures of a screened file's first max_pages pages, width pixels
    wide; None (and a warning) when the child refuses, dies or runs too long."""
    try:
        done = subprocess.run(
            [sys.executable, "-I", str(RENDERING), str(max_pages), str(width)],
            input=data,
            capture_output=True,
            timeout=timeout,
            env={"PATH": os.environ.get("PATH", "")},
        )
    except subprocess.TimeoutExpired:
        log.warning("evidence preview stopped after %s s: no preview", timeout)
        return None
    if len(done.stdout) > MAX_OUTPUT + 4096:  # the child keeps to MAX_OUTPUT; more is not a preview
        log.warning("evidence preview too large: no preview")
        return None
    head, _, body = done.stdout.partition(b"\n")
    preview = _split(head, body, max_pages, width) if done.returncode == 0 else None
    if preview is None:
        log.warning("evidence preview not made (exit %s)", done.returncode)
    return preview
