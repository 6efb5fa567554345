"""Staff accounts: a system administrator adds and resets members; a partner
administrator gives their own members access to the organisation's reports,
after checking the member's key fingerprint."""

from __future__ import annotations

import re

import pyotp
import sqlalchemy as sa

from mantra.crypto import vault
from mantra.domain import accounts, notices, pins
from mantra.extensions import db
from mantra.models import KeyGrant, Notification, NotificationKind, Referral, Report, StaffRole, StaffUser

from .conftest import IsolatedClient
from .factories import make_user
from .journey import csrf, errors, post
from .test_casework import _one_report, _police_referral
from .test_triage import PASSWORD, _enrol, _police_officer


def _signed_in(app, email):
    client = IsolatedClient(app, app.response_class)
    _enrol(client, email)
    return client


def _system_admin(app, made):
    make_user(made["victim-support"][0], "root@vs.example", PASSWORD, StaffRole.ADMIN)
    return _signed_in(app, "root@vs.example")


def _first_sign_in(app, email, password):
    """A new member's first sign-in: the one-time password, an authenticator, then their own password."""
    client = IsolatedClient(app, app.response_class)
    assert (
        post(client, "/triage/sign-in", {"email": email, "password": password}).headers["Location"] == "/triage/enrol"
    )
    page = client.get("/triage/enrol").text
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    client.post("/triage/enrol", data={"csrf_token": csrf(page), "code": pyotp.TOTP(secret).now()})
    assert client.get("/triage/").headers["Location"] == "/triage/password"  # their own password first
    changed = post(client, "/triage/password", {"current": password, "new": "my very own passphrase"})
    assert changed.headers["Location"] == "/triage/"
    return client


def test_an_administrator_adds_a_member_who_chooses_their_own_password(client, app):
    made, police, officer = _police_officer()
    admin = _system_admin(app, made)
    form = admin.get("/admin/users/new").text
    bad = admin.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf(form),
            "name": "Kim Lee",
            "email": "not an email",
            "partner": str(police.id),
            "role": "centre",
        },
    )
    assert "Enter an email address in the correct format" in " ".join(errors(bad.text))
    assert "only at a reporting centre" in " ".join(errors(bad.text)) and 'value="Kim Lee"' in bad.text
    taken = admin.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf(form),
            "name": "Kim",
            "email": "officer@tvp.example",
            "partner": str(police.id),
            "role": "triage",
        },
    )
    assert "Someone already signs in with this email address" in errors(taken.text)
    done = admin.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf(form),
            "name": "Kim Lee",
            "email": "Kim@TVP.example",
            "partner": str(police.id),
            "role": "triage",
        },
    )
    password = re.search(r'id="one-time-password">([a-z2-9-]+)<', done.text).group(1)
    kim = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "kim@tvp.example"))
    assert kim.must_change_password and password.encode() not in kim.password_protected_key
    _first_sign_in(app, "kim@tvp.example", password)


def test_a_partner_admin_gives_access_after_checking_the_fingerprint(client, app):
    made, police, officer = _police_officer()
    chief = make_user(police, "chief@tvp.example", PASSWORD, StaffRole.PARTNER_ADMIN)
    accounts.grant(police, made["tvp-oxford"][1], chief, granted_by=None)
    newcomer = make_user(police, "new@tvp.example", PASSWORD, StaffRole.TRIAGE)
    _one_report(app)
    referral = _police_referral(police)
    member = _signed_in(app, "new@tvp.example")
    assert member.get(f"/triage/referrals/{referral.id}").status_code == 409  # no access yet
    fingerprint = re.search(r'id="key-fingerprint">([0-9a-f:]+)<', member.get("/triage/account").text).group(1)

    boss = _signed_in(app, "chief@tvp.example")
    listed = boss.get("/admin/members").text
    assert "Waiting for access" in listed and "new@tvp.example" in listed
    page = boss.get(f"/admin/members/{newcomer.id}/grant").text
    assert fingerprint in page and fingerprint == pins.fingerprint(newcomer.public_key)
    unticked = boss.post(f"/admin/members/{newcomer.id}/grant", data={"csrf_token": csrf(page)})
    assert "Check the fingerprint with them first" in " ".join(errors(unticked.text))
    boss.post(f"/admin/members/{newcomer.id}/grant", data={"csrf_token": csrf(page), "matches": "y"})
    assert member.get(f"/triage/referrals/{referral.id}").status_code == 200

    # Another organisation's member cannot be given this key.
    outsider = make_user(made["victim-support"][0], "vs@vs.example", PASSWORD, StaffRole.TRIAGE)
    refused = boss.post(f"/admin/members/{outsider.id}/grant", data={"csrf_token": csrf(page), "matches": "y"})
    assert refused.status_code == 404
    assert db.session.scalar(sa.select(KeyGrant).where(KeyGrant.staff_user_id == outsider.id)) is None
    boss.post(f"/admin/members/{newcomer.id}/revoke", data={"csrf_token": csrf(page)})
    assert member.get(f"/triage/referrals/{referral.id}").status_code == 409


def test_a_reset_gives_a_new_key_ends_sessions_and_asks_for_access_again(client, app):
    made, police, officer = _police_officer()
    make_user(police, "chief@tvp.example", PASSWORD, StaffRole.PARTNER_ADMIN)
    _one_report(app)
    referral = _police_referral(police)
    signed_in = _signed_in(app, "officer@tvp.example")
    assert signed_in.get(f"/triage/referrals/{referral.id}").status_code == 200
    old_key = officer.public_key

    admin = _system_admin(app, made)
    confirm = admin.get(f"/admin/users/{officer.id}/reset").text
    assert "Reset Staff Member’s account?" in confirm
    done = admin.post(f"/admin/users/{officer.id}/reset", data={"csrf_token": csrf(confirm)})
    password = re.search(r'id="one-time-password">([a-z2-9-]+)<', done.text).group(1)

    db.session.expire_all()
    officer = db.session.get(StaffUser, officer.id)
    assert officer.public_key != old_key and officer.totp_secret_sealed is None and officer.must_change_password
    assert db.session.scalar(sa.select(KeyGrant).where(KeyGrant.staff_user_id == officer.id)) is None
    # Signed in elsewhere with the old key: signed out.
    assert signed_in.get(f"/triage/referrals/{referral.id}").headers["Location"].startswith("/triage/sign-in")
    assert (
        post(
            IsolatedClient(app, app.response_class),
            "/triage/sign-in",
            {"email": "officer@tvp.example", "password": PASSWORD},
        ).status_code
        == 200
    )
    reset_blob = officer.password_protected_key
    again = _first_sign_in(app, "officer@tvp.example", password)
    assert again.get(f"/triage/referrals/{referral.id}").status_code == 409  # until access is given again
    # Their own password gave them a key pair of their own: the one-time password, with a
    # copy of the database from before, opens nothing they will be given.
    db.session.expire_all()
    officer = db.session.get(StaffUser, officer.id)
    assert accounts.unlock_user_key(officer, "my very own passphrase").public.raw == officer.public_key
    assert vault.unlock_with_password(reset_blob, password).public.raw != officer.public_key
    # Only now are the partner's administrators asked, with nothing of any report in it.
    asked = db.session.scalar(sa.select(Notification).where(Notification.kind == NotificationKind.ACCESS_NEEDED))
    email = notices.compose(asked)
    assert email.to == ["chief@tvp.example"] and "/admin/members" in email.body
    assert all(r not in email.body + email.subject for r in db.session.scalars(sa.select(Report.reference)))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 1


def test_only_members_who_work_referrals_are_given_the_key_and_a_new_role_loses_it(client, app):
    """A system administrator cannot come to hold a partner's key: not by being
    given it, nor by keeping a key given for another role."""
    made, police, officer = _police_officer()
    chief = make_user(police, "chief@tvp.example", PASSWORD, StaffRole.PARTNER_ADMIN)
    accounts.grant(police, made["tvp-oxford"][1], chief, granted_by=None)
    analyst = make_user(police, "analyst@tvp.example", PASSWORD, StaffRole.COORDINATOR)
    boss = _signed_in(app, "chief@tvp.example")
    listed = boss.get("/admin/members").text
    assert f"/admin/members/{analyst.id}/grant" not in listed and "Not needed for this role" in listed
    page = boss.get(f"/admin/members/{officer.id}/grant").text
    assert boss.get(f"/admin/members/{analyst.id}/grant").status_code == 404
    refused = boss.post(f"/admin/members/{analyst.id}/grant", data={"csrf_token": csrf(page), "matches": "y"})
    assert refused.status_code == 404

    # The officer holds the key; a system administrator makes them an administrator: the key goes.
    admin = _system_admin(app, made)
    form = admin.get(f"/admin/users/{officer.id}").text
    admin.post(
        f"/admin/users/{officer.id}",
        data={
            "csrf_token": csrf(form),
            "name": "Staff Member",
            "email": "officer@tvp.example",
            "partner": str(police.id),
            "role": "admin",
            "active": "y",
        },
    )
    assert db.session.scalar(sa.select(KeyGrant).where(KeyGrant.staff_user_id == officer.id)) is None


def test_a_key_swapped_after_the_fingerprint_was_shown_is_not_given_the_partner_key(client, app):
    made, police, officer = _police_officer()
    chief = make_user(police, "chief@tvp.example", PASSWORD, StaffRole.PARTNER_ADMIN)
    accounts.grant(police, made["tvp-oxford"][1], chief, granted_by=None)
    newcomer = make_user(police, "new@tvp.example", PASSWORD, StaffRole.TRIAGE)
    boss = _signed_in(app, "chief@tvp.example")
    page = boss.get(f"/admin/members/{newcomer.id}/grant").text
    shown = re.search(r'name="shown" type="hidden" value="([0-9a-f:]+)"', page).group(1)
    newcomer.public_key = vault.PrivateKey.generate().public.raw  # a database writer's own key
    db.session.commit()
    swapped = boss.post(
        f"/admin/members/{newcomer.id}/grant", data={"csrf_token": csrf(page), "matches": "y", "shown": shown}
    )
    assert "Their key has changed since this page was shown" in " ".join(errors(swapped.text))
    assert db.session.scalar(sa.select(KeyGrant).where(KeyGrant.staff_user_id == newcomer.id)) is None


def test_a_new_centre_member_chooses_their_own_password_before_reporting(client, app):
    made, police, officer = _police_officer()
    library = made["centre-library"][0]
    admin = _system_admin(app, made)
    form = admin.get("/admin/users/new").text
    done = admin.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf(form),
            "name": "Ann Bell",
            "email": "ann@library.example",
            "partner": str(library.id),
            "role": "centre",
        },
    )
    assert "/centre/sign-in" in done.text and "authenticator" not in done.text
    password = re.search(r'id="one-time-password">([a-z2-9-]+)<', done.text).group(1)
    centre = IsolatedClient(app, app.response_class)
    post(centre, "/centre/sign-in", {"email": "ann@library.example", "password": password})
    assert centre.get("/report/who?new=1").headers["Location"] == "/centre/password"
    assert centre.get("/centre/submissions").headers["Location"] == "/centre/password"
    changed = post(centre, "/centre/password", {"current": password, "new": "the library's own passphrase"})
    assert changed.headers["Location"] == "/centre/submissions"
    assert centre.get("/centre/submissions").status_code == 200
    ann = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "ann@library.example"))
    assert not ann.must_change_password


def test_a_sign_in_returns_only_to_a_page_the_member_may_use(client, app):
    """A system administrator following a link to the inbox lands on their own home, not a refusal."""
    made, police, officer = _police_officer()
    make_user(made["victim-support"][0], "root@vs.example", PASSWORD, StaffRole.ADMIN)
    admin = IsolatedClient(app, app.response_class)
    post(admin, "/triage/sign-in?next=/triage/", {"email": "root@vs.example", "password": PASSWORD})
    page = admin.get("/triage/enrol").text
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    done = admin.post("/triage/enrol", data={"csrf_token": csrf(page), "code": pyotp.TOTP(secret).now()})
    assert 'href="/admin/"' in done.text.split('id="recovery-codes"', 1)[1]  # Continue goes to their home
