"""Partner staff sign in with a password and a second factor (an authenticator
code or a one-time recovery code) that unlocks their key for the session."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
import sqlalchemy as sa

from mantra.domain.limits import LOCK_AFTER
from mantra.extensions import db
from mantra.models import StaffRole, StaffUser

from .factories import make_partners, make_user
from .journey import answer_all, csrf, errors, post, submit

PASSWORD = "a long staff password"


@pytest.fixture
def officer(app):
    made, _ = make_partners(police_rule=True)
    return make_user(made["tvp-oxford"][0], "officer@tvp.example", PASSWORD, StaffRole.TRIAGE)


def _police_officer(**rules):
    """Partners (the police rule on), and a police triage officer granted the police partner's key."""
    from mantra.domain import accounts

    made, _ = make_partners(police_rule=True, **rules)
    police, police_key = made["tvp-oxford"]
    officer = make_user(police, "officer@tvp.example", PASSWORD, StaffRole.TRIAGE)
    accounts.grant(police, police_key, officer, granted_by=None)
    db.session.commit()
    return made, police, officer


def _password(client, email="officer@tvp.example", password=PASSWORD):
    return post(client, "/triage/sign-in", {"email": email, "password": password})


def _enrol(client, email="officer@tvp.example") -> tuple[str, list[str]]:
    """First sign-in: the enrolment page's key goes into an 'app' (pyotp), whose code completes it."""
    assert _password(client, email).headers["Location"] == "/triage/enrol"
    page = client.get("/triage/enrol").text
    assert "<svg" in page and 'aria-label="QR code"' in page and "<script>" not in page
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    wrong = client.post("/triage/enrol", data={"csrf_token": csrf(page), "code": "000000"})
    assert any("That code is wrong" in e for e in errors(wrong.text))
    done = client.post("/triage/enrol", data={"csrf_token": csrf(page), "code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.text)
    assert len(codes) == 10
    return secret, codes


def _sign_out(client):
    page = client.get("/triage/").text
    return client.post("/triage/sign-out", data={"csrf_token": csrf(page)}, follow_redirects=True)


def _next_step_code(secret: str) -> str:
    """A code for a later time step than any used so far (a real app shows one every 30 seconds)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_first_sign_in_enrols_an_authenticator_then_every_sign_in_needs_its_code(client, officer):
    assert client.get("/triage/").headers["Location"].startswith("/triage/sign-in")
    secret, _ = _enrol(client)
    inbox = client.get("/triage/")
    assert inbox.status_code == 200 and "Referrals to Thames Valley Police" in inbox.text
    assert "Signed in as Staff Member, Thames Valley Police" in inbox.text
    assert "You have signed out" in _sign_out(client).text
    assert client.get("/triage/").status_code == 302

    assert _password(client).headers["Location"] == "/triage/sign-in/code"
    assert client.get("/triage/").status_code == 302  # the password alone opens nothing
    page = client.get("/triage/sign-in/code").text
    code = _next_step_code(secret)
    assert post(client, "/triage/sign-in/code", {"code": code}).headers["Location"] == "/triage/"
    _sign_out(client)
    _password(client)
    replay = post(client, "/triage/sign-in/code", {"code": code})  # an overheard code works once
    assert replay.status_code == 200 and any("used already" in e for e in errors(replay.text))
    assert page


def test_a_recovery_code_signs_in_once(client, officer):
    _, codes = _enrol(client)
    _sign_out(client)
    _password(client)
    assert post(client, "/triage/sign-in/code", {"code": codes[0].upper()}).headers["Location"] == "/triage/"
    _sign_out(client)
    _password(client)
    again = post(client, "/triage/sign-in/code", {"code": codes[0]})
    assert again.status_code == 200 and client.get("/triage/").status_code == 302


def test_wrong_codes_lock_the_account_like_wrong_passwords(client, officer):
    secret, _ = _enrol(client)
    _sign_out(client)
    _password(client)
    for _ in range(LOCK_AFTER):
        post(client, "/triage/sign-in/code", {"code": "123456"})
    locked = post(client, "/triage/sign-in/code", {"code": _next_step_code(secret)})
    assert locked.status_code == 200 and client.get("/triage/").status_code == 302
    assert errors(_password(client).text)  # the password step is locked too


def test_the_totp_secret_and_the_user_key_are_nowhere_in_clear(client, officer, app):
    from mantra.domain import intake  # noqa: F401  (the report tables exist)

    from .journey import cookie_payload
    from .test_storage import _database_bytes

    secret, codes = _enrol(client)
    cookie = cookie_payload(client.get_cookie("__Host-mantra_session").value)
    dump = _database_bytes(app)
    for value in (secret, secret.lower(), codes[0], codes[0].replace("-", "")):
        assert value.encode() not in dump and value.encode() not in cookie
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "officer@tvp.example"))
    assert user.totp_secret_sealed and user.totp_last_step


def test_a_copied_cookie_opens_nothing_after_sign_out(client, officer, app):
    from .conftest import IsolatedClient

    _enrol(client)
    copied = client.get_cookie("__Host-mantra_session").value
    _sign_out(client)
    thief = IsolatedClient(app, app.response_class)
    thief.set_cookie("__Host-mantra_session", copied)
    assert thief.get("/triage/").status_code == 302


def test_the_inbox_lists_only_the_partners_own_referrals_and_the_e_mail_link_works(client, officer, app):
    from mantra.jobs.route import route_report
    from mantra.models import Report

    answer_all(client, sharing={"consent_police": "no", "consent_partners": "no"})
    _, not_ours, _ = submit(client)
    client.get("/report/who?new=1")
    answer_all(client)
    _, ours, _ = submit(client)
    for report in db.session.scalars(sa.select(Report)):
        route_report(report.id)
    _enrol(client)
    inbox = client.get("/triage/").text
    assert ours in inbox and not_ours not in inbox


@pytest.mark.parametrize("role", [StaffRole.CENTRE])
def test_centre_staff_and_wrong_passwords_get_the_same_answer(client, app, role):
    made, _ = make_partners()
    make_user(made["centre-library"][0], "centre@library.example", PASSWORD, role)
    make_user(made["tvp-oxford"][0], "officer@tvp.example", PASSWORD, StaffRole.TRIAGE)
    centre = _password(client, "centre@library.example")
    wrong = _password(client, "officer@tvp.example", "not the password")
    assert centre.status_code == wrong.status_code == 200 and errors(centre.text) == errors(wrong.text)


def test_new_recovery_codes_replace_the_old_ones(client, officer):
    _, old = _enrol(client)
    page = client.get("/triage/recovery-codes").text
    assert "You have 10 unused recovery codes" in page
    new = re.findall(
        r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>",
        client.post("/triage/recovery-codes", data={"csrf_token": csrf(page)}).text,
    )
    assert len(new) == 10 and not set(new) & set(old)
    _sign_out(client)
    _password(client)
    assert post(client, "/triage/sign-in/code", {"code": old[1]}).status_code == 200
    assert post(client, "/triage/sign-in/code", {"code": new[1]}).headers["Location"] == "/triage/"


def _routed_reports(client):
    """Two reports from the public: one the police may see, one they may not; both routed."""
    from mantra.jobs.route import route_report
    from mantra.models import Report

    answer_all(client, sharing={"consent_police": "no", "consent_partners": "no"})
    _, not_ours, _ = submit(client)
    client.get("/report/who?new=1")
    answer_all(client, contact={"may_contact": "no", "news": "yes", "news_email": "r@example.org"})
    _, ours, _ = submit(client)
    for report in db.session.scalars(sa.select(Report)):
        route_report(report.id)
    db.session.commit()
    return ours, not_ours


def test_a_member_opens_their_partners_referral_and_acknowledges_it_all_audited(client, app):
    from mantra.models import AuditEvent, Notification, Referral, ReferralStatus

    made, police, officer = _police_officer()
    ours, not_ours = _routed_reports(client)
    _enrol(client)
    inbox = client.get("/triage/").text
    link = re.search(rf'href="(/triage/referrals/\d+)">{ours}<', inbox).group(1)
    page = client.get(link).text
    assert "A man shouted abuse at me about my religion." in page and "Religion or beliefs" in page
    for words in ("3 November 2026", "Evening", "In Oxford", "Cowley"):  # chosen answers in words, not codes
        assert f">{words}<" in page.replace("\n", "").replace("  ", ""), words
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "referral.viewed")
        )
        == 1
    )
    done = client.post(f"{link}/acknowledge", data={"csrf_token": csrf(page)}, follow_redirects=True)
    assert "Acknowledged." in done.text and "they will get one (at most one a day)" in done.text
    referral = db.session.get(Referral, int(link.rsplit("/", 1)[1]))
    assert referral.status == ReferralStatus.ACKNOWLEDGED and referral.acknowledged_at is not None
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.dedupe_key.like("news/%/acknowledged-%"))
        )
        == 1
    )
    # Another partner's referral: the same answer as one that does not exist.
    other = db.session.scalar(sa.select(Referral.id).where(Referral.partner_id != police.id))
    assert client.get(f"/triage/referrals/{other}").status_code == 404
    assert client.get("/triage/referrals/999999").status_code == 404
    assert client.post(f"/triage/referrals/{other}/acknowledge", data={"csrf_token": csrf(page)}).status_code == 404


def test_without_a_grant_or_with_a_grant_copied_from_someone_else_nothing_opens(client, app):
    from mantra.domain import accounts
    from mantra.models import KeyGrant, Referral

    made, _ = make_partners(police_rule=True)
    police, police_key = made["tvp-oxford"]
    officer = make_user(police, "officer@tvp.example", PASSWORD, StaffRole.TRIAGE)
    colleague = make_user(police, "colleague@tvp.example", PASSWORD, StaffRole.TRIAGE)
    accounts.grant(police, police_key, colleague, granted_by=None)
    db.session.commit()
    _routed_reports(client)
    _enrol(client)
    referral_id = db.session.scalar(sa.select(Referral.id).where(Referral.partner_id == police.id))
    assert client.get(f"/triage/referrals/{referral_id}").status_code == 409  # no grant yet
    theirs = db.session.scalar(sa.select(KeyGrant).where(KeyGrant.staff_user_id == colleague.id))
    db.session.add(KeyGrant(partner_id=police.id, staff_user_id=officer.id, wrap=theirs.wrap))  # a database writer
    db.session.commit()
    refused = client.get(f"/triage/referrals/{referral_id}")
    assert refused.status_code == 409 and "cannot be opened with your key" in refused.text
    assert "A man shouted abuse" not in refused.text


def test_a_new_password_protects_the_same_key_and_the_old_one_stops_working(client, app):
    made, police, officer = _police_officer()
    ours, _ = _routed_reports(client)
    secret, _ = _enrol(client)
    wrong = post(client, "/triage/password", {"current": "not it at all", "new": "a brand new passphrase"})
    assert "Your current password is wrong" in errors(wrong.text)
    short = post(client, "/triage/password", {"current": PASSWORD, "new": "short"})
    assert any("between 12 and 200" in e for e in errors(short.text))
    done = post(client, "/triage/password", {"current": PASSWORD, "new": "a brand new passphrase"})
    assert done.headers["Location"] == "/triage/"  # their home
    _sign_out(client)
    assert errors(_password(client).text)  # the old password
    assert _password(client, password="a brand new passphrase").headers["Location"] == "/triage/sign-in/code"
    post(client, "/triage/sign-in/code", {"code": _next_step_code(secret)})
    link = re.search(rf'href="(/triage/referrals/\d+)">{ours}<', client.get("/triage/").text).group(1)
    assert "A man shouted abuse" in client.get(link).text  # the same key: the grant still opens


def test_the_inbox_filters_on_facets_marks_deadlines_and_pages(client, app, monkeypatch):
    from datetime import timedelta

    from mantra.models import Referral, utcnow
    from mantra.triage import listing

    made, police, officer = _police_officer()
    from mantra.jobs.route import route_report
    from mantra.models import Report

    for strands in (["race"], ["religion"], ["race", "disability"]):
        client.get("/report/who?new=1")
        answer_all(client, why={"strands": strands})
        submit(client)
    for report_id in db.session.scalars(sa.select(Report.id)):
        route_report(report_id)
    first = db.session.scalar(sa.select(Referral).order_by(Referral.id))
    first.ack_due_at = utcnow() - timedelta(hours=1)  # overdue
    db.session.commit()
    _enrol(client)

    def references(query=""):
        return re.findall(r'href="/triage/referrals/\d+">(HC-[A-Z0-9-]+)<', client.get(f"/triage/{query}").text)

    assert len(references()) == 3
    assert len(references("?strand=race")) == 2 and len(references("?strand=religion")) == 1
    overdue = client.get("/triage/?deadline=overdue").text
    assert len(references("?deadline=overdue")) == 1 and "govuk-tag--red" in overdue and "Overdue" in overdue
    assert len(references("?strand=not-a-strand")) == 3  # a value not offered is ignored, never an error
    db.session.execute(sa.update(Report).where(Report.id == first.report_id).values(incident_type="incident"))
    db.session.commit()
    assert len(references("?incident_type=crime")) == 2 and len(references("?incident_type=incident")) == 1
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    page_one, page_two = references("?sort=oldest"), references("?sort=oldest&page=2")
    assert len(page_one) == 2 and len(page_two) == 1 and not set(page_one) & set(page_two)
    assert "Page 1 of 2" in client.get("/triage/").text
    assert references("?page=-5") == references()  # odd pages are the first page


def test_a_member_messages_the_reporter_assigns_a_colleague_and_closes_with_an_outcome(client, app):
    from flask.testing import FlaskClient

    from mantra.models import Referral, ReferralStatus, Report, ReportStatus

    from .conftest import IsolatedClient

    made, police, officer = _police_officer()
    colleague = make_user(police, "colleague@tvp.example", PASSWORD, StaffRole.TRIAGE)
    outsider = make_user(made["victim-support"][0], "vs@vs.example", PASSWORD, StaffRole.TRIAGE)
    db.session.commit()
    reporter = IsolatedClient(app, app.response_class)
    answer_all(reporter)
    _, reference, code = submit(reporter)
    from mantra.jobs.route import route_report

    route_report(db.session.scalar(sa.select(Report.id)))
    db.session.commit()
    _enrol(client)
    referral = db.session.scalar(sa.select(Referral).where(Referral.partner_id == police.id))
    link = f"/triage/referrals/{referral.id}"
    page = client.get(link).text

    empty = client.post(f"{link}/message", data={"csrf_token": csrf(page), "body": "  "})
    assert empty.status_code == 200 and "Enter your message" in errors(empty.text)
    sent = client.post(
        f"{link}/message", data={"csrf_token": csrf(page), "body": "Please call 101 ref 55."}, follow_redirects=True
    )
    assert "Your message has been sent." in sent.text and "Please call 101 ref 55." in sent.text
    post(reporter, "/follow-up/", {"code": code})
    seen = reporter.get("/follow-up/report").text
    assert "Please call 101 ref 55." in seen and "Being handled" in seen

    bad = client.post(f"{link}/assign", data={"csrf_token": csrf(page), "assignee": str(outsider.id)})
    assert bad.status_code == 200 and "Select a colleague from the list" in errors(bad.text)
    client.post(f"{link}/assign", data={"csrf_token": csrf(page), "assignee": str(colleague.id)})
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).assigned_to_id == colleague.id

    wrong = client.post(f"{link}/close", data={"csrf_token": csrf(page), "outcome": "shredded"})
    assert wrong.status_code == 200 and errors(wrong.text)
    closed = client.post(
        f"{link}/close", data={"csrf_token": csrf(page), "outcome": "support_given"}, follow_redirects=True
    )
    assert "Closed with the outcome: Support given." in closed.text
    db.session.expire_all()
    done = db.session.get(Referral, referral.id)
    assert done.status == ReferralStatus.CLOSED and done.outcome == "support_given"
    assert db.session.get(Report, done.report_id).status == ReportStatus.CLOSED  # its only referral
    assert isinstance(reporter, FlaskClient)


def test_the_timeline_shows_the_reports_events_and_this_partners_actions_only(client, app):
    from mantra.domain import casework
    from mantra.jobs.route import route_report
    from mantra.models import Referral, Report

    made, police, officer = _police_officer(support_rule=True)
    helper = make_user(made["victim-support"][0], "helper@vs.example", PASSWORD, StaffRole.TRIAGE)
    db.session.commit()
    answer_all(client)
    submit(client)
    route_report(db.session.scalar(sa.select(Report.id)))
    theirs = db.session.scalar(sa.select(Referral).where(Referral.partner_id == made["victim-support"][0].id))
    casework.acknowledge(helper, theirs)  # another partner's action on the same report
    db.session.commit()
    ours = db.session.scalar(sa.select(Referral).where(Referral.partner_id == police.id))
    client.get("/report/who?new=1")
    _enrol(client)
    page = client.get(f"/triage/referrals/{ours.id}").text
    timeline = re.search(r'<div class="moj-timeline" id="timeline">(.*?)\n  </div>', page, re.S).group(1)
    assert "Report received" in timeline and "Sent to the organisations" in timeline
    assert "Acknowledged" not in timeline  # Victim Support's, not ours
    client.post(f"/triage/referrals/{ours.id}/acknowledge", data={"csrf_token": csrf(page)})
    page = client.get(f"/triage/referrals/{ours.id}").text
    timeline = re.search(r'id="timeline">(.*?)\n  </div>', page, re.S).group(1)
    assert re.search(r">Acknowledged</h3>\s*<p class=\"moj-timeline__byline\">by Staff Member<", timeline)
    assert timeline.index("Acknowledged") < timeline.index("Report received")  # newest first


def test_what_staff_write_to_the_reporter_is_nowhere_in_clear(client, app, caplog):
    """A partner's message and the outcome of closing: the database, Redis and
    the log hold no word of the message, and the audit trail holds no content."""
    import logging

    from mantra.models import AuditEvent, Referral

    from .test_storage import _database_bytes, _redis_bytes

    caplog.set_level(logging.DEBUG)
    _, police, _ = _police_officer()
    _routed_reports(client)
    _enrol(client)
    referral_id = db.session.scalar(sa.select(Referral.id).where(Referral.partner_id == police.id))
    page = client.get(f"/triage/referrals/{referral_id}").text
    marker = "MKstaff" + "7f3a9c"
    client.post(f"/triage/referrals/{referral_id}/message", data={"csrf_token": csrf(page), "body": f"Call {marker}"})
    details = db.session.scalars(sa.select(AuditEvent.detail)).all()
    assert marker not in repr(details)
    assert marker.encode() not in _database_bytes(app)
    assert marker.encode() not in _redis_bytes(app.config["REDIS_URL"])
    assert marker not in caplog.text


def test_staff_pages_say_when_the_sign_in_ends_and_stay_on_this_page_restarts_it(client, officer):
    _enrol(client)
    page = client.get("/triage/account").text
    assert 'data-keep-alive="/triage/keep-alive"' in page and "signed out after 30 minutes without activity" in page
    seconds = int(re.search(r'data-seconds="(\d+)"', page).group(1))
    assert 1790 <= seconds <= 1800
    kept = client.post("/triage/keep-alive", headers={"X-CSRFToken": csrf(page)})
    assert 1790 <= kept.json["seconds"] <= 1800 and "you will be signed out at" in kept.json["warning"]
    _sign_out(client)
    assert client.post("/triage/keep-alive", headers={"X-CSRFToken": csrf(page)}).status_code in (302, 400)


def test_a_link_from_an_email_leads_to_the_page_after_signing_in(client, officer):
    secret, codes = _enrol(client)
    _sign_out(client)
    assert client.get("/triage/referrals/5").headers["Location"] == "/triage/sign-in?next=/triage/referrals/5"
    post(client, "/triage/sign-in?next=/triage/referrals/5", {"email": "officer@tvp.example", "password": PASSWORD})
    done = post(client, "/triage/sign-in/code", {"code": _next_step_code(secret)})
    assert done.headers["Location"] == "/triage/referrals/5"
    _sign_out(client)
    post(client, "/triage/sign-in?next=//evil.example/x", {"email": "officer@tvp.example", "password": PASSWORD})
    done = post(client, "/triage/sign-in/code", {"code": codes[0]})
    assert done.headers["Location"] == "/triage/"  # never another site


def test_the_referral_page_reads_every_chosen_answer_in_words_never_a_code(client, app):
    from mantra.domain import accounts
    from mantra.jobs.route import route_report
    from mantra.models import PartnerKind, Report

    from .conftest import IsolatedClient

    _police_officer()
    accounts.create_partner("city-uni", "City University", PartnerKind.AGENCY, serves_students=True)
    db.session.commit()
    reporter = IsolatedClient(app, app.response_class)
    answer_all(
        reporter,
        people={"role": "responsible", "description": "Man in a blue cap", "continue": "1"},
        situation={"student": "city-uni", "council_tenant": "no"},
        about={"age": "25_34", "ethnicity": "other", "religion": "other", "sexual_orientation": "gay_lesbian"},
    )
    submit(reporter)
    route_report(db.session.scalar(sa.select(Report.id)))
    db.session.commit()
    _enrol(client)
    link = re.search(r'href="(/triage/referrals/\d+)"', client.get("/triage/").text).group(1)
    page = client.get(link).text.replace("\n", "").replace("  ", "")
    for words in (
        "Someone responsible: Man in a blue cap",
        "Yes – City University",
        "25 to 34",
        "Another ethnic group",
        "Another religion or belief",
        "Gay or lesbian",
    ):
        assert words in page, words
    for code in ("city-uni", "25 34", ">other<", "gay lesbian"):
        assert code not in page, code
