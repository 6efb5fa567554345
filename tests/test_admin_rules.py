"""Routing rules in the administration pages, as a system administrator uses them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mantra.domain import facets, intake, rules
from mantra.extensions import db
from mantra.models import AuditEvent, RoutingRule, StaffRole, utcnow

from .conftest import IsolatedClient
from .factories import make_partners, make_user, marked_submission
from .journey import csrf, errors
from .test_triage import PASSWORD, _enrol


@pytest.fixture
def admin(app, client):
    """Partners (the police rule on), a system administrator signed in with both factors."""
    made, area = make_partners(police_rule=True)
    user = make_user(made["victim-support"][0], "admin@vs.example", PASSWORD, StaffRole.ADMIN)
    _enrol(client, "admin@vs.example")
    return made, area, user


def _rule(name: str) -> RoutingRule:
    db.session.expire_all()
    return db.session.scalar(sa.select(RoutingRule).where(RoutingRule.name == name))


def _listed(client) -> list[str]:
    page = client.get("/admin/rules")
    assert page.status_code == 200
    return re.findall(r'<th scope="row" class="govuk-table__header[^"]*">([^<]+)</th>', page.text)


def _post(client, path: str, data: dict):
    token = csrf(client.get("/admin/rules").text)
    return client.post(path, data={"csrf_token": token, **data})


def _events(action: str, user) -> list[AuditEvent]:
    return list(
        db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action, AuditEvent.actor_id == user.id))
    )


def _form(client, path: str, data: dict):
    """POST a rule form the way the browser sends it: every radio at its answer."""
    answers = {flag: "any" for flag in rules.FLAGS} | data
    token = csrf(client.get(path).text)
    return client.post(path, data={"csrf_token": token, **answers})


def test_rules_are_listed_in_the_order_tried_in_plain_words(client, admin):
    made, _area, _user = admin
    support = made["victim-support"][0].id
    db.session.add_all(
        [
            RoutingRule(name="second", priority=5, conditions={"strands": ["religion"]}, partner_id=support),
            RoutingRule(name="third", priority=5, conditions={"area": "cowley"}, partner_id=support, enabled=False),
        ]
    )
    db.session.commit()
    assert _listed(client) == ["police", "second", "third"]
    page = client.get("/admin/rules").text
    assert "Police may be told: yes" in page and "Perceived motivation: Religion or beliefs" in page
    assert "Area: Cowley" in page and "govuk-tag--grey" in page
    no_match = re.search(r'id="no-match">(.*?)</p>', page, re.S).group(1)
    assert "Victim Support" in no_match
    assert "Consent is always a hard limit" in page


def test_a_new_rule_with_errors_keeps_what_was_typed_then_is_saved(client, admin):
    made, _area, user = admin
    refused = _form(client, "/admin/rules/new", {"name": "", "partner": "", "strands": ["religion", "race"]})
    assert refused.status_code == 200
    assert errors(refused.text) == [
        "Enter a name for the rule",
        "Select the organisation that receives matching reports",
    ]
    assert "There is a problem" in refused.text and refused.text.count("checked") == 2 + len(rules.FLAGS)
    assert re.search(r'value="religion"\s+checked', refused.text)

    police = made["tvp-oxford"][0]
    data = {"name": "Religion to police", "partner": str(police.id), "strands": ["religion", "race"]}
    saved = _form(client, "/admin/rules/new", data | {"consent_police": "yes", "area": "cowley"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/admin/rules")
    rule = _rule("Religion to police")
    assert rule.partner_id == police.id and rule.enabled
    assert rule.conditions == {"strands": ["religion", "race"], "area": "cowley", "consent_police": True}
    assert _listed(client)[-1] == "Religion to police"  # a new rule goes last
    assert [e.detail["rule_id"] for e in _events("rule.added", user)] == [rule.id]


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("partner", {"partner": "999999"}),
        ("partner", {"partner": "centre"}),  # a reporting centre receives no referrals
        ("strands", {"strands": ["purple"]}),
        ("area", {"area": ["atlantis"]}),
        ("consent_police", {"consent_police": "maybe"}),
    ],
)
def test_a_rule_naming_something_unknown_is_refused_beside_the_field(client, admin, field, data):
    made, _area, _user = admin
    if data.get("partner") == "centre":
        data = {"partner": str(made["centre-library"][0].id)}
    base = {"name": "Bad", "partner": str(made["tvp-oxford"][0].id), "strands": ["race"]}
    refused = _form(client, "/admin/rules/new", base | data)
    assert refused.status_code == 200
    assert re.search(rf'id="{field}-error" class="govuk-error-message"', refused.text), refused.text
    assert _rule("Bad") is None


def test_a_rule_without_conditions_needs_the_box_ticked(client, admin):
    made, _area, _user = admin
    data = {"name": "Everything", "partner": str(made["victim-support"][0].id)}
    refused = _form(client, "/admin/rules/new", data)
    assert refused.status_code == 200 and _rule("Everything") is None
    assert errors(refused.text) == [
        "Select at least one condition, or tick the box if this rule should match every report"
    ]
    assert _form(client, "/admin/rules/new", data | {"match_all": "yes"}).status_code == 302
    rule = _rule("Everything")
    assert rule.conditions == {}
    assert re.search(
        r'name="match_all" type="checkbox" value="yes"\s+checked', client.get(f"/admin/rules/{rule.id}").text
    )


def test_a_rule_is_edited_and_audited(client, admin):
    made, _area, user = admin
    rule = _rule("police")
    page = client.get(f"/admin/rules/{rule.id}").text
    assert 'value="police"' in page and re.search(r'name="consent_police" type="radio" value="yes"\s+checked', page)
    support = made["victim-support"][0].id
    data = {"name": "Police, for students", "partner": str(support), "flag_student": "yes", "consent_police": "any"}
    assert _form(client, f"/admin/rules/{rule.id}", data).status_code == 302
    rule = db.session.get(RoutingRule, rule.id)
    assert (rule.name, rule.partner_id, rule.conditions) == ("Police, for students", support, {"flag_student": True})
    (event,) = _events("rule.edited", user)
    assert event.detail == {"rule_id": rule.id, "was_partner_id": made["tvp-oxford"][0].id}
    assert client.get("/admin/rules/999999").status_code == 404


def test_moving_a_rule_changes_which_comes_first(client, admin):
    made, _area, user = admin
    support = made["victim-support"][0].id
    db.session.add(RoutingRule(name="support", priority=1, conditions={"consent_partners": True}, partner_id=support))
    db.session.commit()
    assert _listed(client) == ["police", "support"]  # the same priority: the older rule first
    facets_both = facets.routing_facets(facets.preview_report({"consent_police": True, "consent_partners": True}))
    assert [p.name for p in rules.recipients(facets_both)] == ["Thames Valley Police", "Victim Support"]

    assert _post(client, f"/admin/rules/{_rule('police').id}/down", {}).status_code == 302
    assert _listed(client) == ["support", "police"]
    assert [p.name for p in rules.recipients(facets_both)] == ["Victim Support", "Thames Valley Police"]
    assert _rule("support").priority < _rule("police").priority  # renumbered: no tie left to the id

    assert _post(client, f"/admin/rules/{_rule('support').id}/up", {}).status_code == 302  # already first
    assert _post(client, f"/admin/rules/{_rule('police').id}/up", {}).status_code == 302
    assert _listed(client) == ["police", "support"]
    assert [e.detail for e in _events("rule.moved", user)] == [
        {"rule_id": _rule("police").id, "place": 2},
        {"rule_id": _rule("police").id, "place": 1},
    ]


def test_a_rule_switched_off_is_no_longer_used(client, admin):
    _made, _area, user = admin
    rule = _rule("police")
    with_consent = facets.routing_facets(facets.preview_report({"consent_police": True}))
    assert [p.name for p in rules.recipients(with_consent)] == ["Thames Valley Police"]
    page = client.get("/admin/rules").text
    assert _post(client, f"/admin/rules/{rule.id}/off", {}).status_code == 302
    assert _rule("police").enabled is False
    assert [p.name for p in rules.recipients(with_consent)] == ["Victim Support"]  # the default triage partner
    assert "Switch on" in client.get("/admin/rules").text and "Switch off" in page
    _post(client, f"/admin/rules/{rule.id}/off", {})  # pressed twice: nothing more happens
    assert _post(client, f"/admin/rules/{rule.id}/on", {}).status_code == 302
    assert [p.name for p in rules.recipients(with_consent)] == ["Thames Valley Police"]
    assert len(_events("rule.disabled", user)) == 1 and len(_events("rule.enabled", user)) == 1


def test_preview_names_the_partners_who_will_see_your_report_names(client, admin):
    made, area, _user = admin
    support = made["victim-support"][0].id
    db.session.add(RoutingRule(name="support", priority=5, conditions={"consent_partners": True}, partner_id=support))
    db.session.commit()
    seen = []
    for consent_police in (True, False):
        sub = marked_submission("SAME", area.id)
        sub.consent_police = consent_police
        expected = [p.name for p in facets.who_will_see(intake.report_from(sub))]
        answers = {
            "strands": ["race", "religion"],
            "kinds": ["verbal_abuse", "threats"],
            "incident_type": "crime",
            "channel": "online_self",
            "reporter_role": "victim",
            "area": "cowley",
            "consent_police": "yes" if consent_police else "no",
            "consent_partners": "yes",
            "may_contact": "yes",
            "show": "Show who would see it",
        }
        page = client.get("/admin/rules/preview", query_string=answers)
        assert page.status_code == 200
        shown = re.findall(r"<li>([^<]+)</li>", re.search(r'id="who-will-see">(.*?)</ul>', page.text, re.S).group(1))
        assert shown == expected
        seen.append(shown)
    assert seen == [["Thames Valley Police", "Victim Support"], ["Victim Support"]]  # consent is a hard limit
    blank = client.get("/admin/rules/preview")
    assert blank.status_code == 200 and 'id="who-will-see"' not in blank.text


def test_preview_of_a_rule_counts_the_recent_reports_it_matches(client, admin):
    _made, area, _user = admin
    made_reports = []
    for marker, consent_police, days_ago in [("A", True, 1), ("B", True, 100), ("C", False, 1), ("D", True, 89)]:
        sub = marked_submission(marker, area.id)
        sub.consent_police = consent_police
        report, _code = intake.store_report(sub)
        report.submitted_at = utcnow() - timedelta(days=days_ago)
        made_reports.append(report)
    db.session.commit()
    rule = _rule("police")
    page = client.get("/admin/rules/preview", query_string={"rule": rule.id}).text
    assert "The rule ‘police’ matches 2 reports sent in the last 90 days." in page

    # The SQL count means what routing means: the same answer as `matches` over each report's facets.
    recent = [r for r in made_reports if r.submitted_at > utcnow() - timedelta(days=90)]
    for conditions in [
        {"consent_police": True},
        {"strands": ["race", "age"], "area": "cowley"},
        {"strands": ["age"]},
        {"kinds": ["threats"], "incident_type": ["crime", "incident"], "consent_police": False},
        {"area": "elsewhere"},
        {"student_at": "brookes"},
        {},
    ]:
        expected = sum(rules.matches(conditions, facets.routing_facets(r)) for r in recent)
        assert rules.recent_matches(conditions) == expected, conditions


def test_a_triage_officer_is_refused_every_rules_page(app, admin):
    made, _area, _user = admin
    officer = IsolatedClient(app, app.response_class)
    make_user(made["tvp-oxford"][0], "officer@tvp.example", PASSWORD, StaffRole.TRIAGE)
    _enrol(officer, "officer@tvp.example")
    token = csrf(officer.get("/triage/account").text)
    rule_id = _rule("police").id
    for path in ["/admin/rules", "/admin/rules/new", f"/admin/rules/{rule_id}", "/admin/rules/preview"]:
        assert officer.get(path).status_code == 403, path
    for path in ["/admin/rules/new", f"/admin/rules/{rule_id}"] + [
        f"/admin/rules/{rule_id}/{action}" for action in ("up", "down", "on", "off")
    ]:
        assert officer.post(path, data={"csrf_token": token, "name": "x"}).status_code == 403, path
    assert _rule("police").enabled and _rule("x") is None
