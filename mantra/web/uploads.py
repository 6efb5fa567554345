"""Evidence files: only real images and plain PDFs, images re-encoded so
their metadata (EXIF location, camera, time) never reaches the record."""

from __future__ import annotations

import io
import os
import re
import warnings
import zlib

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from ..domain.intake import EvidenceFile
from ..domain.limits import MAX_FILE_BYTES, MAX_PIXELS, megabytes

# Actions and content that can run or fetch something when a PDF is opened.
# Matched case-sensitively (PDF names are), never inside stream bodies (raw
# image or font bytes match anything by chance), with #xx escapes decoded.
_PDF_ACTIVE = re.compile(
    rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|SubmitForm|ImportData|GoToR|GoToE|XFA)(?![A-Za-z0-9])"
)
# An HTML or SVG document hidden in the PDF's text (a polyglot).
_PDF_HTML = re.compile(rb"<\s*(script|html|svg|iframe|img|object|embed|body|meta)\b", re.I)
# Encryption and filters we cannot read would hide what an object holds.
_PDF_UNREADABLE = re.compile(rb"/(Encrypt|LZWDecode|ASCII85Decode|ASCIIHexDecode|RunLengthDecode|Crypt)(?![A-Za-z0-9])")
_PDF_STREAM_START = re.compile(rb"stream\r?\n")
_PDF_ONE_FLATE = re.compile(rb"/Filter\s*(/FlateDecode(?![A-Za-z0-9])|\[\s*/FlateDecode\s*\])")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_MAX_INFLATED = 50 * 1024 * 1024  # for the whole file
_KEEP_AS = {
    "JPEG": ("JPEG", "image/jpeg", "jpg"),
    "PNG": ("PNG", "image/png", "png"),
    "GIF": ("PNG", "image/png", "png"),
    "WEBP": ("PNG", "image/png", "png"),
}


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
        raise UploadRejected(_l("The selected file must be smaller than %(mb)d MB", mb=megabytes(MAX_FILE_BYTES)))
    if data.startswith(b"%PDF-"):
        return _clean_pdf(filename, data)
    return _clean_image(filename, data)


def _pdf_parts(data: bytes):
    """The PDF's own text (everything outside stream bodies), then each object
    stream (where objects can hide) inflated. One forward pass: linear time."""
    inflated_total, pos = 0, 0
    while True:
        match = _PDF_STREAM_START.search(data, pos)
        end = data.find(b"endstream", match.end()) if match else -1
        if match is None or end < 0:
            yield data[pos:]
            return
        dictionary = data[data.rfind(b"obj", pos, match.start()) + 1 or pos : match.start()]
        yield data[pos : match.start()]
        if b"/ObjStm" in _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), dictionary):
            if _PDF_ONE_FLATE.search(dictionary) is None or b"/DecodeParms" in dictionary:
                raise UploadRejected(_UNREADABLE)
            inflater = zlib.decompressobj()
            try:
                inflated = inflater.decompress(data[match.end() : end], _MAX_INFLATED - inflated_total)
            except zlib.error:
                raise UploadRejected(_UNREADABLE) from None
            inflated_total += len(inflated)
            if inflater.unconsumed_tail:
                raise UploadRejected(_l("The selected PDF is too large once opened. Take a screenshot of it instead"))
            yield inflated
        pos = end + len(b"endstream")


_UNREADABLE = _l("The selected PDF is protected or in a format we cannot check. Take a screenshot of it instead")


def _clean_pdf(filename: str, data: bytes) -> EvidenceFile:
    if b"%%EOF" not in data[-1024:]:
        raise UploadRejected(_l("The selected PDF is damaged or incomplete. Try saving it again"))
    for part in _pdf_parts(data):
        part = _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), part)
        if _PDF_ACTIVE.search(part) or _PDF_HTML.search(part):
            raise UploadRejected(
                _l(
                    "The selected PDF contains scripts or other active content, so we cannot accept it. Take a screenshot of it instead"
                )
            )
        if _PDF_UNREADABLE.search(part):
            raise UploadRejected(_UNREADABLE)
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
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ):
        raise wrong_type from None
    return EvidenceFile(_safe_name(filename, extension), content_type, out.getvalue())


def read_upload(upload) -> EvidenceFile:
    """Read a Werkzeug FileStorage (one byte past the limit, to notice an oversized file)."""
    return clean_upload(upload.filename, upload.read(MAX_FILE_BYTES + 1))
