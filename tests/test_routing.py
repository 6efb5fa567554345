"""Routing by a real `flask mantra worker` on the test's own Redis: referrals,
wraps to pinned partner keys only, content-free e-mails, and refusals."""

from __future__ import annotations

import json
from email import message_from_bytes

import pytest
import sqlalchemy as sa

from mantra.crypto import vault
from mantra.domain import intake
from mantra.extensions import db
from mantra.models import (
    AuditEvent,
    Notification,
    NotificationKind,
    Partner,
    RecipientKind,
    Referral,
    Report,
    ReportKey,
    ReportStatus,
    RoutingRule,
)

from .factories import make_partners, marked_submission, stored
from .workers import smtp_server, wait_for, worker

WORDS_NEVER_IN_MAIL = ("narrative", "offender", "place ", "race", "religion", "ethnicity", "threat", "verbal")


def _routed(report_id):
    def check():
        db.session.expire_all()
        return db.session.get(Report, report_id).status == ReportStatus.ROUTED

    return check


def _all_sent():
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Notification)).all()
    return rows and all(n.sent_at is not None for n in rows)


def _outbox(app) -> list:
    from pathlib import Path

    db.session.expire_all()  # and read the database afresh too
    folder = Path(app.config["MAIL_OUTBOX"])
    return [message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))] if folder.exists() else []


def test_a_worker_routes_a_report_to_its_partners_and_emails_them_without_content(app, tmp_path, redis_conn):
    partners, area = make_partners(police_rule=True, support_rule=True)
    police, police_key = partners["tvp-oxford"]
    support, support_key = partners["victim-support"]
    with smtp_server() as mail:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=mail.port)
        report, code = stored(marked_submission("ROUTEME", area.id))
        with worker(app, tmp_path):
            wait_for(_routed(report.id), what="the report to be routed")
            wait_for(_all_sent, what="the e-mails to be sent")
            wait_for(lambda: len(mail.messages) == 2, what="two e-mails at the SMTP server")

    referrals = {r.partner_id: r for r in db.session.scalars(sa.select(Referral))}
    assert set(referrals) == {police.id, support.id}
    assert all(r.ack_due_at is not None and not r.urgent for r in referrals.values())
    wraps = {(k.recipient, k.partner_id): k.wrap for k in db.session.scalars(sa.select(ReportKey))}
    assert set(wraps) == {
        (RecipientKind.REPORTER, None),
        (RecipientKind.RECOVERY, None),
        (RecipientKind.PARTNER, police.id),
        (RecipientKind.PARTNER, support.id),
    }
    # Each partner opens the report with its own key; the reporter still can.
    for partner, key in [(police, police_key), (support, support_key)]:
        info = intake.report_key_info(report.id, RecipientKind.PARTNER, partner.id)
        opened = intake.open_locked(report.id, vault.unwrap(wraps[(RecipientKind.PARTNER, partner.id)], key, info))
        assert opened.content("account")["narrative"] == "narrative ROUTEME"
    assert intake.open_with_receipt(code).content("contact")["name"] == "name ROUTEME"

    # E-mails: to each partner's duty address, the reference and a link, nothing reported.
    to = sorted(r for rcpts, _m, _t in mail.messages for r in rcpts)
    assert to == ["duty@tvp-oxford.example", "duty@victim-support.example"]
    for _rcpts, message, _t in mail.messages:
        whole = message.as_string()
        assert report.reference in message["Subject"] and "/triage/sign-in" in whole
        assert "ROUTEME" not in whole and not any(word in whole.lower() for word in WORDS_NEVER_IN_MAIL)
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "report.routed")) == 1


def test_after_routing_the_intake_key_opens_nothing_of_the_report(app, tmp_path, key_files, redis_conn):
    _, area = make_partners(police_rule=True, support_rule=True)
    report, _ = stored(marked_submission("SHREDINTAKE", area.id))
    with worker(app, tmp_path):
        wait_for(_routed(report.id), what="the report to be routed")
    for key in db.session.scalars(sa.select(ReportKey).where(ReportKey.report_id == report.id)):
        for info in (
            intake.intake_info(db.session.get(Report, report.id)),
            intake.report_key_info(report.id, key.recipient, key.partner_id),
        ):
            with pytest.raises(vault.VaultError):
                vault.unwrap(key.wrap, key_files["intake"], info)


def test_a_report_whose_routing_facets_were_changed_is_held_and_alerted(app, tmp_path, redis_conn):
    """A database writer gives consent to the police that the person never gave."""
    partners, area = make_partners(police_rule=True, support_rule=True)
    sub = marked_submission("FLIPPED", area.id)
    sub.consent_police = False
    report, _ = stored(sub)
    db.session.execute(sa.update(Report).where(Report.id == report.id).values(consent_police=True))
    db.session.commit()
    with worker(app, tmp_path) as running:
        wait_for(lambda: _outbox(app), what="the alert e-mail")
    row = db.session.get(Report, report.id)
    assert row.held_reason == "facets-changed" and row.status == ReportStatus.RECEIVED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "report.held")) == 1
    (alert,) = _outbox(app)
    assert alert["To"] == "security@partnership.example" and "held (facets-changed)" in alert["Subject"]
    assert "FLIPPED" not in alert.as_string() and "FLIPPED" not in running.output()
    assert f"report {report.id} held, not routed: facets-changed" in running.output()


def test_a_partner_key_swapped_in_the_database_is_never_wrapped_to(app, tmp_path, redis_conn):
    partners, area = make_partners(police_rule=True, support_rule=True)
    police = partners["tvp-oxford"][0]
    intruder = vault.PrivateKey.generate()
    db.session.execute(
        sa.update(type(police)).where(type(police).id == police.id).values(public_key=intruder.public.raw)
    )
    db.session.commit()
    report, _ = stored(marked_submission("SWAPPED", area.id))
    with worker(app, tmp_path):
        wait_for(lambda: _outbox(app), what="the alert e-mail")
    assert db.session.get(Report, report.id).held_reason == "key-not-pinned"
    for key in db.session.scalars(sa.select(ReportKey)):
        with pytest.raises(vault.VaultError):
            vault.unwrap(key.wrap, intruder, intake.report_key_info(report.id, key.recipient, key.partner_id))


def test_a_reporter_who_asked_for_news_gets_a_content_free_email_in_their_language(app, tmp_path, redis_conn):
    _, area = make_partners(police_rule=True, support_rule=True)
    sub = marked_submission("NEWSPLEASE", area.id)
    sub.news_email, sub.language = "reporter@example.net", "pl"
    report, _ = stored(sub)
    assert b"reporter@example.net" not in db.session.get(Report, report.id).notify_wrap
    with worker(app, tmp_path):
        wait_for(_all_sent, what="the e-mails")
    news = [m for m in _outbox(app) if m["To"] == "reporter@example.net"]
    assert len(news) == 1
    body = news[0].get_payload(decode=True).decode()
    assert "Są nowe informacje" in body and report.reference in body and "/follow-up" in body
    assert "NEWSPLEASE" not in news[0].as_string()
    kinds = db.session.scalars(sa.select(Notification.kind)).all()
    assert sorted(kinds) == sorted([NotificationKind.NEW_REFERRAL] * 2 + [NotificationKind.REPORTER_NEWS])


def test_running_the_route_job_again_adds_nothing(app, redis_conn):
    """A retry, a sweep or a second worker after the first: one referral per partner."""
    from mantra.jobs.route import route_report

    _, area = make_partners(police_rule=True, support_rule=True)
    report, _ = stored(marked_submission("TWICE", area.id))
    assert route_report(report.id) == "routed to 2"
    assert route_report(report.id) == "nothing to do"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 2
    detail = db.session.scalar(sa.select(AuditEvent.detail).where(AuditEvent.action == "report.routed"))
    assert "TWICE" not in json.dumps(detail)


def test_a_report_still_happening_gets_the_urgent_deadline(app, redis_conn):
    from mantra.jobs.route import route_report

    _, area = make_partners(police_rule=True, support_rule=True)
    sub = marked_submission("URGENT", area.id)
    sub.flag_ongoing_risk = True
    report, _ = stored(sub)
    route_report(report.id)
    for referral in db.session.scalars(sa.select(Referral)):
        partner = db.session.get(Partner, referral.partner_id)
        hours = (referral.ack_due_at - db.session.get(Report, report.id).submitted_at).total_seconds() / 3600
        assert referral.urgent and hours == pytest.approx(partner.urgent_ack_sla_hours, abs=0.01)


def test_a_police_partner_unmarked_in_the_database_gets_nothing(app, tmp_path, redis_conn):
    """Consent is a hard limit: a database writer makes the police look like any partner."""
    from mantra.jobs.route import route_report

    partners, area = make_partners(police_rule=True, support_rule=True)
    police = partners["tvp-oxford"][0]
    db.session.add(RoutingRule(name="all", priority=1, conditions={"consent_partners": True}, partner_id=police.id))
    db.session.execute(sa.update(Partner).where(Partner.id == police.id).values(is_police=False))
    db.session.commit()
    sub = marked_submission("NOPOLICE", area.id)
    sub.consent_police = False
    report, _ = stored(sub)
    assert route_report(report.id) == "held: key-not-pinned"
    assert not db.session.scalars(sa.select(ReportKey).where(ReportKey.partner_id == police.id)).all()
