"""Hostile evidence files, replayed: each costs one bounded screening process
(real, not mocked), ends in a clear refusal beside the field or a harmless
cleaned copy, and never a 500 or lost typed text."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import struct
import time
import zlib

import pikepdf
import pytest
import sqlalchemy as sa
from PIL import Image

from mantra.crypto import vault
from mantra.domain import intake
from mantra.extensions import db
from mantra.jobs.route import route_report
from mantra.models import Attachment, DraftFile, Referral, Report

from .conftest import IsolatedClient
from .factories import make_partners, stored_file
from .journey import answer_all, answer_with_files, csrf, errors, post, submit
from .test_reporting import _to_evidence, _upload
from .test_storage import _database_bytes
from .test_triage import _enrol, _police_officer


@pytest.fixture
def partners(app):
    return make_partners(police_rule=True)[0]


def _png(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of any shape, built by hand (Pillow would
    have to make the pixels first): every row filter 0, all black."""

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\0" + b"\0" * ((width + 7) // 8)
    raw = zlib.compressobj(9)
    data = b"".join(raw.compress(row) for _ in range(height)) + raw.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def _many_scans(copies: int) -> bytes:
    """A progressive JPEG whose last scan is repeated thousands of times."""
    out = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(out, "JPEG", progressive=True)
    data = out.getvalue()
    last_scan = data.rfind(b"\xff\xda")
    scan = data[last_scan:-2]
    return data[:-2] + scan * copies + b"\xff\xd9"


def _pdf(build) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    build(pdf)
    out = io.BytesIO()
    pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def _js_open_action(pdf):
    pdf.Root.OpenAction = pdf.make_indirect(
        pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    )


def _uri_link(pdf):
    action = pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://tracker.example/seen"))
    link = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 90, 90], A=action)
    pdf.pages[0].Annots = pikepdf.Array([pdf.make_indirect(link)])


def _launch_on_page(pdf):
    pdf.pages[0].AA = pikepdf.Dictionary(O=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe")))


def _embedded_file(pdf):
    pdf.attachments["invoice.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ not really")


def _hide_stream_word(data: bytes) -> bytes:
    """The attacker's bypasses of a text scan: 'stream' in a comment and in a string."""
    return data.replace(b"\n", b"\n% stream\n", 1).replace(b"app.alert(1)", b"stream; app.alert(1)")


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("scans.jpg", _many_scans(3000), "too complex for us to check"),
        ("long.png", _png(40_000_000, 1), "image is too large"),
        ("tall.png", _png(1, 40_000_000), "image is too large"),
        ("script.pdf", _hide_stream_word(_pdf(_js_open_action)), "contains scripts or other active content"),
        ("launch.pdf", _pdf(_launch_on_page), "contains scripts or other active content"),
        ("attached.pdf", _pdf(_embedded_file), "contains scripts or other active content"),
    ],
)
def test_hostile_files_are_refused_beside_the_field_quickly(client, partners, name, data, message):
    _to_evidence(client)
    started = time.monotonic()
    response = _upload(client, name, data)
    assert response.status_code == 200 and time.monotonic() - started < 15
    assert any(message in e for e in errors(response.text)), errors(response.text)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DraftFile)) == 0


def test_a_flate_bomb_costs_the_screening_process_not_the_web_worker(client, partners):
    """A content stream that inflates to 2 GB, inside the 10 MB limit: the
    child hits its memory cap and dies; the person gets a message."""
    bomb = zlib.compressobj(9)
    zeros = b"\0" * (16 * 1024 * 1024)
    body = b"".join(bomb.compress(zeros) for _ in range(128)) + bomb.flush()

    def build(pdf):
        pdf.pages[0].Contents = pdf.make_stream(body, Filter=pikepdf.Name.FlateDecode)

    pdf = pikepdf.new()
    pdf.add_blank_page()
    build(pdf)
    out = io.BytesIO()
    pdf.save(out, stream_decode_level=pikepdf.StreamDecodeLevel.none, compress_streams=False)
    assert len(out.getvalue()) < 10 * 1024 * 1024
    _to_evidence(client)
    started = time.monotonic()
    response = _upload(client, "bomb.pdf", out.getvalue())
    assert response.status_code == 200 and time.monotonic() - started < 15
    assert any("too complex for us to check" in e for e in errors(response.text)), errors(response.text)


def test_an_upload_never_reaches_the_disk_in_plaintext(client, partners, monkeypatch):
    """Werkzeug spools a request body over 500 KB to a temporary file: not here."""
    import tempfile

    spooled = []
    real = tempfile.SpooledTemporaryFile
    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", lambda *a, **k: spooled.append(1) or real(*a, **k))
    monkeypatch.setattr(tempfile, "TemporaryFile", lambda *a, **k: spooled.append(1) or real(*a, **k))
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", lambda *a, **k: spooled.append(1) or real(*a, **k))
    big = io.BytesIO()
    Image.frombytes("RGB", (1000, 1000), os.urandom(3_000_000)).save(big, "PNG")
    assert len(big.getvalue()) > 600 * 1024
    _to_evidence(client)
    response = _upload(client, "big.png", big.getvalue())
    assert response.status_code == 302, errors(response.text)
    assert spooled == []


def test_links_are_removed_from_a_pdf_and_the_stored_copy_is_rewritten(client, partners):
    _to_evidence(client)
    original = _pdf(_uri_link)
    response = _upload(client, "letter.pdf", original)
    assert response.status_code == 302, errors(response.text)
    answer_all(client)
    _, _, code = submit(client)
    stored = stored_file(code)
    with pikepdf.open(io.BytesIO(original)) as pdf:
        assert str(pdf.pages[0].Annots[0].A.URI) == "https://tracker.example/seen"
    with pikepdf.open(io.BytesIO(stored)) as pdf:
        assert len(pdf.pages) == 1 and "/URI" not in pdf.pages[0].Annots[0].get("/A", {})


def test_a_phone_photo_with_an_mpf_segment_is_an_ordinary_jpeg(client, partners):
    first, second = Image.new("RGB", (40, 30), "blue"), Image.new("RGB", (20, 15), "green")
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    _to_evidence(client)
    response = _upload(client, "IMG_0001.jpg", out.getvalue())
    assert response.status_code == 302, errors(response.text)
    assert "IMG_0001.jpg" in client.get("/report/evidence").text


def _crafted_exif_jpeg() -> bytes:
    """A JPEG whose EXIF directory claims far more entries than it holds."""
    image = Image.new("RGB", (40, 30), "white")
    exif = image.getexif()
    exif[0x0112] = 6  # rotated: exif_transpose will read the directory
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    data = out.getvalue()
    ifd = data.find(b"MM\x00*") if b"MM\x00*" in data else data.find(b"II*\x00")
    count_at = ifd + 8
    return data[:count_at] + b"\xff\xff" + data[count_at + 2 :]


def test_crafted_exif_never_gives_a_500_and_a_typed_reply_is_kept(client, partners):
    _to_evidence(client)
    response = _upload(client, "crafted.jpg", _crafted_exif_jpeg())
    assert response.status_code in (200, 302)

    answer_all(client)
    _, _, code = submit(client)
    post(client, "/follow-up/", {"code": code})
    reply = post(
        client,
        "/follow-up/report",
        {"body": "He came back on Tuesday.", "file": (io.BytesIO(b"\xff\xd8junk"), "x.jpg")},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 200 and "He came back on Tuesday." in reply.text
    assert any("must be a JPEG" in e for e in errors(reply.text))


@pytest.mark.parametrize("value", ["99999999999999999999999", "2147483648", "-5", "x"])
def test_a_huge_or_odd_file_number_to_remove_is_harmless(client, partners, value):
    _to_evidence(client)
    _upload(client, "a.png", _png(4, 4))
    page = client.get("/report/evidence")
    response = client.post(f"/report/evidence/remove/{value}", data={"csrf_token": csrf(page.text), "entry": "0"})
    assert response.status_code in (302, 404)
    client.post("/report/evidence", data={"csrf_token": csrf(page.text), "remove": value, "continue": "1"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DraftFile)) == 1


def test_a_file_is_removed_only_from_its_own_confirmation_page(client, partners):
    _to_evidence(client)
    _upload(client, "first.png", _png(4, 4))
    _upload(client, "second.png", _png(5, 5))
    page = client.get("/report/evidence").text
    link = re.findall(r'href="(/report/evidence/remove/\d+)"', page)[0]
    confirm = client.get(link).text
    assert "first.png" in confirm and "Are you sure you want to remove this file?" in confirm
    entry = re.search(r'name="entry" value="([0-9a-f]+)"', confirm).group(1)
    done = client.post(link, data={"csrf_token": csrf(confirm), "entry": entry}, follow_redirects=True)
    assert "File 1 has been removed. It was not sent." in done.text
    assert "first.png" not in done.text and "second.png" in done.text


# --- fingerprints: SHA-256 of the bytes sent and of the stored copy ----------


def _photo_with_text(colour: str) -> bytes:
    """A PNG carrying a text chunk, which screening drops: the stored copy differs from what was sent."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Software", "SecretPhoneMaker")
    out = io.BytesIO()
    Image.new("RGB", (30, 20), colour).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def _fingerprints(html: str) -> list[str]:
    """The SHA-256 fingerprints a page shows, in order, each as one code."""
    return [code.replace("<wbr>", "") for code in re.findall(r"<code[^>]*>(.*?)</code>", html, re.S)]


def _evidence_section(html: str) -> str:
    return html.split('id="evidence-files"', 1)[1].split("</ul>", 1)[0]


def _officer_on_the_referral(client) -> str:
    """Route the report (police consent given) and sign the police officer in: the referral's link."""
    route_report(db.session.scalar(sa.select(Report.id)))
    db.session.commit()
    _enrol(client)
    return f"/triage/referrals/{db.session.scalar(sa.select(sa.func.min(Referral.id)))}"


def test_the_reporter_and_the_officer_see_the_fingerprints_of_the_file_sent_and_of_the_stored_copy(client, app, caplog):
    _police_officer()
    reporter = IsolatedClient(app, app.response_class)
    sent, later = _photo_with_text("purple"), _photo_with_text("orange")
    answer_with_files(reporter, [("screenshot.png", sent)])
    confirmation, _, code = submit(reporter)
    received, stored = hashlib.sha256(sent).hexdigest(), hashlib.sha256(stored_file(code)).hexdigest()
    assert received != stored  # screening re-encoded it: two fingerprints
    assert _fingerprints(confirmation.text) == [received, stored]
    assert (
        "screenshot.png" in confirmation.text and "A fingerprint is a code worked out from a file." in confirmation.text
    )
    receipt = reporter.get("/report/sent/print").text
    assert _fingerprints(receipt) == [received, stored] and "File 1" in receipt and "screenshot.png" not in receipt

    post(reporter, "/follow-up/", {"code": code})  # a file added later, with a message
    followup = post(
        reporter,
        "/follow-up/report",
        {"body": "Another screenshot.", "file": (io.BytesIO(later), "later.png")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    later_shown = _fingerprints(followup.text)
    assert len(later_shown) == 2 and later_shown[0] == hashlib.sha256(later).hexdigest()

    link = _officer_on_the_referral(client)
    files = _evidence_section(client.get(link).text)
    assert "SHA-256 as received" in files and "SHA-256 as stored" in files
    assert _fingerprints(files) == [received, stored, *later_shown]
    ids = db.session.scalars(sa.select(Attachment.id).order_by(Attachment.id)).all()
    downloads = [client.get(f"{link}/files/{i}/download").data for i in ids]
    assert [hashlib.sha256(d).hexdigest() for d in downloads] == [stored, later_shown[1]]

    dump = _database_bytes(app)  # sealed with the file, never in clear
    for fingerprint in (received, stored, *later_shown):
        assert fingerprint.encode() not in dump and fingerprint not in caplog.text


def test_a_fingerprint_not_recorded_or_not_a_sha256_is_not_shown(client, app):
    _police_officer()
    reporter = IsolatedClient(app, app.response_class)
    answer_with_files(reporter, [("older.png", _png(4, 4)), ("forged.png", _png(5, 5))])
    _, _, code = submit(reporter)
    opened = intake.open_with_receipt(code)
    older, forged = db.session.scalars(sa.select(Attachment).order_by(Attachment.id)).all()
    # As metadata from before fingerprints were kept, and as a database writer with the key might forge it.
    metas = {
        older.id: {"filename": "older.png", "content_type": "image/png"},
        forged.id: {
            "filename": "forged.png",
            "content_type": "image/png",
            "received_sha256": "A" * 64,
            "stored_sha256": "<b>" + "a" * 61,
        },
    }
    for attachment in (older, forged):
        place = intake.attachment_place(attachment)
        meta = json.dumps(metas[attachment.id]).encode()
        attachment.sealed_meta = vault.seal(opened.data_key, meta, table="attachment", row_id=place, field="meta")
    db.session.commit()

    files = _evidence_section(client.get(_officer_on_the_referral(client)).text)
    assert "older.png" in files and "forged.png" in files
    assert files.count("Not recorded") == 4 and _fingerprints(files) == []
    assert "A" * 64 not in files and "a" * 61 not in files
