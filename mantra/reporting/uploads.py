"""Evidence files: only real images and plain PDFs, images re-encoded so
their metadata (EXIF location, camera, time) never reaches the record."""
from __future__ import annotations

import io
import os
import re
import warnings

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from ..intake import EvidenceFile

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
MAX_PIXELS = 40_000_000
_PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile|RichMedia|OpenAction|AA|SubmitForm|ImportData)\b|<script|<html|<svg", re.I)
_KEEP_AS = {"JPEG": ("JPEG", "image/jpeg", "jpg"), "PNG": ("PNG", "image/png", "png"),
            "GIF": ("PNG", "image/png", "png"), "WEBP": ("PNG", "image/png", "png")}


class UploadRejected(ValueError):
    """The message is shown beside the field."""


def _safe_name(filename: str, extension: str) -> str:
    stem = os.path.splitext(os.path.basename(filename or ""))[0]
    stem = re.sub(r"[^\w\- ]", "", stem, flags=re.UNICODE).strip()[:80] or "evidence"
    return f"{stem}.{extension}"


def clean_upload(filename: str, data: bytes) -> EvidenceFile:
    if not data:
        raise UploadRejected(_l("The selected file is empty"))
    if len(data) > MAX_FILE_BYTES:
        raise UploadRejected(_l("The selected file must be smaller than 10 MB"))
    if data.startswith(b"%PDF-"):
        return _clean_pdf(filename, data)
    return _clean_image(filename, data)


def _clean_pdf(filename: str, data: bytes) -> EvidenceFile:
    if b"%%EOF" not in data[-1024:]:
        raise UploadRejected(_l("The selected PDF is damaged or incomplete. Try saving it again"))
    if _PDF_ACTIVE.search(data):
        raise UploadRejected(_l("The selected PDF contains scripts or other active content, so we cannot accept it. Take a screenshot of it instead"))
    return EvidenceFile(_safe_name(filename, "pdf"), "application/pdf", data)


def _clean_image(filename: str, data: bytes) -> EvidenceFile:
    wrong_type = UploadRejected(_l("The selected file must be a JPEG, PNG, GIF, WebP or PDF"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                probe.verify()
            if kind not in _KEEP_AS:
                raise wrong_type
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise UploadRejected(_l("The selected image is too large. Take a smaller photo or screenshot"))
                image = ImageOps.exif_transpose(image)  # keep it the right way up, then drop EXIF
                fmt, content_type, extension = _KEEP_AS[kind]
                if fmt == "JPEG" and image.mode not in ("RGB", "L"):
                    image = image.convert("RGB")
                out = io.BytesIO()
                # Saving without exif/icc/info writes the pixels and nothing else.
                image.save(out, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    except UploadRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError):
        raise wrong_type from None
    return EvidenceFile(_safe_name(filename, extension), content_type, out.getvalue())


def read_upload(upload) -> EvidenceFile:
    """Read a Werkzeug FileStorage (one byte past the limit, to notice an oversized file)."""
    return clean_upload(upload.filename, upload.read(MAX_FILE_BYTES + 1))
