"""The easy-read way in, and other ways to report: phone, text relay, email and
the reporting centres, listed from the database."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from mantra.domain import accounts
from mantra.extensions import db
from mantra.models import AuditEvent, Partner, PartnerKind, StaffRole

from .browser_support import assert_no_axe_violations, assert_no_console_errors, enrol_in_browser
from .factories import make_partners, make_user
from .journey import answer_all, submit
from .test_admin_organisations import _as_shown, _send, admin  # noqa: F401  (admin is a fixture)
from .test_public_pages_browser import assert_exit_link_before_main

EASY_READ_LINK = "Easy read: this page in short sentences with pictures"
PICTURES = ".mantra-easy-read__picture"


def _other_ways(html: str) -> str:
    """The 'Other ways to report' part of a page: from its heading to the next one of its level, or the end."""
    start = html.index('id="other-ways"')
    end = html.find("<h2", start)
    return html[start : end if end != -1 else len(html)]


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def _add_centres():
    """A centre with public details and a closed one, beside make_partners' centre that has none."""
    accounts.create_partner(
        "centre-cowley",
        "Cowley Road Mosque reporting centre",
        PartnerKind.CENTRE,
        public_address="12 Example Road\nOxford OX4 9ZZ",
        public_phone="01632 960 321",
        opening_hours="Fridays, 2pm to 6pm",
    )
    accounts.create_partner(
        "centre-closed", "Closed reporting centre", PartnerKind.CENTRE, active=False, public_phone="01632 960 999"
    )
    db.session.commit()


def _assert_centres_from_the_database(html: str) -> None:
    ways = _other_ways(html)
    assert "A reporting centre near you" in ways
    assert "Cowley Road Mosque reporting centre" in ways
    assert "12 Example Road\nOxford OX4 9ZZ" in ways and "01632 960 321" in ways and "Fridays, 2pm to 6pm" in ways
    assert "Central Library centre" in ways  # no details yet: listed by name
    assert ways.index("Central Library centre") < ways.index("Cowley Road Mosque")  # by name
    assert "Closed reporting centre" not in html and "01632 960 999" not in html
    assert "Thames Valley Police" not in ways  # an agency is not a place to report in person


def _images_loaded(page) -> list:
    return page.eval_on_selector_all(PICTURES, "imgs => imgs.map(i => i.complete && i.naturalWidth)")


def test_the_easy_read_page_is_linked_from_the_start_page_shows_its_pictures_and_starts_a_report(
    page, console_errors, live_server
):
    make_partners()
    page.goto(live_server.url + "/")
    page.get_by_role("link", name=EASY_READ_LINK).click()
    page.wait_for_load_state("load")
    assert page.url == live_server.url + "/easy-read"
    assert page.get_by_role("heading", level=1).inner_text() == "Report a hate crime: easy read"
    loaded = _images_loaded(page)
    assert len(loaded) >= 10 and all(width and width > 0 for width in loaded), loaded
    # Pictures that only repeat the words are decorative; the receipt code's shows what one looks like.
    alts = page.eval_on_selector_all(PICTURES, "imgs => imgs.map(i => i.getAttribute('alt'))")
    assert alts.count("") == len(alts) - 1 and any(alt.startswith("A receipt code") for alt in alts)
    assert "If you are in danger now, call 999." in page.content()
    assert_exit_link_before_main(page)
    page.get_by_role("button", name="Start now").click()
    page.wait_for_load_state("load")
    assert page.url == live_server.url + "/report/who"
    assert_no_console_errors(console_errors)


@pytest.mark.parametrize("lang", ["en", "pl"])
@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_the_easy_read_page_passes_axe_in_each_language_with_and_without_javascript(request, live_server, js, lang):
    make_partners()
    page = request.getfixturevalue("page" if js else "page_no_js")
    page.goto(f"{live_server.url}/language/{lang}?next=/easy-read")
    assert page.url == live_server.url + "/easy-read"
    assert page.get_attribute("html", "lang") == lang
    assert all(width and width > 0 for width in _images_loaded(page))
    assert page.locator(".govuk-button--start").get_attribute("href") == "/report/who?new=1"
    assert_exit_link_before_main(page)
    assert_no_axe_violations(page)


def test_the_start_and_confirmation_pages_list_the_active_centres_from_the_database(client):
    make_partners(police_rule=True)
    _add_centres()
    start = client.get("/").text
    _assert_centres_from_the_database(start)
    assert "/easy-read" in start
    answer_all(client)
    confirmation, _reference, code = submit(client)
    assert code
    _assert_centres_from_the_database(confirmation.text)
    _assert_centres_from_the_database(client.get("/easy-read").text)


def test_other_ways_give_the_phone_text_relay_and_email_and_leave_out_what_is_not_set(app, client):
    made, _ = make_partners()
    ways = _text(_other_ways(client.get("/").text))
    phone = app.config["CONTACT_PHONE"]
    assert f"Phone: {phone}" in ways and f"18001 {phone}" in ways and app.config["CONTACT_EMAIL"] in ways
    made["centre-library"][0].active = False
    db.session.commit()
    app.config.update(TEXT_RELAY="", CONTACT_EMAIL="")
    ways = _other_ways(client.get("/").text)
    assert f"Phone: {phone}" in _text(ways)
    assert "Text relay" not in ways and "mailto:" not in ways
    assert "A reporting centre near you" not in ways  # no centre: the list is left out
    assert "text relay" not in client.get("/easy-read").text


def test_an_administrator_edits_a_centres_public_details(client, admin):  # noqa: F811
    made, _, _ = admin
    centre = made["centre-library"][0]
    path = f"/admin/partners/{centre.id}"
    page = client.get(path).text
    assert "Details for the public" in page and 'name="public_phone"' in page
    details = {
        "public_address": "Westgate\r\nOxford OX1 1AA",
        "public_phone": "01632 960 444",
        "opening_hours": "Monday to Saturday, 9am to 5pm",
    }
    too_long = _send(client, path, _as_shown(centre, **{**details, "public_phone": "0" * 41}))
    assert too_long.status_code == 200 and "The phone number must be 40 characters or fewer" in too_long.text
    assert _send(client, path, _as_shown(centre, **details)).status_code == 302
    db.session.refresh(centre)
    assert (centre.public_address, centre.public_phone, centre.opening_hours) == (
        "Westgate\r\nOxford OX1 1AA",
        "01632 960 444",
        "Monday to Saturday, 9am to 5pm",
    )
    edited = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "partner.edited").order_by(AuditEvent.id)
    ).all()
    assert sorted(edited[-1].detail["changed"]) == ["opening_hours", "public_address", "public_phone"]
    assert "01632 960 444" in _other_ways(client.get("/").text)
    # The form as it comes back is filled from the row; emptied, the details are gone.
    page = client.get(path).text
    assert re.search(r'name="public_phone"[^>]*value="01632 960 444"', page)
    empty = dict.fromkeys(details, "")
    assert _send(client, path, _as_shown(centre, **empty)).status_code == 302
    db.session.refresh(centre)
    assert centre.public_address is None and centre.public_phone is None and centre.opening_hours is None
    # An agency is not listed on the public pages, so it has no such details to edit.
    agency = client.get(f"/admin/partners/{made['victim-support'][0].id}").text
    assert "Details for the public" not in agency and 'name="public_phone"' not in agency
    assert db.session.scalar(sa.select(Partner.public_phone).where(Partner.slug == "victim-support")) is None


def test_an_administrator_fills_in_a_centres_details_in_the_browser_and_people_see_them(page, live_server):
    made, _ = make_partners()
    make_user(made["victim-support"][0], "admin@partnership.example", "a long staff password", StaffRole.ADMIN)
    base = live_server.url
    centre = made["centre-library"][0]
    enrol_in_browser(page, base, "admin@partnership.example", "a long staff password", f"/admin/partners/{centre.id}")
    page.get_by_label("Address (optional)", exact=True).fill("Westgate\nOxford OX1 1AA")
    page.get_by_label("Phone number (optional)", exact=True).fill("01632 960 444")
    page.get_by_label("Opening hours (optional)").fill("Monday to Saturday, 9am to 5pm")
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_load_state("load")
    assert page.url == base + "/admin/partners"
    page.goto(base + "/")
    centres = page.locator(".mantra-centres")
    assert "Westgate\nOxford OX1 1AA" in centres.inner_text()
    assert "Phone: 01632 960 444" in centres.inner_text()
