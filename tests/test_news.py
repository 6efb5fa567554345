"""'There is news' e-mails for reporters, anonymous ones included: content-free,
one a day at most, and the address erased when the report closes or on request."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from mantra.domain import notices, queue
from mantra.extensions import db
from mantra.jobs import housekeeping
from mantra.models import (
    AuditEvent,
    Notification,
    NotificationKind,
    Referral,
    ReferralStatus,
    Report,
    ReportStatus,
    utcnow,
)

from .conftest import IsolatedClient
from .factories import make_partners, marked_submission, stored
from .journey import csrf, post
from .workers import smtp_server, wait_for, worker

ADDRESS = "anon-news@example.net"


def _news(report_id: int) -> list[Notification]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(Notification)
        .where(Notification.kind == NotificationKind.REPORTER_NEWS, Notification.report_id == report_id)
        .order_by(Notification.id)
    ).all()


def _to_reporter(mail) -> list:
    return [m for to, m, _at in mail.messages if to == [ADDRESS]]


def _more_news(report: Report, event: str) -> None:
    """As a partner's acknowledgement or message records it, then queues it after commit."""
    news = notices.reporter_news(report, event)
    db.session.commit()
    queue.enqueue_notification(news)


def test_an_anonymous_reporter_gets_one_content_free_email_a_day_at_most(app, tmp_path, redis_conn):
    _, area = make_partners(police_rule=True, support_rule=True)
    sub = marked_submission("NEWSMARK", area.id)
    sub.news_email, sub.may_contact = ADDRESS, False  # anonymous: no name, no way to contact them
    del sub.content["contact"]
    report, _ = stored(sub)
    with smtp_server() as mail:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=mail.port)
        with worker(app, tmp_path):
            wait_for(lambda: _to_reporter(mail), what="the first news e-mail (the report was passed on)")
            report = db.session.get(Report, report.id)
            _more_news(report, "acknowledged-1")
            _more_news(report, "message-1")
            wait_for(
                lambda: all(n.sent_at or n.next_attempt_at > utcnow() for n in _news(report.id)),
                what="the later news to be put off",
            )
            assert len(_to_reporter(mail)) == 1  # the same day: nothing more yet

            # A day later (the first e-mail's time moved back, and the sweeper's wait with it).
            first, *later = _news(report.id)
            first.sent_at -= timedelta(days=1)
            for n in later:
                n.next_attempt_at = utcnow() - timedelta(minutes=5)
            db.session.commit()
            assert housekeeping.sweep() == 2
            wait_for(lambda: all(n.sent_at for n in _news(report.id)), what="the put-off news to be dealt with")
            assert len(_to_reporter(mail)) == 2  # one e-mail told both pieces of news
            assert sorted(n.recipients for n in _news(report.id)) == [0, 1, 1]

    for message in _to_reporter(mail):
        text = message.as_string()
        assert "NEWSMARK" not in text and report.reference in text
        assert "Victim Support" not in text and "Police" not in text  # not even who has it


def test_the_address_is_erased_when_the_report_closes_or_when_the_person_asks(app, client, redis_conn):
    from mantra.jobs.notify import send_notification
    from mantra.jobs.route import route_report

    _, area = make_partners(police_rule=True, support_rule=True)
    asked, closed = [], []
    for marker, kept in (("ASKS", asked), ("CLOSES", closed)):
        sub = marked_submission(marker, area.id)
        sub.news_email = ADDRESS
        report, code = stored(sub)
        route_report(report.id)
        kept.extend([report.id, code])

    # The person asks: the address goes at once, and later news is sent to nobody.
    reporter = IsolatedClient(app, app.response_class)
    post(reporter, "/follow-up/", {"code": asked[1]})
    page = reporter.get("/follow-up/report").text
    assert "at most once a day" in page
    done = reporter.post("/follow-up/news/stop", data={"csrf_token": csrf(page)}, follow_redirects=True)
    assert "Your email address has been deleted" in done.text and "We do not email you about this report" in done.text
    assert db.session.get(Report, asked[0]).notify_wrap is None
    assert notices.reporter_news(db.session.get(Report, asked[0]), "message-9") is None

    # Every referral closes: the closing news goes, then the address is erased.
    db.session.execute(
        sa.update(Referral)
        .where(Referral.report_id == closed[0])
        .values(status=ReferralStatus.CLOSED, closed_at=utcnow(), outcome="support_given")
    )
    for n in _news(closed[0]):  # the routed news was sent more than a day ago
        n.sent_at, n.recipients = utcnow() - timedelta(days=2), 1
    report = db.session.get(Report, closed[0])
    report.status = ReportStatus.CLOSED
    news = notices.reporter_news(report, "closed-1")
    db.session.commit()
    assert send_notification(news) == "sent"
    assert db.session.get(Report, closed[0]).notify_wrap is None
    why = db.session.scalars(
        sa.select(AuditEvent.detail).where(AuditEvent.action == "report.news_address_erased").order_by(AuditEvent.id)
    ).all()
    assert why == [{"why": "asked", "by": "reporter"}, {"why": "closed", "by": "service"}]


def test_a_report_closed_by_consent_withdrawn_loses_its_address_once_no_news_waits(app, redis_conn):
    from mantra.domain import consent
    from mantra.jobs.route import route_report

    _, area = make_partners(police_rule=True, support_rule=True)
    sub = marked_submission("WITHDRAWS", area.id)
    sub.news_email = ADDRESS
    report, _ = stored(sub)
    route_report(report.id)
    report = db.session.get(Report, report.id)
    for referral in db.session.scalars(sa.select(Referral)).all():
        consent.withdraw(report, referral.partner_id, by="reporter")
    db.session.commit()
    assert report.status == ReportStatus.CLOSED and report.notify_wrap is not None
    assert notices.forget_closed_addresses() == 0  # the "passed on" news has not gone yet
    for n in _news(report.id):
        n.sent_at, n.recipients = utcnow(), 1
    db.session.commit()
    assert housekeeping.tick().count("1 news addresses erased") == 1
    assert db.session.get(Report, report.id).notify_wrap is None
