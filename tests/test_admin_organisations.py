"""A system administrator looks after partners and areas through the pages:
deadlines, duty e-mails, the one default triage partner, new partners and
their keys, and the areas people choose from. Nobody else reaches them."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from mantra.domain import accounts, deadlines, pins
from mantra.extensions import db
from mantra.models import Area, AuditEvent, Partner, PartnerKind, StaffRole

from .conftest import IsolatedClient
from .factories import make_partners, make_user
from .journey import answer_until, csrf, errors
from .test_triage import PASSWORD, _enrol

ADMIN = "admin@partnership.example"


@pytest.fixture
def admin(app, client):
    """The demo partners (keys pinned), and a system administrator signed in with their authenticator."""
    made, area = make_partners()
    user = make_user(made["victim-support"][0], ADMIN, PASSWORD, StaffRole.ADMIN)
    _enrol(client, ADMIN)
    return made, area, user


def _partner(slug: str) -> Partner:
    return db.session.scalar(sa.select(Partner).where(Partner.slug == slug))


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _send(client, path: str, data: dict):
    """POST as the page's form would, with its CSRF token."""
    return client.post(path, data={"csrf_token": csrf(client.get(path).text), **data})


def _as_shown(partner: Partner, **changes) -> dict:
    """The edit form as it comes, filled from the row, with some answers changed."""
    shown = {
        "name": partner.name,
        "ack_sla_hours": str(partner.ack_sla_hours),
        "urgent_ack_sla_hours": str(partner.urgent_ack_sla_hours),
        "duty_email": partner.duty_email or "",
        "duty_lead_email": partner.duty_lead_email or "",
        "serves_students": "yes" if partner.serves_students else "no",
        "active": "yes" if partner.active else "no",
        "default_triage": "yes" if partner.is_default_triage else "no",
    }
    return {**shown, **changes}


def _row(page: str, row_id: str) -> str:
    return re.search(rf'<tr class="govuk-table__row" id="{row_id}">(.*?)</tr>', page, re.S).group(1)


def test_the_partner_list_says_whose_key_is_pinned_and_how_to_pin_the_others(client, admin):
    made, _, _ = admin
    accounts.create_partner("city-asb", "City Council ASB team", PartnerKind.AGENCY)
    police = made["tvp-oxford"][0]
    police.is_police = False  # the row no longer says what was pinned
    db.session.commit()

    assert "/admin/partners" in client.get("/admin/").text
    page = client.get("/admin/partners").text
    support = _row(page, "partner-victim-support")
    assert 'data-key="pinned"' in support and "Default triage partner" in support
    assert "1 working day / 2 hours when urgent" in support
    assert "duty@victim-support.example" in support
    fresh = _row(page, "partner-city-asb")
    assert 'data-key="not_pinned"' in fresh and "Not pinned" in fresh
    assert "flask mantra pins add city-asb" in fresh and "held" in fresh
    assert 'data-key="changed"' in _row(page, "partner-tvp-oxford")
    assert "Third-party reporting centre" in _row(page, "partner-centre-library")


def test_deadlines_typed_wrong_are_kept_and_refused_then_saved_and_used(client, admin):
    _, _, user = admin
    support = _partner("victim-support")
    path = f"/admin/partners/{support.id}"
    for typed, urgent, message in [
        ("abc", "2", "Enter the deadline as a whole number of hours, like 24"),
        ("0", "2", "The deadline must be between 1 and 240 hours"),
        ("241", "2", "The deadline must be between 1 and 240 hours"),
        ("", "2", "Enter the deadline in hours"),
        ("8", "12", "The deadline when it is still happening must be no longer than the acknowledgement deadline"),
    ]:
        refused = _send(client, path, _as_shown(support, ack_sla_hours=typed, urgent_ack_sla_hours=urgent))
        assert refused.status_code == 200 and message in errors(refused.text), typed
        assert f'value="{typed}"' in refused.text and f'value="{urgent}"' in refused.text  # kept as typed
        assert "There is a problem" in refused.text
    bad_email = _send(client, path, _as_shown(support, duty_lead_email="lead at victim support"))
    assert "Enter an email address in the correct format, like name@example.com" in errors(bad_email.text)
    assert 'value="lead at victim support"' in bad_email.text
    db.session.refresh(support)
    assert (support.ack_sla_hours, support.urgent_ack_sla_hours, support.duty_lead_email) == (24, 2, None)
    assert _events("partner.edited") == []

    saved = _send(
        client,
        path,
        _as_shown(support, ack_sla_hours="48", urgent_ack_sla_hours="3", duty_lead_email="Lead@VictimSupport.example"),
    )
    assert saved.status_code == 302 and saved.headers["Location"] == "/admin/partners"
    db.session.refresh(support)
    assert (support.ack_sla_hours, support.urgent_ack_sla_hours) == (48, 3)
    assert support.duty_lead_email == "Lead@victimsupport.example"  # the domain part normalised
    friday = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # GMT: London time is UTC
    assert deadlines.ack_due(support, friday, urgent=False) == datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    assert deadlines.ack_due(support, friday, urgent=True) == friday + timedelta(hours=3)
    listed = client.get("/admin/partners").text
    assert "The changes to Victim Support are saved." in listed
    assert "2 working days / 3 hours when urgent" in listed
    (event,) = _events("partner.edited")
    assert event.actor_id == user.id and event.partner_id == support.id
    assert set(event.detail["changed"]) == {"ack_sla_hours", "urgent_ack_sla_hours", "duty_lead_email"}


def test_there_is_always_exactly_one_default_triage_partner(client, admin):
    _, _, user = admin
    asb, _key = accounts.create_partner("city-asb", "City Council ASB team", PartnerKind.AGENCY)
    db.session.commit()
    support = _partner("victim-support")

    def defaults():
        db.session.expire_all()
        return list(db.session.scalars(sa.select(Partner.slug).where(Partner.is_default_triage)))

    page = client.get(f"/admin/partners/{support.id}").text
    assert "To hand this over, open the organisation that should take over" in page
    switched_off = _send(client, f"/admin/partners/{support.id}", _as_shown(support, default_triage="no"))
    assert "There must be a default triage partner: open the organisation that should take over and select yes" in (
        errors(switched_off.text)
    )
    made_inactive = _send(client, f"/admin/partners/{support.id}", _as_shown(support, active="no"))
    assert "The default triage partner must be active: choose another default triage partner first" in (
        errors(made_inactive.text)
    )
    inactive_default = _send(client, f"/admin/partners/{asb.id}", _as_shown(asb, default_triage="yes", active="no"))
    assert inactive_default.status_code == 200
    assert defaults() == ["victim-support"]

    assert "now Victim Support" in client.get(f"/admin/partners/{asb.id}").text
    moved = _send(client, f"/admin/partners/{asb.id}", _as_shown(asb, default_triage="yes"))
    assert moved.status_code == 302
    assert defaults() == ["city-asb"]
    changed = {e.partner_id: e.detail["changed"] for e in _events("partner.edited")}
    assert changed == {support.id: ["is_default_triage"], asb.id: ["is_default_triage"]}
    assert all(e.actor_id == user.id for e in _events("partner.edited"))
    # Now the old default may be made inactive.
    assert _send(client, f"/admin/partners/{support.id}", _as_shown(support, active="no")).status_code == 302

    # Neither the police (it would read reports without police consent) nor a centre can be chosen.
    for slug in ("tvp-oxford", "centre-library"):
        other = _partner(slug)
        page = client.get(f"/admin/partners/{other.id}").text
        assert 'name="default_triage"' not in page and "cannot be the default triage partner" in page
        _send(client, f"/admin/partners/{other.id}", _as_shown(other, default_triage="yes"))
    assert defaults() == ["city-asb"]


def test_slug_kind_and_police_are_not_editable_on_the_page(client, admin):
    police = _partner("tvp-oxford")
    page = client.get(f"/admin/partners/{police.id}").text
    assert 'name="slug"' not in page and 'name="is_police"' not in page and 'name="kind"' not in page
    assert "pinned on the worker" in page and pins.fingerprint(police.public_key) in page
    sneaky = _as_shown(police, slug="someone-else", is_police="no", kind="centre", name="TVP")
    del sneaky["default_triage"]
    assert _send(client, f"/admin/partners/{police.id}", sneaky).status_code == 302
    db.session.refresh(police)
    assert (police.name, police.slug, police.is_police, police.kind) == ("TVP", "tvp-oxford", True, "agency")


def test_adding_a_partner_makes_its_key_pair_and_shows_the_next_steps_but_never_its_private_key(
    client, admin, key_files
):
    _, _, user = admin
    added = _send(
        client,
        "/admin/partners/new",
        {"name": "East Oxford Community Centre", "slug": "east-oxford-centre", "kind": "centre", "is_police": "no"},
    )
    assert added.status_code == 302
    partner = _partner("east-oxford-centre")
    assert added.headers["Location"] == f"/admin/partners/{partner.id}/next-steps"
    assert partner.kind == PartnerKind.CENTRE and not partner.is_police and partner.active
    assert len(partner.public_key) > 1000 and partner.recovery_wrap  # the hybrid public key, and its recovery wrap
    private = accounts.partner_key_from_recovery(partner, key_files["recovery"])  # the offline key opens it
    assert private.public.raw == partner.public_key

    page = client.get(added.headers["Location"]).text
    assert pins.fingerprint(partner.public_key) in page
    assert "flask mantra pins add east-oxford-centre" in page
    assert "flask mantra recover --partner east-oxford-centre" in page and "--role centre" in page
    for form in (private.seed.hex(), base64.b64encode(private.seed).decode(), private.seed.hex().upper()):
        assert form not in page
    assert 'data-key="not_pinned"' in _row(client.get("/admin/partners").text, "partner-east-oxford-centre")
    event = _events("partner.created")[-1]
    assert (event.actor_id, event.partner_id) == (user.id, partner.id)

    pins.pin([partner])  # as `flask mantra pins add` does on a worker
    assert 'id="pin-done"' in client.get(added.headers["Location"]).text


def test_a_taken_or_malformed_short_name_is_refused_beside_the_field(client, admin):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Partner))
    new = {"name": "Another police", "slug": "tvp-oxford", "kind": "agency", "is_police": "yes"}
    for changes, field, message in [
        ({}, "slug", "Another partner already has this short name"),
        ({"slug": "New Partner!"}, "slug", "The short name must use only lowercase letters, numbers and hyphens"),
        ({"slug": "-start"}, "slug", "The short name must use only lowercase letters, numbers and hyphens"),
        ({"slug": "fine-one", "name": "victim support"}, "name", "Another partner already has this name"),
        ({"slug": "fine-one", "kind": "centre"}, "is_police", "A third-party reporting centre cannot be the police"),
        ({"slug": "fine-one", "kind": "club"}, "kind", "Select what kind of organisation it is"),
    ]:
        typed = {**new, **changes}
        refused = _send(client, "/admin/partners/new", typed)
        assert refused.status_code == 200, changes
        shown = re.search(rf'<p id="{field}-error" class="govuk-error-message">(.*?)</p>', refused.text, re.S)
        assert shown and message in shown.group(1), (changes, errors(refused.text))
        assert f'value="{typed["slug"]}"' in refused.text and f'value="{typed["name"]}"' in refused.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Partner)) == before
    assert [e for e in _events("partner.created") if e.actor_id is not None] == []


def _where_choices(app) -> list[tuple[str, str]]:
    """The parts of Oxford the public "where" question offers, in order."""
    reporter = IsolatedClient(app, app.response_class)
    answer_until(reporter, "where")
    page = reporter.get("/report/where").text
    select = re.search(r'<select[^>]*id="area".*?</select>', page, re.S).group(0)
    return [(v, t.strip()) for v, t in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select) if v]


def test_areas_added_renamed_and_moved_change_the_where_question(app, client, admin):
    _, cowley, user = admin
    for name, slug, kind in [
        ("Headington", "", "neighbourhood"),
        ("St Clement’s", "", "neighbourhood"),
        ("Online", "online", "online"),
    ]:
        added = _send(client, "/admin/areas/new", {"name": name, "slug": slug, "kind": kind})
        assert added.status_code == 302, errors(added.text)
    headington, clements = (
        db.session.scalar(sa.select(Area).where(Area.slug == s)) for s in ("headington", "st-clements")
    )
    assert clements.name == "St Clement’s"  # the short name was made from the name
    assert [c[0] for c in _where_choices(app)] == ["cowley", "headington", "st-clements", "not_known"]

    for typed, field, message in [
        ({"name": "Cowley", "slug": "", "kind": "neighbourhood"}, "slug", "Another area already has this short name"),
        ({"name": "Cowley", "slug": "", "kind": "neighbourhood"}, "name", "Another area already has this name"),
        ({"name": "On the internet", "slug": "web", "kind": "online"}, "kind", "There is already an area of this kind"),
        ({"name": "Iffley", "slug": "Iffley Fields", "kind": "neighbourhood"}, "slug", "lowercase letters, numbers"),
        ({"name": "", "slug": "", "kind": "neighbourhood"}, "name", "Enter the area’s name"),
    ]:
        refused = _send(client, "/admin/areas/new", typed)
        shown = re.search(rf'<p id="{field}-error" class="govuk-error-message">(.*?)</p>', refused.text, re.S)
        assert refused.status_code == 200 and shown and message in shown.group(1), (typed, errors(refused.text))
        assert f'value="{typed["name"]}"' in refused.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Area)) == 4

    renamed = _send(client, f"/admin/areas/{headington.id}", {"name": "Headington and Quarry"})
    assert renamed.status_code == 302
    clash = _send(client, f"/admin/areas/{headington.id}", {"name": "cowley"})
    assert "Another area already has this name" in errors(clash.text) and 'value="cowley"' in clash.text

    page = client.get("/admin/areas").text
    assert "never deleted" in page and 'value="up"' in _row(page, f"area-{clements.id}")
    assert 'value="up"' not in _row(page, f"area-{cowley.id}")  # the first cannot move up
    token = csrf(page)
    assert (
        client.post(f"/admin/areas/{clements.id}/move", data={"csrf_token": token, "direction": "up"}).status_code
        == 302
    )
    assert (
        client.post(f"/admin/areas/{cowley.id}/move", data={"csrf_token": token, "direction": "up"}).status_code == 302
    )
    assert _where_choices(app) == [
        ("cowley", "Cowley"),
        ("st-clements", "St Clement’s"),
        ("headington", "Headington and Quarry"),
        ("not_known", "I do not know which part of Oxford"),
    ]
    order = re.findall(r'id="area-(\d+)"', client.get("/admin/areas").text)
    assert order[:3] == [str(cowley.id), str(clements.id), str(headington.id)]

    actions = [(e.action, e.actor_id, e.detail.get("area_id")) for e in db.session.scalars(sa.select(AuditEvent))]
    assert ("area.added", user.id, clements.id) in actions
    assert ("area.edited", user.id, headington.id) in actions
    assert [a for a in actions if a[0] == "area.moved"] == [("area.moved", user.id, clements.id)]  # the top one stayed


ORGANISATION_PAGES = [
    ("GET", "/admin/partners"),
    ("GET", "/admin/partners/new"),
    ("POST", "/admin/partners/new"),
    ("GET", "/admin/partners/{partner}"),
    ("POST", "/admin/partners/{partner}"),
    ("GET", "/admin/partners/{partner}/next-steps"),
    ("GET", "/admin/areas"),
    ("GET", "/admin/areas/new"),
    ("POST", "/admin/areas/new"),
    ("GET", "/admin/areas/{area}"),
    ("POST", "/admin/areas/{area}"),
    ("POST", "/admin/areas/{area}/move"),
]


@pytest.mark.parametrize("role", [StaffRole.TRIAGE, StaffRole.PARTNER_ADMIN, StaffRole.COORDINATOR])
def test_nobody_but_a_system_administrator_reaches_these_pages(app, client, role):
    made, area = make_partners()
    support = made["victim-support"][0]
    make_user(support, "member@victim-support.example", PASSWORD, role)
    _enrol(client, "member@victim-support.example")
    token = csrf(client.get("/triage/account").text)
    data = {
        "csrf_token": token,
        "name": "Taken over",
        "slug": "x",
        "kind": "agency",
        "is_police": "no",
        "direction": "up",
    }
    for method, path in ORGANISATION_PAGES:
        url = path.format(partner=support.id, area=area.id)
        assert client.open(url, method=method, data=data if method == "POST" else None).status_code == 403, url
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action.in_(["partner.created", "partner.edited", "area.added", "area.edited", "area.moved"]),
                AuditEvent.actor_id.is_not(None),
            )
        )
        == 0
    )
    db.session.refresh(support)
    assert support.name == "Victim Support"


def test_a_record_that_is_not_there_is_not_found(client, admin):
    for path in ("/admin/partners/0", "/admin/partners/99999999999999999999", "/admin/areas/2147483648"):
        assert client.get(path).status_code == 404, path
    token = csrf(client.get("/admin/areas").text)
    assert (
        client.post("/admin/areas/99999999999/move", data={"csrf_token": token, "direction": "up"}).status_code == 404
    )
