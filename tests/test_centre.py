"""Third-party reporting centres: sign in, report for someone with consent, see own reports."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from mantra.crypto import vault
from mantra.domain import intake
from mantra.extensions import db
from mantra.models import Channel, RecipientKind, Report, ReportKey, StaffRole

from .factories import make_partners, make_user, stored
from .journey import answer_all, csrf, errors, post, submit

PASSWORD = "library centre password"


def _centre_staff(app):
    partners, _ = make_partners()
    centre, centre_key = partners["centre-library"]
    user = make_user(centre, "fatima@library.example", PASSWORD, StaffRole.CENTRE)
    return partners, centre, centre_key, user


def test_centre_staff_report_for_someone_with_consent_sealed_to_the_centre(client, app):
    partners, centre, centre_key, user = _centre_staff(app)
    signed_in = post(client, "/centre/sign-in", {"email": "Fatima@Library.example", "password": PASSWORD})
    assert signed_in.status_code == 302
    answer_all(client, who={"who": "centre_staff"})
    check = client.get("/report/check")
    assert "Central Library centre" in check.text
    _, reference, code = submit(client)
    report = db.session.scalar(sa.select(Report).where(Report.reference == reference))
    assert report.channel == Channel.CENTRE and report.centre_partner_id == centre.id
    assert report.submitted_by_id == user.id
    wrap = db.session.scalar(
        sa.select(ReportKey.wrap).where(ReportKey.report_id == report.id, ReportKey.recipient == RecipientKind.PARTNER)
    )
    locked = vault.unwrap(wrap, centre_key, intake.report_key_info(report.id, RecipientKind.PARTNER, centre.id))
    assert intake.open_locked(report.id, locked).data_key == intake.open_with_receipt(code).data_key
    assert intake.open_with_receipt(code).content("account")["person_consented"] == "yes"
    listing = client.get("/centre/submissions")
    assert reference in listing.text


def test_centre_staff_are_not_asked_who_and_every_page_says_who_is_signed_in(client, app):
    _centre_staff(app)
    post(client, "/centre/sign-in", {"email": "fatima@library.example", "password": PASSWORD})
    assert client.get("/report/who?new=1").headers["Location"] == "/report/who"
    assert client.get("/report/who").headers["Location"] == "/report/centre-consent"
    for path in ("/report/centre-consent", "/", "/privacy", "/centre/submissions"):
        page = client.get(path).text
        assert "Signed in as Staff Member, Central Library centre" in page and "/centre/sign-out" in page


def test_centre_staff_cannot_report_for_someone_who_did_not_agree_and_are_told_what_to_do(client, app):
    _centre_staff(app)
    post(client, "/centre/sign-in", {"email": "fatima@library.example", "password": PASSWORD})
    response = post(client, "/report/centre-consent", {"person_consented": "no"})
    assert response.headers["Location"] == "/report/centre-consent/cannot-continue"
    page = client.get(response.headers["Location"]).text
    assert "You can only report for someone with their agreement" in page and "Victim Support can help" in page
    assert client.get("/report/what").headers["Location"] == "/report/centre-consent"  # no way on without a yes
    assert client.get("/report/check").status_code == 302
    assert post(client, "/report/centre-consent", {"person_consented": "yes"}).headers["Location"] == "/report/what"


def test_a_centre_sees_only_its_own_submissions(client, app):
    partners, centre, _, user = _centre_staff(app)
    from mantra.domain import accounts
    from mantra.models import PartnerKind

    east, _ = accounts.create_partner("centre-east", "East Oxford centre", PartnerKind.CENTRE)
    db.session.commit()
    from .factories import marked_submission

    theirs, _ = stored(marked_submission("EAST", None, east.id))
    ours, _ = stored(marked_submission("LIB", None, centre.id))
    post(client, "/centre/sign-in", {"email": "fatima@library.example", "password": PASSWORD})
    listing = client.get("/centre/submissions").text
    assert ours.reference in listing and theirs.reference not in listing


def test_sign_in_returns_only_to_this_site_and_survives_odd_input(client, app):
    _centre_staff(app)
    nul = post(client, "/centre/sign-in", {"email": "a\x00b@example.org", "password": "x"})
    assert nul.status_code == 200
    page = client.get("/centre/sign-in?next=/%09/evil.example")
    from .journey import csrf

    response = client.post(
        "/centre/sign-in?next=/%09/evil.example",
        data={"csrf_token": csrf(page.text), "email": "fatima@library.example", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/centre/submissions"


def test_wrong_passwords_lock_the_account_and_the_message_never_says_which_was_wrong(client, app):
    _centre_staff(app)
    for _ in range(5):
        response = post(client, "/centre/sign-in", {"email": "fatima@library.example", "password": "wrong"})
        assert response.status_code == 200
    locked = post(client, "/centre/sign-in", {"email": "fatima@library.example", "password": PASSWORD})
    assert locked.status_code == 200 and "locked for 15 minutes" in locked.text
    unknown = post(client, "/centre/sign-in", {"email": "nobody@example.org", "password": PASSWORD})
    assert errors(unknown.text) == errors(locked.text)


def test_agency_staff_cannot_use_the_centre_sign_in(client, app):
    partners, _ = make_partners()
    make_user(partners["tvp-oxford"][0], "officer@tvp.example", PASSWORD, StaffRole.TRIAGE)
    response = post(client, "/centre/sign-in", {"email": "officer@tvp.example", "password": PASSWORD})
    assert response.status_code == 200
    assert client.get("/centre/submissions").status_code == 302


def test_a_member_of_the_public_choosing_centre_staff_is_asked_to_sign_in(client, app):
    make_partners()
    response = post(client, "/report/who", {"who": "centre_staff"})
    assert "/centre/sign-in" in response.headers["Location"]
    page = client.get(response.headers["Location"]).text
    assert "If that is not you, go back and choose another answer" in page


def test_centre_staff_are_signed_out_after_30_idle_minutes(client, app):
    import time

    _centre_staff(app)
    post(client, "/centre/sign-in", {"email": "fatima@library.example", "password": PASSWORD})
    assert client.get("/centre/submissions").status_code == 200
    with client.session_transaction() as session:
        session["staff"] = {**session["staff"], "seen": time.time() - 31 * 60}
    assert client.get("/centre/submissions").status_code == 302


def test_every_failed_sign_in_gets_the_same_answer_even_with_a_partners_right_password(client, app):
    """The centre sign-in must not tell an attacker that a triage officer's password is right."""
    partners, _ = make_partners()
    make_user(partners["tvp-oxford"][0], "officer@tvp.example", PASSWORD, StaffRole.TRIAGE)
    right = post(client, "/centre/sign-in", {"email": "officer@tvp.example", "password": PASSWORD})
    wrong = post(client, "/centre/sign-in", {"email": "officer@tvp.example", "password": "wrong password"})
    nobody = post(client, "/centre/sign-in", {"email": "nobody@tvp.example", "password": PASSWORD})
    assert right.status_code == wrong.status_code == nobody.status_code == 200
    assert errors(right.text) == errors(wrong.text) == errors(nobody.text)
    assert client.get("/centre/submissions").status_code == 302


def test_simultaneous_wrong_passwords_all_count_towards_the_lockout(app):
    """A read-then-write counter loses updates when guesses arrive together."""
    import threading

    from mantra.domain import signin
    from mantra.domain.limits import LOCK_AFTER
    from mantra.models import StaffUser

    partners, _ = make_partners()
    user = make_user(partners["centre-library"][0], "fatima@library.example", PASSWORD, StaffRole.CENTRE)
    barrier = threading.Barrier(LOCK_AFTER)

    def guess():
        with app.app_context():
            barrier.wait()
            signin.check_password("fatima@library.example", "a wrong guess")
            db.session.commit()

    threads = [threading.Thread(target=guess) for _ in range(LOCK_AFTER)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert signin.is_locked(db.session.get(StaffUser, user.id))


def test_signing_out_deletes_a_part_written_report_on_the_server(client, app):
    import sqlalchemy as sa

    from mantra.models import Draft

    _centre_staff(app)
    post(client, "/centre/sign-in", {"email": "fatima@library.example", "password": PASSWORD})
    post(client, "/report/centre-consent", {"person_consented": "yes"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 2  # the staff session, the draft
    from .journey import csrf

    client.post("/centre/sign-out", data={"csrf_token": csrf(client.get("/centre/submissions").text)})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0


def test_autofill_helps_people_on_their_own_devices_and_is_off_on_a_centres(client, app):
    """WCAG 1.3.5 on the public journey; on a shared computer one person's
    details must never be offered to the next."""
    import re

    _centre_staff(app)

    def purposes(page: str) -> dict:
        return {
            name: re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0).split('autocomplete="')[1].split('"')[0]
            for name in ("email", "phone")
        }

    answer_all(client)
    assert purposes(client.get("/report/contact").text) == {"email": "email", "phone": "tel"}
    assert 'autocomplete="name"' in client.get("/report/about").text

    post(client, "/centre/sign-in", {"email": "fatima@library.example", "password": PASSWORD})
    answer_all(client, who={"who": "centre_staff"})
    assert purposes(client.get("/report/contact").text) == {"email": "off", "phone": "off"}
    about = client.get("/report/about").text
    assert 'autocomplete="off"' in about and 'autocomplete="name"' not in about


def test_a_copied_staff_cookie_stops_working_at_sign_out_and_at_the_absolute_limit(client, app):
    """The session lives on the server: signing out deletes it, so a copy of the
    cookie taken on a shared computer opens nothing; and it ends after a
    working day however active it is."""
    from flask.testing import FlaskClient

    from mantra.models import Draft

    _centre_staff(app)
    post(client, "/centre/sign-in", {"email": "fatima@library.example", "password": PASSWORD})
    copy = FlaskClient(app, app.response_class)
    copy.set_cookie("__Host-mantra_session", client.get_cookie("__Host-mantra_session").value)
    assert copy.get("/centre/submissions").status_code == 200
    client.post("/centre/sign-out", data={"csrf_token": csrf(client.get("/centre/submissions").text)})
    assert copy.get("/centre/submissions").status_code == 302
    assert client.get("/centre/submissions").status_code == 302

    post(client, "/centre/sign-in", {"email": "fatima@library.example", "password": PASSWORD})
    assert client.get("/centre/submissions").status_code == 200
    db.session.execute(sa.update(Draft).values(expires_at=Draft.expires_at - timedelta(hours=8, seconds=1)))
    db.session.commit()
    assert client.get("/centre/submissions").status_code == 302  # a working day is over, however active


def test_after_an_idle_sign_out_the_same_member_carries_on_and_nobody_else_sees_the_report(client, app):
    """A centre computer left for 30 minutes: the next page asks the member to
    sign in again (never the public journey); the answer being sent is kept,
    and so is the report, for the same member only."""
    import time

    from .journey import opened_draft

    _, centre, _, _ = _centre_staff(app)
    make_user(centre, "other@library.example", PASSWORD, StaffRole.CENTRE)
    post(client, "/centre/sign-in", {"email": "fatima@library.example", "password": PASSWORD})
    post(client, "/report/centre-consent", {"person_consented": "yes"})
    page = client.get("/report/what").text
    with client.session_transaction() as session:
        session["staff"] = {**session["staff"], "seen": time.time() - 31 * 60}
    away = client.post("/report/what", data={"csrf_token": csrf(page), "kinds": ["graffiti"]})
    assert away.headers["Location"] == "/centre/sign-in?next=/report/what"
    assert "not used for 30 minutes" in client.get(away.headers["Location"]).text
    assert "Continue your report" not in client.get("/").text  # the public journey does not open it
    assert client.get("/report/why").headers["Location"].startswith("/centre/sign-in")
    back = post(client, away.headers["Location"], {"email": "fatima@library.example", "password": PASSWORD})
    assert back.headers["Location"] == "/report/what"
    assert opened_draft(client)["kinds"] == ["graffiti"]  # the answer sent as the time ran out

    with client.session_transaction() as session:
        session["staff"] = {**session["staff"], "seen": time.time() - 31 * 60}
    client.get("/report/why")
    post(client, "/centre/sign-in", {"email": "other@library.example", "password": PASSWORD})
    assert client.get("/report/why").headers["Location"] == "/report/centre-consent"  # a clean start, nothing of it
    assert "Continue your report" not in client.get("/").text


def test_signing_out_says_so(client, app):
    _centre_staff(app)
    post(client, "/centre/sign-in", {"email": "fatima@library.example", "password": PASSWORD})
    page = client.get("/centre/submissions").text
    out = client.post("/centre/sign-out", data={"csrf_token": csrf(page)}, follow_redirects=True)
    assert "You have signed out" in out.text
