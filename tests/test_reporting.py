"""The public reporting journey through the test client: every page, every error path."""

from __future__ import annotations

import io
import json
import re
import time
from datetime import timedelta

import pikepdf
import pytest
import sqlalchemy as sa
from PIL import Image

from mantra.domain import intake
from mantra.extensions import db
from mantra.models import Channel, Draft, DraftFile, Report, ReporterRole, utcnow

from .factories import make_partners, stored_file
from .journey import (
    ANSWERS,
    answer_all,
    answer_until,
    cookie_payload,
    csrf,
    errors,
    opened_draft,
    post,
    receipt_code,
    send_token,
    submit,
)


@pytest.fixture
def partners(app):
    return make_partners(police_rule=True)[0]


def test_an_anonymous_victim_reports_and_gets_a_reference_and_receipt_code(client, partners):
    answer_all(client)
    check = client.get("/report/check")
    assert "A man shouted abuse at me about my religion." in check.text
    assert "Thames Valley Police" in check.text and "Victim Support" not in check.text
    response, reference, code = submit(client)
    assert reference and code and len(code) == 24
    report = db.session.scalar(sa.select(Report).where(Report.reference == reference))
    assert report.channel == Channel.ONLINE_SELF and report.reporter_role == ReporterRole.VICTIM
    assert sorted(s.strand.value for s in report.strands) == ["race", "religion"]
    assert report.consent_police and report.incident_month.month == 11
    # The code opens what was typed; the code itself is in no cookie or header.
    opened = intake.open_with_receipt(code)
    assert opened.content("account")["narrative"] == "A man shouted abuse at me about my religion."
    assert opened.content("contact")["name"] is None
    cookie = cookie_payload(client.get_cookie("__Host-mantra_session").value)
    assert b'"draft"' in cookie  # the decoded cookie is what is searched
    for form in (code, code.replace("-", "")):
        assert form not in str(response.headers) and form.encode() not in cookie


def test_sending_twice_shows_the_same_confirmation_and_makes_one_report(client, partners):
    answer_all(client)
    page = client.get("/report/check").text
    form = {"csrf_token": csrf(page), "send_token": send_token(page)}
    first = client.post("/report/check", data=form, follow_redirects=True)
    # The browser sends the same form again (double click, retry on a bad connection).
    second = client.post("/report/check", data=form, follow_redirects=True)
    code = receipt_code(first.text)
    assert second.status_code == 200 and receipt_code(second.text) == code
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1
    # The draft now holds the reference and code only (to show them again, with the
    # fingerprints of any files), no answer and no file.
    held = opened_draft(client)["sent"]
    assert held.pop("until")
    assert held == {
        "reference": reference_of(first.text),
        "code": code,
        "may_contact": False,
        "news": False,
        "token": form["send_token"],
        "files": [],
    }
    assert not db.session.scalar(sa.select(DraftFile.id))


def test_the_receipt_code_is_shown_again_until_the_person_says_they_saved_it(client, partners):
    """Back, a language switch, a footer link, the start page: the code is not
    lost. 'I have saved my receipt code' ends it, and a new report starts empty."""
    answer_all(client)
    _, reference, code = submit(client)
    back = client.get("/report/check")
    assert back.headers["Location"] == "/report/sent"
    assert client.get("/report/what").headers["Location"] == "/report/sent"
    client.get("/privacy")
    switched = client.get("/language/pl?next=/report/sent", follow_redirects=True)
    assert receipt_code(switched.text) == code and "Wyślij" not in switched.text and 'lang="pl"' in switched.text
    client.get("/language/en?next=/")
    start = client.get("/")
    assert "Show your receipt code" in start.text and receipt_code(start.text) is None
    printed = client.get("/report/sent/print").text
    assert receipt_code(printed) == code and reference in printed and "/follow-up/" in printed
    page = client.get("/report/sent").text
    done = client.post("/report/sent/saved", data={"csrf_token": csrf(page)}, follow_redirects=True)
    assert "no longer shown on this device" in done.text and receipt_code(done.text) is None
    gone = client.get("/report/sent", follow_redirects=True)
    assert receipt_code(gone.text) is None and "30 minutes" in gone.text
    assert client.get("/report/what").headers["Location"].endswith("/report/who")


def test_the_receipt_code_is_not_shown_after_its_time(client, partners):
    answer_all(client)
    _, _, code = submit(client)
    held = opened_draft(client)
    db.session.execute(sa.update(Draft).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert held["sent"]["code"] == code
    page = client.get("/report/sent", follow_redirects=True)
    assert receipt_code(page.text) is None and "only on the device that sent it" in page.text


def reference_of(html: str) -> str:
    return re.search(r"<strong>(HC-[A-Z0-9-]+)</strong>", html).group(1)


def test_a_named_witness_gives_contact_details_that_are_sealed(client, partners):
    answer_all(
        client,
        who={"who": "witness"},
        contact={
            "may_contact": "yes",
            "email": "Sam@Example.org",
            "phone": "07700 900982",
            "safe_times": "after 6pm",
            "language": "Urdu",
        },
        about={"name": "Sam Witness", "ethnicity": "asian"},
    )
    _, reference, code = submit(client)
    report = db.session.scalar(sa.select(Report).where(Report.reference == reference))
    assert report.reporter_role == ReporterRole.WITNESS and report.may_contact
    contact = intake.open_with_receipt(code).content("contact")
    assert contact["name"] == "Sam Witness" and contact["email"] == "Sam@example.org"
    assert intake.open_with_receipt(code).content("monitoring")["ethnicity"] == "asian"


def test_check_your_answers_says_not_given_and_names_each_persons_role(client, partners):
    answer_all(client, people={"role": "witness", "description": "A bus driver", "continue": "1"})
    check = client.get("/report/check").text
    assert "A witness: A bus driver" in check
    assert "Select an answer" not in check and "Not given" in check


def test_someone_reporting_for_another_is_asked_about_that_person(client, partners):
    answer_until(client, "situation")
    assert "Are you a student?" in client.get("/report/situation").text
    post(client, "/report/who", {"who": "witness"})
    page = client.get("/report/situation").text
    assert "Is the person it happened to a student?" in page and "Are you a student?" not in page


def test_reporting_for_someone_else_is_an_on_behalf_report(client, partners):
    answer_all(client, who={"who": "on_behalf"})
    _, reference, _ = submit(client)
    report = db.session.scalar(sa.select(Report).where(Report.reference == reference))
    assert report.channel == Channel.ONLINE_ON_BEHALF and report.reporter_role == ReporterRole.ON_BEHALF


def test_without_police_consent_the_police_are_not_listed_and_not_chosen(client, partners):
    answer_all(client, sharing={"consent_police": "no", "consent_partners": "no"})
    check = client.get("/report/check")
    assert "Thames Valley Police" not in check.text
    assert "the police will not see it" in check.text and "Victim Support" in check.text


@pytest.mark.parametrize(
    "step, data, message",
    [
        ("who", {}, "Select who you are reporting as"),
        ("what", {}, "Select what happened"),
        ("why", {}, "Select why you think it happened"),
        ("when", {"still_happening": "no"}, "Enter the month and year it happened"),
        ("where", {}, "Select where it happened"),
        ("account", {"narrative": "   "}, "Tell us what happened"),
        ("sharing", {"consent_police": "yes"}, "Select yes if we can share your report with other organisations"),
        ("situation", {"student": "no"}, "Select if you rent your home from the council"),
        ("contact", {}, "Select yes if we can contact you"),
    ],
)
def test_an_empty_required_answer_gets_a_clear_message_beside_the_field(client, partners, step, data, message):
    answer_until(client, step)
    response = post(client, f"/report/{step}", data)
    assert response.status_code == 200
    assert any(message in e for e in errors(response.text)), errors(response.text)
    assert "There is a problem" in response.text and response.text.count(message) >= 2  # summary and field
    assert "<title>Error:" in response.text


@pytest.mark.parametrize(
    "step, data, message, kept",
    [
        ("what", {"kinds": ["verbal_abuse", "<script>alert(1)</script>"]}, "Select what happened", None),
        (
            "when",
            {"day": "31", "month": "2", "year": "2026", "still_happening": "no"},
            "Enter a real day for that month",
            "31",
        ),
        ("when", {"day": "1", "month": "1", "year": "2999", "still_happening": "no"}, "today or in the past", "2999"),
        (
            "when",
            {"day": "x", "month": "January", "year": "26", "still_happening": "maybe"},
            "Enter the date in numbers",
            "January",
        ),
        ("when", {"month": "13", "year": "2026", "still_happening": "no"}, "Enter a month from 1 to 12", "13"),
        (
            "when",
            {"day": "0", "month": "3", "year": "2026", "still_happening": "no"},
            "Enter a real day for that month",
            None,
        ),
        (
            "when",
            {"day": "9" * 20, "month": "3", "year": "9" * 5000, "still_happening": "no"},
            "Enter the date in numbers",
            None,
        ),
        ("when", {"month": "3", "year": "10000", "still_happening": "no"}, "Enter the date in numbers", "10000"),
        ("when", {"month": "3", "year": "2999", "still_happening": "no"}, "today or in the past", "2999"),
        ("when", {"month": "3", "year": "", "still_happening": "no"}, "Enter the year it happened", None),
        ("when", {"month": "3", "year": "26", "still_happening": "no"}, "Year must include 4 numbers", None),
        ("why", {"strands": ["race", "not_sure"]}, "or select ‘Not sure’, not both", None),
        ("where", {"where": "oxford"}, "Select the part of Oxford", None),
        ("account", {"narrative": "é" * 10001}, "What happened must be 10,000 characters or fewer", "é" * 10001),
        (
            "contact",
            {"may_contact": "yes", "email": "not-an-email"},
            "Enter an email address in the correct format",
            "not-an-email",
        ),
        ("contact", {"may_contact": "yes", "phone": "call me"}, "Enter a phone number", "call me"),
        ("contact", {"may_contact": "yes"}, "Enter an email address or phone number", None),
        (
            "contact",
            {"may_contact": "yes", "methods": ["email"], "phone": "07700 900982"},
            "Enter an email address, or do not select email",
            "07700 900982",
        ),
        (
            "contact",
            {"may_contact": "yes", "methods": ["pigeon"], "email": "a@b.org"},
            "Select from the options shown",
            None,
        ),
    ],
)
def test_bad_input_keeps_what_was_typed_and_never_500s(client, partners, step, data, message, kept):
    answer_until(client, step)
    response = post(client, f"/report/{step}", data)
    assert response.status_code == 200
    assert any(message in e for e in errors(response.text)), errors(response.text)
    if kept:
        assert kept in response.text
    assert "<script>alert(1)</script>" not in response.text


def test_dates_in_other_digit_forms_are_understood_and_stored_plainly(client, partners):
    answer_until(client, "when")
    response = post(client, "/report/when", {"day": "０３", "month": "３", "year": "２０２６", "still_happening": "no"})
    assert response.status_code == 302, errors(response.text)
    page = client.get("/report/when").text
    assert 'value="3"' in page and 'value="2026"' in page


def test_a_date_error_links_to_and_marks_only_the_wrong_part(client, partners):
    answer_until(client, "when")
    response = post(client, "/report/when", {"day": "31", "month": "2", "year": "2026", "still_happening": "no"})
    assert 'href="#day"' in response.text
    assert re.search(r'id="day"[^>]*govuk-input--error|govuk-input--error[^>]*id="day"', response.text)
    assert not re.search(r'class="[^"]*govuk-input--error[^"]*"[^>]*id="month"', response.text)
    assert not re.search(r'id="month"[^>]*class="[^"]*govuk-input--error', response.text)
    year = post(client, "/report/when", {"month": "3", "year": "1900", "still_happening": "no"})
    assert 'href="#year"' in year.text and "Enter a year after 1990" in year.text


def test_script_tags_and_odd_unicode_are_stored_as_text_and_shown_escaped(client, partners):
    narrative = "<script>alert('x')</script> Zalgo z\u0335\u0301 RTL \u202eevil\u202c null\x00 emoji 🏳️‍🌈"
    answer_all(client, account={"narrative": narrative})
    check = client.get("/report/check")
    assert "<script>alert" not in check.text and "&lt;script&gt;alert" in check.text
    _, _, code = submit(client)
    stored = intake.open_with_receipt(code).content("account")["narrative"]
    assert "\x00" not in stored and "\u202e" not in stored and "🏳️‍🌈" in stored and "<script>" in stored


def test_jumping_ahead_goes_back_to_the_first_unanswered_question(client, partners):
    post(client, "/report/who", {"who": "victim"})
    response = client.get("/report/account")
    assert response.status_code == 302 and response.headers["Location"].endswith("/report/what")
    assert client.get("/report/nonsense").status_code == 404
    assert client.get("/report/check").headers["Location"].endswith("/report/what")


def test_change_links_return_to_check_your_answers(client, partners):
    answer_all(client)
    page = client.get("/report/where?change=1")
    response = client.post(
        "/report/where?change=1",
        data={"where": "oxford", "area": "cowley", "place": "near the library", "csrf_token": csrf(page.text)},
    )
    assert response.headers["Location"].endswith("/report/check")
    assert "near the library" in client.get("/report/check").text


def test_people_involved_can_be_added_and_removed(client, partners):
    answer_until(client, "people")
    post(client, "/report/people", {"role": "responsible", "description": "Tall, red jacket", "add": "1"})
    post(client, "/report/people", {"role": "witness", "description": "A shop owner", "add": "1"})
    page = client.get("/report/people")
    assert "Tall, red jacket" in page.text and "A shop owner" in page.text
    # Enter in a field sends the form with its first button: no button there removes anyone.
    post(client, "/report/people", {"remove": "0", "continue": "1"})
    assert "Tall, red jacket" in client.get("/report/people").text
    confirm = client.get("/report/people/remove/1")
    assert "Are you sure you want to remove person 1?" in confirm.text and "Tall, red jacket" in confirm.text
    entry = re.search(r'name="entry" value="([0-9a-f]+)"', confirm.text).group(1)
    form = {"csrf_token": csrf(confirm.text), "entry": entry}
    removed = client.post("/report/people/remove/1", data=form, follow_redirects=True)
    assert "Person 1 (Someone responsible) has been removed." in removed.text
    assert "Tall, red jacket" not in removed.text and "A shop owner" in removed.text
    client.post("/report/people/remove/1", data=form)  # the same form again (a retry) removes nobody else
    assert "A shop owner" in client.get("/report/people").text
    missing = post(client, "/report/people", {"role": "witness", "description": "", "add": "1"})
    assert any("Describe the person" in e for e in errors(missing.text))


def test_continue_with_a_person_described_but_not_added_keeps_them(client, partners):
    answer_until(client, "people")
    response = post(
        client, "/report/people", {"role": "responsible", "description": "Man in a blue cap", "continue": "1"}
    )
    assert response.headers["Location"].endswith("/report/evidence")
    assert "Man in a blue cap" in client.get("/report/people").text
    unclear = post(client, "/report/people", {"description": "Someone else", "continue": "1"})
    assert unclear.status_code == 200 and any("Select who this person is" in e for e in errors(unclear.text))
    assert "Someone else" in unclear.text


def test_continue_with_a_file_chosen_but_not_uploaded_keeps_it(client, partners):
    answer_until(client, "evidence")
    page = client.get("/report/evidence")
    response = client.post(
        "/report/evidence",
        data={"csrf_token": csrf(page.text), "continue": "1", "file": (io.BytesIO(_png_with_gps()), "chosen.jpg")},
        content_type="multipart/form-data",
    )
    assert response.headers["Location"].endswith("/report/sharing")
    assert "chosen.jpg" in client.get("/report/evidence").text


def _png_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (51.0, 45.0, 0.0), 3: "W", 4: (1.0, 15.0, 0.0)}  # GPS: Oxford
    exif[0x010F] = "SecretPhoneMaker"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def _upload(client, name: str, data: bytes):
    page = client.get("/report/evidence")
    return client.post(
        "/report/evidence",
        data={"csrf_token": csrf(page.text), "add": "1", "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _to_evidence(client):
    answer_until(client, "evidence")


def test_a_photo_is_stored_without_its_location_metadata(client, partners):
    _to_evidence(client)
    original = _png_with_gps()
    assert b"SecretPhoneMaker" in original
    response = _upload(client, "photo.jpg", original)
    assert response.status_code == 302
    assert "photo.jpg" in client.get("/report/evidence").text
    # In the draft, sealed: nothing readable in the table.
    assert b"SecretPhoneMaker" not in db.session.scalar(sa.select(DraftFile.sealed_body))
    for step in ["evidence", "sharing", "situation", "contact", "about"]:
        post(client, f"/report/{step}", ANSWERS[step])
    _, _, code = submit(client)
    body = stored_file(code)
    assert b"SecretPhoneMaker" not in body and Image.open(io.BytesIO(body)).getexif().get(0x8825) is None
    assert Image.open(io.BytesIO(body)).size == (40, 30)


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("script.png", b"#!/bin/sh\nrm -rf /\n<script>alert(1)</script>", "must be a JPEG, PNG, GIF, WebP or PDF"),
        ("page.html.pdf", b"<html><script>alert(1)</script></html>", "must be a JPEG, PNG, GIF, WebP or PDF"),
        (
            "polyglot.pdf",
            b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n%%EOF\n",
            "damaged or incomplete",
        ),
        (
            "html-polyglot.pdf",
            b"%PDF-1.4\n<html><body><script>alert(1)</script></body></html>\n%%EOF",
            "damaged or incomplete",
        ),
        ("truncated.pdf", b"%PDF-1.4\n1 0 obj\n", "damaged or incomplete"),
        (
            "escaped.pdf",
            b"%PDF-1.4\n1 0 obj << /Open#41ction << /S /J#61vaScript /J#53 (x) >> >> endobj\n%%EOF",
            "damaged or incomplete",
        ),
        (
            "iframe.pdf",
            b"%PDF-1.4\n<iframe srcdoc='x'></iframe><img src=x onerror=alert(1)>\n%%EOF",
            "damaged or incomplete",
        ),
        (
            "hidden.pdf",
            b"%PDF-1.5\n4 0 obj << /Type /ObjStm /Filter /FlateDecode >>\nstream\n"
            + __import__("zlib").compress(b"<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>")
            + b"\nendstream\n%%EOF",
            "damaged or incomplete",
        ),
        ("locked.pdf", b"%PDF-1.4\ntrailer << /Encrypt 5 0 R >>\n%%EOF", "damaged or incomplete"),
        (
            "twice.pdf",
            b"%PDF-1.5\n4 0 obj << /Type /ObjStm /Filter [/FlateDecode /FlateDecode] >>\nstream\n"
            + __import__("zlib").compress(__import__("zlib").compress(b"/JavaScript"))
            + b"\nendstream\nendobj\n%%EOF",
            "damaged or incomplete",
        ),
        ("empty.png", b"", "The selected file is empty"),
        ("svg.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "must be a JPEG"),
    ],
)
def test_disguised_or_dangerous_uploads_are_refused_beside_the_field(client, partners, name, data, message):
    _to_evidence(client)
    response = _upload(client, name, data)
    assert response.status_code == 200
    assert any(message in e for e in errors(response.text)), errors(response.text)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DraftFile)) == 0


def _ordinary_pdfs():
    pdf = io.BytesIO()
    Image.new("RGB", (60, 40), "green").save(pdf, "PDF")
    yield "pillow.pdf", pdf.getvalue()
    # As LibreOffice writes them: open at page 1 (an OpenAction that runs nothing),
    # and stream bytes that happen to look like tags or names.
    office = pikepdf.new()
    office.add_blank_page()
    office.Root.OpenAction = pikepdf.Array([office.pages[0].obj, pikepdf.Name.XYZ, None, None, 0])
    office.pages[0].Contents = office.make_stream(b"% <a /JS <script /Launch\n")
    out = io.BytesIO()
    office.save(out)
    yield "office.pdf", out.getvalue()


@pytest.mark.parametrize("name, data", list(_ordinary_pdfs()))
def test_ordinary_pdfs_are_accepted(client, partners, name, data):
    _to_evidence(client)
    response = _upload(client, name, data)
    assert response.status_code == 302, errors(response.text)
    assert name in client.get("/report/evidence").text


def test_a_pdf_built_to_be_slow_to_check_is_refused_quickly(client, partners):
    """Many 'stream' keywords and no 'endstream': a backtracking check would take hours."""
    _to_evidence(client)
    started = time.monotonic()
    response = _upload(client, "slow.pdf", b"%PDF-1.4\n" + b"stream\nxx" * 100_000 + b"\n%%EOF")
    assert any("damaged or incomplete" in e for e in errors(response.text)) and time.monotonic() - started < 10


def test_a_file_over_10_mb_gets_a_message_and_an_oversized_request_a_plain_413(client, partners, app):
    _to_evidence(client)
    response = _upload(client, "big.jpg", b"\xff\xd8" + b"0" * (10 * 1024 * 1024 + 10))
    assert any("smaller than 10 MB" in e for e in errors(response.text))
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    huge = _upload(client, "huge.jpg", b"0" * (2 * 1024 * 1024))
    assert huge.status_code == 413 and "too large" in huge.text


def test_a_draft_is_sealed_on_the_server_and_the_cookie_holds_no_answer(client, partners):
    post(client, "/report/who", {"who": "victim"})
    post(client, "/report/what", {"kinds": ["graffiti"]})
    post(client, "/report/why", {"strands": ["disability"]})
    draft = db.session.scalar(sa.select(Draft))
    assert b"graffiti" not in draft.sealed_answers and b"disability" not in draft.sealed_answers
    cookie = client.get_cookie("__Host-mantra_session")
    assert cookie.secure and cookie.http_only and cookie.same_site == "Lax"
    raw = cookie_payload(cookie.value)
    assert b'"draft"' in raw  # the handle is there, and nothing else
    assert b"graffiti" not in raw and b"disability" not in raw and b"victim" not in raw


def test_exit_this_page_deletes_the_draft_and_leaves_for_a_neutral_site(client, partners, app):
    _to_evidence(client)
    _upload(client, "photo.jpg", _png_with_gps())
    response = client.get("/exit")
    assert response.status_code == 302 and response.headers["Location"] == app.config["NEUTRAL_EXIT_URL"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DraftFile)) == 0
    assert client.get("/report/what").headers["Location"].endswith("/report/who")


def test_an_expired_draft_is_forgotten_with_its_files(client, partners):
    from datetime import timedelta

    from mantra.models import utcnow

    _to_evidence(client)
    _upload(client, "first-persons-photo.jpg", _png_with_gps())
    first_id = db.session.scalar(sa.select(Draft.id))
    db.session.execute(sa.update(Draft).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    # Reading writes nothing: the browser lets go of the key, so the rows can never be opened again...
    assert client.get("/report/what").headers["Location"].endswith("/report/who")
    with client.session_transaction() as cookie_session:
        assert "draft" not in cookie_session
    # ...and the next answer saved (anyone's) deletes them, files included.
    _to_evidence(client)
    assert db.session.scalar(sa.select(Draft.id)) != first_id
    assert db.session.get(Draft, first_id) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DraftFile)) == 0
    assert "first-persons-photo" not in client.get("/report/evidence").text


def test_text_sent_after_the_draft_expired_is_kept(client, partners):
    from datetime import timedelta

    from mantra.models import utcnow

    answer_until(client, "account")
    page = client.get("/report/account")
    db.session.execute(sa.update(Draft).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    long_account = "What happened, written slowly over a long time. " * 20
    response = client.post("/report/account", data={"csrf_token": csrf(page.text), "narrative": long_account})
    assert response.headers["Location"].endswith("/report/who")
    assert "We kept what you just entered" in client.get("/report/who").text
    answer_until(client, "account")
    assert long_account.strip() in client.get("/report/account").text


def test_the_honeypot_stops_a_bot_without_losing_a_persons_answers(client, partners):
    answer_all(client)
    response = post(client, "/report/check", {"website": "http://spam.example"})
    assert response.status_code == 200 and "Leave this field blank" in response.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0
    _, reference, _ = submit(client)
    assert reference


def test_with_redis_down_the_person_still_gets_their_reference_and_receipt(pg_database_url, key_files, tmp_path):
    """Redis down from the start: the queue and the rate limiter's storage both unreachable."""
    from .conftest import IsolatedClient, build_app

    dead = "redis://127.0.0.1:1/0"
    app = build_app(pg_database_url, key_files, tmp_path, dead)
    app.test_client_class = IsolatedClient
    with app.app_context():
        make_partners()
        client = app.test_client()
        answer_all(client)
        _, reference, code = submit(client)
        assert reference and code
        assert db.session.scalar(sa.select(Report.status).where(Report.reference == reference)).value == "received"
        assert intake.open_with_receipt(code).report.reference == reference
        db.session.remove()
        db.engine.dispose()


def test_activity_renews_the_cookie_so_active_people_are_not_timed_out(client, partners):
    """The signed cookie is refused 2 hours after it was signed: activity signs
    it again (at most once a minute, to spare work on every request)."""
    import time

    post(client, "/report/who", {"who": "victim"})
    with client.session_transaction() as cookie_session:
        cookie_session["draft"] = {**cookie_session["draft"], "seen": time.time() - 61}
    response = client.get("/report/what")  # reading the next question is activity too
    assert "mantra_session=" in response.headers.get("Set-Cookie", "")
    again = post(client, "/report/what", {"kinds": ["graffiti"]})  # a minute has not passed since
    assert "mantra_session=" not in again.headers.get("Set-Cookie", "")


def test_after_saying_it_was_saved_a_resend_cannot_show_the_code_again(client, partners):
    answer_all(client)
    page = client.get("/report/check").text
    form = {"csrf_token": csrf(page), "send_token": send_token(page)}
    first = client.post("/report/check", data=form, follow_redirects=True)
    assert receipt_code(first.text)
    client.post("/report/sent/saved", data={"csrf_token": form["csrf_token"]})  # "I have saved my receipt code"
    again = client.post("/report/check", data=form, follow_redirects=True)
    assert receipt_code(again.text) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1


def test_a_copy_of_the_cookie_is_never_shown_the_receipt_code(client, partners, app):
    """Someone who copied the session cookie on a shared computer sends the
    form from their own browser while the code is held: without
    the one-time token of the person's own page they get no code."""
    from flask.testing import FlaskClient

    answer_all(client)
    page = client.get("/report/check").text
    copied = client.get_cookie("__Host-mantra_session").value
    first = client.post(
        "/report/check", data={"csrf_token": csrf(page), "send_token": send_token(page)}, follow_redirects=True
    )
    code = receipt_code(first.text)

    thief = FlaskClient(app, app.response_class)
    thief.set_cookie("__Host-mantra_session", copied)
    their_page = thief.get("/follow-up/").text  # any form gives them a CSRF token for this session
    for token in ("", "guess", send_token(page)[:-1] + "x"):
        stolen = thief.post(
            "/report/check",
            data={"csrf_token": csrf(their_page), "send_token": token},
            follow_redirects=True,
        )
        assert receipt_code(stolen.text) is None and code.replace("-", "") not in stolen.text
    for path in ("/report/sent", "/report/sent/print", "/"):
        assert receipt_code(thief.get(path, follow_redirects=True).text) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1


def test_a_draft_cookie_planted_on_a_shared_computer_reads_nothing_of_the_next_report(client, partners, app):
    """Someone answers one question, leaves their cookie in the browser (or
    plants it), and keeps a copy: the next person who starts a report gets a
    draft of their own, with a new id and key."""
    from flask.testing import FlaskClient

    planter = FlaskClient(app, app.response_class)
    post(planter, "/report/who", {"who": "witness"})
    planted = planter.get_cookie("__Host-mantra_session").value
    client.set_cookie("__Host-mantra_session", planted)

    start = client.get("/")
    assert "report in progress" in start.text and "Start a new report" in start.text
    assert client.get("/report/who?new=1").headers["Location"] == "/report/who"
    answer_all(client)
    _, reference, code = submit(client)
    assert reference and code
    assert opened_draft(planter) == {"who": "witness"}  # their own draft, nothing of the report
    assert opened_draft(client) != opened_draft(planter)


def test_the_start_page_offers_to_continue_a_report_in_progress(client, partners):
    start = client.get("/")
    assert "Start now" in start.text and "/report/who?new=1" in start.text
    post(client, "/report/who", {"who": "victim"})
    again = client.get("/")
    assert "Continue your report" in again.text and 'href="/report/what"' in again.text
    client.get("/report/who?new=1")
    assert "Start now" in client.get("/").text


def test_an_answer_sent_after_the_session_cookie_expired_is_shown_again_with_what_was_typed(client, partners):
    answer_until(client, "account")
    page = client.get("/report/account").text
    client.delete_cookie("__Host-mantra_session")  # the browser dropped it: 2 hours without a visit
    narrative = "They followed me off the bus and shouted at me.\n" * 30
    late = client.post("/report/account", data={"csrf_token": csrf(page), "narrative": narrative})
    assert late.status_code == 200
    assert "They followed me off the bus" in late.text and "this page was open for longer than that" in late.text
    # The page's own Continue now keeps it, and asks for the earlier answers again.
    kept = client.post("/report/account", data={"csrf_token": csrf(late.text), "narrative": narrative})
    assert kept.headers["Location"] == "/report/who" and opened_draft(client)["narrative"] == narrative.strip()


def test_question_pages_say_how_long_answers_are_kept(client, partners):
    post(client, "/report/who", {"who": "victim"})
    page = client.get("/report/what").text
    assert "we delete your answers after 2 hours without activity" in page and "Stay on this page" in page
    assert "2 hours" in client.get("/").text


@pytest.mark.parametrize(
    "number",
    ["01865 123456", "(01865) 123-456", "+44 (0)1865 123456", "0044 1865 123456", "07700-900-982", "+48 601 234 567"],
)
def test_phone_numbers_are_accepted_as_people_write_them(client, partners, number):
    answer_until(client, "contact")
    response = post(client, "/report/contact", {"may_contact": "yes", "phone": number, "methods": ["phone"]})
    assert response.status_code == 302, errors(response.text)
    assert opened_draft(client)["phone"] == number


def test_contact_details_count_only_under_yes_and_the_missing_details_error_links_to_the_email_field(client, partners):
    answer_until(client, "contact")
    page = client.get("/report/contact").text
    assert re.search(r'id="email"[^>]*type="email"|type="email"[^>]*id="email"', page)
    assert re.search(r'id="phone"[^>]*type="tel"|type="tel"[^>]*id="phone"', page)
    assert 'autocomplete="email"' in page and 'autocomplete="tel"' in page
    assert "govuk-radios__conditional" in page
    missing = post(client, "/report/contact", {"may_contact": "yes"})
    assert 'href="#email"' in missing.text and "Enter an email address or phone number" in missing.text
    # 'No', with details typed before changing the answer (even a wrong one): accepted, and dropped.
    no = post(client, "/report/contact", {"may_contact": "no", "email": "not-an-email", "phone": "07700 900982"})
    assert no.status_code == 302, errors(no.text)
    draft = opened_draft(client)
    assert draft["may_contact"] == "no" and draft["email"] is None and draft["phone"] is None


def test_a_news_address_without_contact_is_sealed_for_the_notify_worker_alone(client, partners):
    answer_all(client, contact={"may_contact": "no", "news": "yes", "news_email": "news@example.org"})
    _, reference, code = submit(client)
    opened = intake.open_with_receipt(code)
    assert opened.content("contact").get("email") is None
    assert "news@example.org" not in json.dumps(opened.content("contact"))
    report = db.session.scalar(sa.select(Report).where(Report.reference == reference))
    assert report.notify_wrap is not None


@pytest.mark.parametrize(
    "who,about_title,whose,situation_error,police_question",
    [
        (
            "victim",
            "About you",
            "Only the organisations that receive your report see your answers",
            "Select if you are a student",
            "Can we share your report with the police?",
        ),
        (
            "witness",
            "About you",
            "about you, the person making this report",
            "Select if the person it happened to is a student",
            "Can we share your report with the police?",
        ),
        (
            "on_behalf",
            "About the person it happened to",
            "answer only what they are happy to share",
            "Select if the person it happened to is a student",
            "Can we share this report with the police?",
        ),
    ],
)
def test_every_question_reads_right_for_who_is_reporting(
    client, partners, who, about_title, whose, situation_error, police_question
):
    answer_until(client, "sharing")
    post(client, "/report/who", {"who": who})
    assert police_question in client.get("/report/sharing").text
    post(client, "/report/sharing", ANSWERS["sharing"])
    missing = post(client, "/report/situation", {})
    assert situation_error in errors(missing.text)
    post(client, "/report/situation", ANSWERS["situation"])
    post(client, "/report/contact", ANSWERS["contact"])
    about = client.get("/report/about").text
    assert f'<h1 class="govuk-heading-l">{about_title}</h1>' in about and whose in about
    someone_else = who == "on_behalf"
    assert ("Their name" in about) is someone_else and (
        "Do they consider themselves disabled?" in about
    ) is someone_else
    post(client, "/report/about", {"name": "Ola"})
    check = client.get("/report/check").text
    assert ("Their name" in check) is someone_else


def test_where_offers_online_in_oxford_outside_and_not_known(client, partners):
    from mantra.models import Area, AreaKind

    db.session.add(Area(slug="online", name="Online", kind=AreaKind.ONLINE))
    db.session.commit()
    answer_until(client, "where")
    page = client.get("/report/where").text
    for choice in ("Online", "In Oxford", "Outside Oxford", "I do not know"):
        assert f">{choice}<" in page or f"> {choice}" in page or choice in page
    online = post(client, "/report/where", {"where": "online", "area": "cowley", "online_detail": "a forum"})
    assert online.status_code == 302 and opened_draft(client)["area"] == "online"  # the select is not used
    post(client, "/report/where", {"where": "not_known"})
    assert opened_draft(client)["area"] == "not_known"


def test_check_your_answers_is_grouped_with_change_links_to_each_question_and_dates_written_out(client, partners):
    answer_all(client)
    page = client.get("/report/check").text
    headings = re.findall(r'<h2 class="govuk-heading-m">([^<]+)</h2>', page)
    assert headings[:5] == [
        "What happened",
        "People, photos and documents",
        "Who can see it",
        "Situation and contact",
        "About you",
    ]
    assert "3 November 2026" in page
    assert 'href="/report/where?change=1#area"' in page and 'href="/report/when?change=1#day"' in page
    assert 'href="/report/contact?change=1#may_contact"' in page


@pytest.mark.parametrize("lang", ["en", "pl"])
def test_the_privacy_notice_gives_contact_details_lawful_basis_and_how_long_each_record_is_kept(client, app, lang):
    client.get(f"/language/{lang}")
    page = client.get("/privacy").text
    assert (
        app.config["CONTACT_EMAIL"] in page and app.config["DPO_EMAIL"] in page and app.config["CONTACT_PHONE"] in page
    )
    assert "6(1)(e)" in page or "6 ust. 1 lit. e" in page
    assert ("2 hours" in page) if lang == "en" else ("2 godz." in page)
    assert ("6 years" in page) if lang == "en" else ("6 lat" in page)
    statement = client.get("/accessibility").text
    assert ("Known issues" in statement) if lang == "en" else ("Znane problemy" in statement)
    assert app.config["CONTACT_EMAIL"] in statement
