"""The whole public journey in real headless Chromium, with JavaScript on and
off: axe-core on every page and every error state, then follow-up with the
receipt code, then a reporting centre's submission."""

from __future__ import annotations

import io
import re
import secrets

import pytest
import sqlalchemy as sa
from PIL import Image

from mantra.extensions import db
from mantra.models import Channel, Report, ReporterRole, StaffRole

from .browser_support import assert_no_axe_violations
from .factories import make_partners, make_user
from .test_storage import _database_bytes

CENTRE_PASSWORD = "library centre password"


@pytest.fixture
def seeded(app):
    made, _ = make_partners(police_rule=True)
    make_user(made["centre-library"][0], "centre@library.example", CENTRE_PASSWORD, StaffRole.CENTRE)
    db.session.commit()
    return made


def _continue(page, name="Continue"):
    """Press a button that sends the form, and wait for the answer page to load."""
    page.get_by_role("button", name=name, exact=True).click()
    page.wait_for_load_state("load")


def _error_state(page, expected: str):
    """Submit the page empty: the error summary and field message appear, and pass axe."""
    _continue(page)
    assert page.locator(".govuk-error-summary").is_visible()
    assert expected in page.locator(".govuk-error-summary").inner_text()
    assert page.title().startswith("Error:")
    assert_no_axe_violations(page)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(out, "JPEG")
    return out.getvalue()


def _report(page, base: str, marker: str, *, centre: bool = False, named: bool = False, who: str = "It happened to me"):
    """Answer every question, checking each page and each error state with axe."""
    page.goto(f"{base}/report/who")
    assert_no_axe_violations(page)
    if centre:  # centre staff are not asked who is reporting: straight to the person's agreement
        assert page.url.endswith("/report/centre-consent")
        _error_state(page, "Select yes if the person agreed")
        page.get_by_label("Yes, they agreed").check()
    else:
        _error_state(page, "Select who you are reporting as")
        page.get_by_label(who).check()
    _continue(page)

    assert_no_axe_violations(page)
    _error_state(page, "Select what happened")
    page.get_by_label("Verbal abuse or insults").check()
    page.get_by_label("Threats").check()
    _continue(page)

    assert_no_axe_violations(page)
    _error_state(page, "Select why you think it happened")
    page.get_by_label("Religion or beliefs").check()
    _continue(page)

    assert_no_axe_violations(page)
    _error_state(page, "Enter the month and year")
    page.get_by_label("Month").fill("10")
    page.get_by_label("Year").fill("2026")
    page.get_by_label("Evening").check()
    page.get_by_role("group", name="Is it still happening?").get_by_label("No", exact=True).check()
    _continue(page)

    assert_no_axe_violations(page)
    _error_state(page, "Select where it happened")
    page.get_by_label("In Oxford").check()
    page.get_by_label("Which part of Oxford?").select_option("cowley")
    page.get_by_label("Where exactly?").fill(f"Outside the shop {marker}-place")
    _continue(page)

    assert_no_axe_violations(page)
    _error_state(page, "Tell us what happened")
    page.get_by_label("What happened, in your own words?").fill(f"They shouted at me {marker}-narrative")
    _continue(page)

    assert_no_axe_violations(page)  # people involved
    _continue(page, "Add this person")
    assert_no_axe_violations(page)  # its error state
    page.get_by_label("Someone responsible").check()
    page.get_by_label("Describe them").fill(f"Tall man {marker}-person")
    _continue(page, "Add this person")
    assert f"{marker}-person" in page.content()
    assert_no_axe_violations(page)
    _continue(page)

    assert_no_axe_violations(page)  # evidence
    page.get_by_label("Upload a file").set_input_files(
        files=[{"name": "fake.png", "mimeType": "image/png", "buffer": b"<script>alert(1)</script>"}]
    )
    _continue(page, "Upload this file")
    assert "must be a JPEG, PNG, GIF, WebP or PDF" in page.content()
    assert_no_axe_violations(page)
    page.get_by_label("Upload a file").set_input_files(
        files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
    )
    _continue(page, "Upload this file")
    assert "photo.jpg" in page.content()
    _continue(page)

    assert_no_axe_violations(page)
    report = "this report" if centre else "your report"
    _error_state(page, f"Select yes if we can share {report} with the police")
    page.get_by_role("group", name=f"Can we share {report} with the police?").get_by_label("Yes", exact=True).check()
    page.get_by_role("group", name=f"Can we share {report} with other organisations that can help?").get_by_label(
        "Yes", exact=True
    ).check()
    _continue(page)

    assert_no_axe_violations(page)
    _error_state(
        page,
        "Select if you are a student"
        if who == "It happened to me" and not centre
        else "Select if the person it happened to is a student",
    )
    # Worded for the person it happened to when someone else reports.
    page.get_by_role("group", name=re.compile("student")).get_by_label("No", exact=True).check()
    page.get_by_role("group", name=re.compile("rent")).get_by_label("No", exact=True).check()
    _continue(page)

    assert_no_axe_violations(page)
    if centre:
        _error_state(page, "Select yes if the organisations can contact the person")
        group = page.get_by_role("group", name="Can the organisations contact the person about this report?")
    else:
        _error_state(page, "Select yes if we can contact you")
        group = page.get_by_role("group", name="Can we contact you about your report?")
    if named:
        group.get_by_label("Yes", exact=True).check()
        page.get_by_label("Email address (optional)").fill(f"{marker}@example.org")
        page.get_by_label("Email", exact=True).check()
    else:
        group.get_by_label("No", exact=True).check()
    _continue(page)

    assert_no_axe_violations(page)  # about you (all optional)
    if named:
        page.get_by_label("Your name").fill(f"Name {marker}")
    _continue(page)

    assert page.locator("h1").inner_text() == "Check your answers before sending your report"
    assert f"{marker}-narrative" in page.content() and "Thames Valley Police" in page.content()
    assert_no_axe_violations(page)
    _continue(page, "Send report")
    assert_no_axe_violations(page)
    code = page.locator("#receipt-code").inner_text()
    reference = page.locator(".govuk-panel__body strong").inner_text()
    return reference, code


@pytest.mark.parametrize("js", [True, False], ids=["js-on-anonymous-victim", "js-off-named-witness"])
def test_a_person_reports_then_follows_up_with_their_receipt_code(request, live_server, seeded, js):
    page = request.getfixturevalue("page" if js else "page_no_js")
    base = live_server.url
    marker = f"MK{secrets.token_hex(5)}"
    page.goto(base + "/")
    page.get_by_role("button", name="Start now").click() if js else page.get_by_text("Start now").click()
    who = "It happened to me" if js else "I saw it happen (a witness)"
    reference, code = _report(page, base, marker, named=not js, who=who)
    assert reference.startswith("HC-") and len(code) == 24

    report = db.session.scalar(sa.select(Report).where(Report.reference == reference))
    assert report.channel == Channel.ONLINE_SELF and report.may_contact is (not js)
    assert report.reporter_role == (ReporterRole.VICTIM if js else ReporterRole.WITNESS)

    page.goto(base + "/follow-up/")
    assert_no_axe_violations(page)
    page.get_by_label("Receipt code").fill("1111-2222-3333-4444-5555")
    _continue(page)
    assert "We could not find a report with that receipt code" in page.content()
    assert_no_axe_violations(page)
    page.get_by_label("Receipt code").fill(code)
    _continue(page)
    assert reference in page.content() and "Received" in page.content()
    assert_no_axe_violations(page)
    _continue(page, "Send")
    assert "Enter your message" in page.content()
    assert_no_axe_violations(page)
    page.get_by_label("Send a message or add information").fill(f"More details {marker}-message")
    _continue(page, "Send")
    assert f"{marker}-message" in page.content() and "Your message has been sent" in page.content()
    assert_no_axe_violations(page)

    dump = _database_bytes(live_server.app)
    for typed in ("narrative", "place", "person", "message"):
        assert f"{marker}-{typed}".encode() not in dump
    assert marker.encode() not in dump and marker.encode().hex().encode() not in dump


def test_reporting_centre_staff_sign_in_and_report_for_someone(live_server, seeded, page):
    base = live_server.url
    page.goto(base + "/centre/sign-in")
    assert_no_axe_violations(page)
    page.get_by_label("Email address").fill("centre@library.example")
    page.get_by_label("Password", exact=True).fill("not the password")
    _continue(page, "Sign in")
    assert "The email address or password is wrong" in page.content()
    assert_no_axe_violations(page)
    page.get_by_label("Password", exact=True).fill(CENTRE_PASSWORD)
    _continue(page, "Sign in")
    assert "Central Library centre" in page.content()
    assert_no_axe_violations(page)
    reference, _ = _report(page, base, f"MK{secrets.token_hex(5)}", centre=True)
    page.goto(base + "/centre/submissions")
    assert reference in page.content()
    assert_no_axe_violations(page)
    report = db.session.scalar(sa.select(Report).where(Report.reference == reference))
    assert report.channel == Channel.CENTRE
