"""Evidence files: only real images and PDFs, screened and re-encoded in a
separate, bounded process (`screening.py`), so a hostile file costs that
child, never a web worker. Images are re-encoded from their pixels (no EXIF
location, camera or time survives); PDFs are rewritten from their parsed
structure with everything active removed. Staff get the cleaned copy only:
the original bytes are not kept, only their SHA-256 (sealed with the file)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from flask import Request, current_app
from flask_babel import lazy_gettext as _l

from ..domain.intake import EvidenceFile
from ..domain.limits import MAX_FILE_BYTES, MAX_PIXELS, megabytes

SCREENING = Path(__file__).with_name("screening.py")
WALL_SECONDS = 20  # the child also stops itself after 10 s of CPU

_WRONG_TYPE = _l("The selected file must be a JPEG, PNG, GIF, WebP or PDF")
_MESSAGES = {
    "wrong_type": _WRONG_TYPE,
    "too_large_image": _l("The selected image is too large. Take a smaller photo or screenshot"),
    "too_complex": _l("The selected file is too complex for us to check. Take a screenshot of it instead"),
    "pdf_unreadable": _l(
        "The selected PDF is protected or in a format we cannot check. Take a screenshot of it instead"
    ),
    "pdf_damaged": _l("The selected PDF is damaged or incomplete. Try saving it again"),
    "pdf_active": _l(
        "The selected PDF contains scripts or other active content, so we cannot accept it. Take a screenshot of it instead"
    ),
}


class InMemoryRequest(Request):
    """Uploaded files stay in memory (a request is capped at MAX_CONTENT_LENGTH),
    never spooled in plaintext to a temporary file as Werkzeug does over 500 KB."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return io.BytesIO()


class UploadRejected(ValueError):
    """The message is shown beside the field."""


def _safe_name(filename: str, extension: str) -> str:
    stem = os.path.splitext(os.path.basename(filename or ""))[0]
    stem = re.sub(r"[^\w\- ]", "", stem, flags=re.UNICODE).strip()[:80] or "evidence"
    return f"{stem}.{extension}"


def _screen(data: bytes) -> tuple[dict, bytes]:
    """Run the screening child: (verdict, cleaned bytes). A child that runs out
    of memory or time, or dies, gives no verdict: the file is too complex."""
    try:
        done = subprocess.run(
            [sys.executable, "-I", str(SCREENING), str(MAX_PIXELS)],
            input=data,
            capture_output=True,
            timeout=WALL_SECONDS,
            env={"PATH": os.environ.get("PATH", "")},
        )
    except subprocess.TimeoutExpired:
        return {"refused": "too_complex"}, b""
    head, _, body = done.stdout.partition(b"\n")
    try:
        verdict = json.loads(head)
    except ValueError:
        verdict = None
    if done.returncode != 0 or not isinstance(verdict, dict) or len(body) != verdict.get("length", 0):
        current_app.logger.warning("evidence screening stopped (exit %s): file refused", done.returncode)
        return {"refused": "too_complex"}, b""
    return verdict, body


def clean_upload(filename: str, data: bytes) -> EvidenceFile:
    if not data:
        raise UploadRejected(_l("The selected file is empty"))
    if len(data) > MAX_FILE_BYTES:
        raise UploadRejected(_l("The selected file must be smaller than %(mb)d MB", mb=megabytes(MAX_FILE_BYTES)))
    received = hashlib.sha256(data).hexdigest()  # of the exact bytes sent, before screening changes them
    verdict, cleaned = _screen(data)
    if "refused" in verdict:
        raise UploadRejected(_MESSAGES.get(verdict["refused"], _WRONG_TYPE))
    return EvidenceFile(_safe_name(filename, verdict["extension"]), verdict["content_type"], cleaned, received)


def read_upload(upload) -> EvidenceFile:
    """Read a Werkzeug FileStorage (one byte past the limit, to notice an oversized file)."""
    return clean_upload(upload.filename, upload.read(MAX_FILE_BYTES + 1))
