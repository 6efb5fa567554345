"""Access control, generated from the app's URL map: every staff route
declares a permission, and no role reads or acts on another partner's
referral through any of them, however the request is made."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mantra.domain import accounts
from mantra.domain.permissions import ROLE_PERMISSIONS, Permission
from mantra.extensions import db
from mantra.models import (
    Area,
    Attachment,
    AuditEvent,
    Message,
    Note,
    Partner,
    Referral,
    ReferralStatus,
    ReplyTemplate,
    Report,
    ReportKey,
    ReportLink,
    RoutingRule,
    StaffRole,
)

from .conftest import IsolatedClient
from .factories import make_user
from .journey import answer_with_files, csrf, submit
from .test_casework import _png
from .test_triage import PASSWORD, _enrol, _police_officer

STAFF_ROOMS = {"triage", "admin", "levels"}
# Pages where a system administrator sees records of every partner: ids and
# references (facets), never what a report says.
SYSTEM_WIDE = {"admin.audit_trail", "admin.users", "admin.edit_user", "admin.reset_user"}
# Pages about the partnership's set-up (a partner's deadlines and contacts, an
# area), which a system administrator looks after for every partner: they name
# organisations and places, never a referral or what a report says.
SET_UP = {"admin.partner", "admin.partner_next_steps", "admin.area", "admin.area_move"}
# URL arguments naming a partnership-wide record (a routing rule): nobody's
# own and nobody else's, so a member whose role opens the page may open it
# with either value, and one whose role does not is refused both.
PARTNERSHIP_WIDE = {"rule_id", "year", "number", "kind"}
ROLES = [StaffRole.TRIAGE, StaffRole.PARTNER_ADMIN, StaffRole.COORDINATOR, StaffRole.ADMIN]
# What a form on any staff page might take, filled so that an action would
# really happen if the route let it through.
FORM = {
    "body": "ACCESSMARK message",
    "note": "ACCESSMARK note",
    "extra": "ACCESSMARK question",
    "questions": "when",
    "outcome": "support_given",
    "assignee": "",
    "reason": "significant_harm",
    "title": "ACCESSMARK title",
}


def staff_rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in STAFF_ROOMS]


def _permissions(app, rule) -> frozenset:
    return getattr(app.view_functions[rule.endpoint], "permissions", frozenset())


def test_every_staff_route_declares_a_permission(app):
    rules = staff_rules(app)
    assert len(rules) > 10
    assert [r.rule for r in rules if not _permissions(app, r)] == []


def _ids(own: Referral, other: Referral) -> dict:
    """For each URL argument a staff route takes: a value of the member's own
    partner, and one of another partner's. A new argument must be added here."""
    own_file, other_file = (
        db.session.scalar(sa.select(Attachment.id).where(Attachment.report_id == r.report_id)) for r in (own, other)
    )
    # Colleagues who are not the member walking the routes (a reset must not end the walk).
    own_user, other_user = (
        make_user(db.session.get(Partner, r.partner_id), f"bystander{r.partner_id}@example.org").id
        for r in (own, other)
    )
    rule_id = db.session.scalar(sa.select(RoutingRule.id).order_by(RoutingRule.id))
    area = db.session.scalar(sa.select(Area.id))
    own_reply, other_reply = (
        ReplyTemplate(partner_id=r.partner_id, title="Hello", body="Hello.") for r in (own, other)
    )
    db.session.add_all([own_reply, other_reply])
    db.session.commit()
    return {
        "referral_id": (own.id, other.id),
        "attachment_id": (own_file, other_file),
        "user_id": (own_user, other_user),
        "rule_id": (rule_id, rule_id),
        "partner_id": (own.partner_id, other.partner_id),
        "area_id": (area, area),  # areas are the partnership's, no partner's own
        "template_id": (own_reply.id, other_reply.id),
        # a month of the reporting levels: facets of every partner's reports, for coordinators
        "year": (2026, 2026),
        "number": (10, 10),
        "kind": ("csv", "csv"),
    }


def _fill(rule, values, whose) -> str:
    """The rule's URL with these values, as the app itself builds it."""
    return rule.build({name: values[name][whose] for name in rule.arguments})[1]


@pytest.fixture
def two_partners_referrals(app):
    """The police hold one referral, victim support another (which the police do not)."""
    from mantra.jobs.route import route_report

    made, police, officer = _police_officer()
    reporter = IsolatedClient(app, app.response_class)
    answer_with_files(
        reporter,
        [("theirs.png", _png())],
        sharing={"consent_police": "no", "consent_partners": "no"},
        account={"narrative": "THEIRSMARK: what happened to them."},
    )
    _, theirs, _ = submit(reporter)
    reporter.get("/report/who?new=1")
    answer_with_files(reporter, [("ours.png", _png())])
    submit(reporter)
    for report_id in db.session.scalars(sa.select(Report.id)):
        route_report(report_id)
    db.session.commit()
    own = db.session.scalar(sa.select(Referral).where(Referral.partner_id == police.id))
    other = db.session.scalar(sa.select(Referral).where(Referral.partner_id != police.id))
    assert db.session.get(Report, other.report_id).reference == theirs
    return made, police, own, other, theirs


@pytest.mark.parametrize("role", ROLES)
def test_no_role_reaches_another_partners_referral_through_any_route(app, role, two_partners_referrals):
    made, police, own, other, their_reference = two_partners_referrals
    member = make_user(police, f"{role.value}@tvp.example", PASSWORD, role)
    if accounts.needs_grant(member):  # the roles that read referrals hold the key
        accounts.grant(police, made["tvp-oxford"][1], member, granted_by=None)
    db.session.commit()
    client = IsolatedClient(app, app.response_class)
    _enrol(client, f"{role.value}@tvp.example")
    token = csrf(client.get("/triage/account").text)
    values = _ids(own, other)
    may = ROLE_PERMISSIONS[role]
    before = _state(other)

    for rule in staff_rules(app):
        permissions = _permissions(app, rule)
        if Permission.SIGN_IN in permissions:
            assert not rule.arguments  # the sign-in pages show no record
            continue
        for method in sorted(rule.methods & {"GET", "POST"}):
            data = {"csrf_token": token, "partner": str(made["victim-support"][0].id), "other": str(other.id), **FORM}
            for whose in (0, 1) if rule.arguments else (0,):
                url = _fill(rule, values, whose)
                response = client.open(url, method=method, data=data if method == "POST" else None)
                where = f"{role.value} {method} {url}"
                assert response.status_code != 500, where
                if not permissions & may:
                    assert response.status_code == 403, where
                elif (
                    whose == 1
                    and not set(rule.arguments) <= PARTNERSHIP_WIDE
                    and not (rule.endpoint in SYSTEM_WIDE | SET_UP and Permission.SYSTEM_ADMIN in may)
                ):
                    assert response.status_code in (403, 404), where
                else:
                    # 404 only where a form names another partner's record (a link to their referral)
                    assert response.status_code in (200, 302, 303, 409, 429) or (
                        method == "POST" and response.status_code == 404
                    ), where
                body = response.get_data()
                assert b"THEIRSMARK" not in body, where  # their report's content: never, for anyone
                if rule.endpoint not in SYSTEM_WIDE or Permission.SYSTEM_ADMIN not in may:
                    assert their_reference.encode() not in body, where
                assert b"ACCESSMARK" not in body or whose == 0, where
                if whose == 1 and not set(rule.arguments) <= PARTNERSHIP_WIDE:
                    assert b"theirs.png" not in body and response.headers.get("Content-Disposition") is None, where

    assert _state(other) == before
    db.session.expire_all()
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.report_id == other.report_id, AuditEvent.actor_id == member.id)
        )
        == 0
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 2 or Permission.WORK_REFERRALS in may


def _state(referral: Referral) -> tuple:
    """Everything about another partner's referral an action could change."""
    db.session.expire_all()
    r = db.session.get(Referral, referral.id)
    return (
        r.status,
        r.assigned_to_id,
        r.outcome,
        r.keep_reason,
        db.session.scalar(sa.select(sa.func.count()).select_from(Note).where(Note.referral_id == r.id)),
        db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(Message.report_id == r.report_id)),
        db.session.scalar(sa.select(sa.func.count()).select_from(ReportKey).where(ReportKey.report_id == r.report_id)),
        db.session.scalar(sa.select(sa.func.count()).select_from(Referral).where(Referral.report_id == r.report_id)),
        db.session.scalar(sa.select(sa.func.count()).select_from(ReportLink)),
        db.session.execute(
            sa.select(ReplyTemplate.title, ReplyTemplate.body).where(ReplyTemplate.partner_id == r.partner_id)
        ).all(),
    )


def test_a_signed_out_visitor_reaches_no_staff_page(client, app, two_partners_referrals):
    made, police, own, other, their_reference = two_partners_referrals
    values = _ids(own, other)
    for rule in staff_rules(app):
        if Permission.SIGN_IN in _permissions(app, rule):
            continue
        for whose in (0, 1):
            url = _fill(rule, values, whose)
            for method in sorted(rule.methods & {"GET", "POST"}):
                response = client.open(url, method=method)
                assert response.status_code in (302, 400), (method, url)  # to sign in, or no CSRF token
                if response.status_code == 302:
                    assert response.headers["Location"].startswith("/triage/sign-in"), url
    assert ReferralStatus.NEW == db.session.get(Referral, other.id).status


def test_a_huge_or_odd_id_is_a_plain_404(client, app):
    _police_officer()
    _enrol(client)
    for path in ("/triage/referrals/99999999999999999999", "/triage/referrals/2147483648", "/triage/referrals/-1"):
        assert client.get(path).status_code == 404, path


def test_odd_numbers_in_forms_and_queries_are_refused_plainly(client, app, two_partners_referrals):
    made, police, own, other, _ = two_partners_referrals
    _enrol(client)
    page = client.get(f"/triage/referrals/{own.id}").text
    for action, field in (("link", "other"), ("assign", "assignee"), ("refer", "partner")):
        for odd in ("²", "99999999999999999999", "-3", "1e3"):
            response = client.post(f"/triage/referrals/{own.id}/{action}", data={"csrf_token": csrf(page), field: odd})
            assert response.status_code in (200, 404), (action, odd)
    for odd in ("99999999999999999999", "²", "-1"):
        assert client.get(f"/triage/?page={odd}").status_code == 200
    assert db.session.get(Referral, own.id).assigned_to_id is None
