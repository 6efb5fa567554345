"""Consent after sending: the person (or their reporting centre) stops one
organisation seeing the report. Its key wrap goes, so its keys open nothing;
the others are untouched; the partner is told without content."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mantra.domain import accounts, casework, notices
from mantra.extensions import db
from mantra.jobs.route import route_report
from mantra.models import (
    WITHDRAWN,
    AuditEvent,
    IncidentType,
    Notification,
    NotificationKind,
    RecipientKind,
    Referral,
    ReferralStatus,
    Report,
    ReportKey,
    StaffRole,
)

from .conftest import IsolatedClient
from .factories import make_user
from .journey import answer_all, csrf, post, submit
from .test_casework import _one_report
from .test_centre import PASSWORD as CENTRE_PASSWORD
from .test_centre import _centre_staff
from .test_triage import PASSWORD, _enrol, _police_officer

NARRATIVE = "A man shouted abuse at me about my religion."


def _referral(partner) -> Referral:
    return db.session.scalar(sa.select(Referral).where(Referral.partner_id == partner.id))


def _wraps(report_id: int) -> set:
    return set(
        db.session.scalars(
            sa.select(ReportKey.partner_id).where(
                ReportKey.report_id == report_id, ReportKey.recipient == RecipientKind.PARTNER
            )
        )
    )


def _supporter(made):
    support, support_key = made["victim-support"]
    supporter = make_user(support, "vs@vs.example", PASSWORD, StaffRole.TRIAGE)
    accounts.grant(support, support_key, supporter, granted_by=None)
    db.session.commit()
    return support, supporter


def test_withdrawing_police_consent_warns_first_then_the_police_key_opens_nothing(client, app):
    made, police, officer = _police_officer(support_rule=True)
    support, supporter = _supporter(made)
    reporter, code = _one_report(app)
    report = db.session.scalar(sa.select(Report))
    assert report.incident_type == IncidentType.CRIME and _wraps(report.id) == {police.id, support.id}
    post(reporter, "/follow-up/", {"code": code})
    page = reporter.get("/follow-up/report").text
    assert "Thames Valley Police" in page and "Victim Support" in page and "Can open the report" in page

    ask = reporter.get(f"/follow-up/sharing/{police.id}").text
    assert "This report says a crime happened" in ask and "call 999" in ask  # what it means, before confirming
    assert "This report says a crime happened" not in reporter.get(f"/follow-up/sharing/{support.id}").text
    assert reporter.post(f"/follow-up/sharing/{police.id}", data={}).status_code == 400  # no CSRF token: nothing
    assert _wraps(report.id) == {police.id, support.id}
    done = reporter.post(f"/follow-up/sharing/{police.id}", data={"csrf_token": csrf(ask)}, follow_redirects=True)
    assert "Your report is no longer shared with Thames Valley Police" in done.text
    assert "consent was withdrawn" in done.text  # on the timeline too

    db.session.expire_all()
    assert _wraps(report.id) == {support.id}  # crypto-revocation: the wrap itself is gone
    withdrawn = _referral(police)
    assert withdrawn.status == ReferralStatus.CLOSED and withdrawn.outcome == WITHDRAWN
    assert db.session.get(Report, report.id).consent_police is False
    with pytest.raises(casework.CaseworkError):  # the officer's own keys open nothing now
        casework.open_referral(officer, accounts.unlock_user_key(officer, PASSWORD), withdrawn)
    opened = casework.open_referral(supporter, accounts.unlock_user_key(supporter, PASSWORD), _referral(support))
    assert opened.content("account")["narrative"] == NARRATIVE  # the others still can

    _enrol(client)
    shown = client.get(f"/triage/referrals/{withdrawn.id}")
    assert shown.status_code == 410 and "withdrew their consent" in shown.text and NARRATIVE not in shown.text
    assert "Consent withdrawn" in client.get("/triage/?status=closed").text

    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "consent.withdrawn"))
    assert event.partner_id == police.id and event.detail["by"] == "reporter" and event.detail["wraps_deleted"] == 1
    told = db.session.scalar(sa.select(Notification).where(Notification.kind == NotificationKind.CONSENT_WITHDRAWN))
    email = notices.compose(told)
    assert "duty@tvp-oxford.example" in email.to and "officer@tvp.example" in email.to
    assert report.reference in email.subject and "religion" not in email.body and "bus stop" not in email.body
    # Nothing is left for the partner to do on it: keeping it, for one, is refused.
    token = csrf(client.get("/triage/account").text)
    refused = client.post(
        f"/triage/referrals/{withdrawn.id}/keep", data={"csrf_token": token, "reason": "significant_harm"}
    )
    assert refused.status_code == 410 and _referral(police).keep_reason is None
    # The worker tells a partner only of a referral really withdrawn (a forged row tells nobody).
    forged = notices.add(
        NotificationKind.CONSENT_WITHDRAWN, "forged", referral_id=_referral(support).id, partner_id=support.id
    )
    assert notices.compose(db.session.get(Notification, forged)) is None
    # Withdrawn once is withdrawn: asking again goes back to the page, and nothing more happens.
    again = reporter.post(f"/follow-up/sharing/{police.id}", data={"csrf_token": csrf(ask)})
    assert again.status_code == 302
    count = sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "consent.withdrawn")
    assert db.session.scalar(count) == 1


def test_refer_on_respects_consent_withdrawn_or_narrowed(client, app):
    made, police, officer = _police_officer()
    support, _supporter_user = _supporter(made)
    reporter, code = _one_report(app)
    post(reporter, "/follow-up/", {"code": code})
    ask = reporter.get("/follow-up/sharing/no-more").text
    assert "Do not pass this report to any more organisations?" in ask
    reporter.post("/follow-up/sharing/no-more", data={"csrf_token": csrf(ask)})
    assert "This report will not be passed to any more organisations." in reporter.get("/follow-up/report").text
    _enrol(client)
    link = f"/triage/referrals/{_referral(police).id}"
    page = client.get(link).text
    assert "The reporter did not agree to share it with: Victim Support." in page
    refused = client.post(f"{link}/refer", data={"csrf_token": csrf(page), "partner": str(support.id)})
    assert refused.status_code == 200 and _referral(support) is None
    assert db.session.scalar(sa.select(AuditEvent.detail).where(AuditEvent.action == "consent.narrowed")) == {
        "by": "reporter"
    }


def centre_report(app, client):
    """A report a centre member made for someone, routed: (the centre, its member, the report, victim support)."""
    partners, centre, _centre_key, user = _centre_staff(app)
    post(client, "/centre/sign-in", {"email": "fatima@library.example", "password": CENTRE_PASSWORD})
    answer_all(client, who={"who": "centre_staff"})
    submit(client)
    report = db.session.scalar(sa.select(Report))
    route_report(report.id)
    return centre, user, report, partners["victim-support"][0]


def test_a_centre_withdraws_consent_for_the_person_and_only_for_its_own_reports(client, app):
    centre, user, report, support = centre_report(app, client)
    listing = client.get("/centre/submissions").text
    assert f"/centre/reports/{report.id}/sharing" in listing
    ask = client.get(f"/centre/reports/{report.id}/sharing/{support.id}").text
    assert "Stop sharing this report with Victim Support?" in ask
    done = client.post(
        f"/centre/reports/{report.id}/sharing/{support.id}", data={"csrf_token": csrf(ask)}, follow_redirects=True
    )
    assert "Sharing stopped" in done.text and "they cannot open the report" in done.text
    db.session.expire_all()
    assert support.id not in _wraps(report.id) and centre.id in _wraps(report.id)  # the centre keeps its own
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "consent.withdrawn"))
    assert event.actor_id == user.id and event.detail["by"] == "centre"

    # Another centre's member, or someone signed out, cannot touch it.
    other = IsolatedClient(app, app.response_class)
    assert other.get(f"/centre/reports/{report.id}/sharing").status_code == 302
    elsewhere, _ = accounts.create_partner("centre-2", "Another centre", centre.kind)
    make_user(elsewhere, "sam@centre2.example", CENTRE_PASSWORD, StaffRole.CENTRE)
    post(other, "/centre/sign-in", {"email": "sam@centre2.example", "password": CENTRE_PASSWORD})
    assert other.get(f"/centre/reports/{report.id}/sharing").status_code == 404
