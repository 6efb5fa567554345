"""Follow-up with the receipt code: status, two-way messages, no enumeration."""

from __future__ import annotations

import io
import time

import sqlalchemy as sa

from mantra.crypto import vault
from mantra.extensions import db
from mantra.models import Attachment, Message, MessageDirection, Report, ReportStatus

from .factories import make_partners
from .journey import answer_all, csrf, errors, post, submit
from .test_reporting import _png_with_gps

NOT_FOUND = "We could not find a report with that receipt code"


def _reported(client):
    make_partners()
    answer_all(client)
    _, reference, code = submit(client)
    return reference, code


def test_the_receipt_code_shows_status_and_a_message_thread_both_ways(client, app):
    reference, code = _reported(client)
    response = post(client, "/follow-up/", {"code": code.replace("-", " ")})
    assert response.status_code == 302 and "/follow-up/report" == response.headers["Location"]
    page = client.get("/follow-up/report")
    assert reference in page.text and "Received" in page.text and "There are no messages yet" in page.text

    # A partner's message (sealed with the report's key, as the triage workspace will) appears.
    report = db.session.scalar(sa.select(Report))
    from mantra.domain import intake, messages

    key = intake.open_with_receipt(code).data_key
    staff = Message(report_id=report.id, direction=MessageDirection.TO_REPORTER, sealed_body=b"")
    db.session.add(staff)
    db.session.flush()
    staff.sealed_body = vault.seal(
        key,
        b"We have read your report. Can we call you?",
        table="message",
        row_id=messages.message_place(staff.id, report.id, MessageDirection.TO_REPORTER),
        field="body",
    )
    report.status = ReportStatus.IN_PROGRESS
    db.session.commit()
    page = client.get("/follow-up/report")
    assert "We have read your report. Can we call you?" in page.text and "Being handled" in page.text

    reply = post(
        client,
        "/follow-up/report",
        {"body": "Yes, after 6pm please.", "file": (io.BytesIO(_png_with_gps()), "second.jpg")},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 302
    page = client.get(reply.headers["Location"])
    assert "Yes, after 6pm please." in page.text and "Your message has been sent" in page.text
    assert "File sent: second.jpg" in page.text and "Someone is working on your report" in page.text
    sealed = db.session.scalar(
        sa.select(Message.sealed_body).where(Message.direction == MessageDirection.FROM_REPORTER)
    )
    assert b"6pm" not in sealed
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(Attachment).where(Attachment.message_id.is_not(None)))
        == 1
    )


def test_an_empty_reply_gets_a_message_and_keeps_nothing(client):
    _, code = _reported(client)
    post(client, "/follow-up/", {"code": code})
    response = post(client, "/follow-up/report", {"body": "  "})
    assert any("Enter your message" in e for e in errors(response.text))


def test_wrong_malformed_and_real_codes_cost_the_same_argon2id_work(client, monkeypatch):
    """Timing tells a guesser nothing: every attempt, right or wrong or garbage,
    makes the same Argon2id calls with the same parameters."""
    _, code = _reported(client)
    calls: list[tuple] = []
    real = vault.Argon2Params.derive

    def counted(params, secret, salt, length):
        calls.append((params, length))
        return real(params, secret, salt, length)

    monkeypatch.setattr(vault.Argon2Params, "derive", counted)
    wrong = code[:-1] + ("1" if code[-1] != "1" else "2")
    spent = {}
    for label, attempt in [
        ("wrong", wrong),
        ("malformed", "12-34"),
        ("letters", "<script>x</script>"),
        ("right", code),
    ]:
        page = client.get("/follow-up/")
        calls.clear()
        response = client.post("/follow-up/", data={"code": attempt, "csrf_token": csrf(page.text)})
        spent[label] = list(calls)
        if label == "wrong":
            assert response.status_code == 200 and errors(response.text) == [
                NOT_FOUND + ". Check the code and try again"
            ]
        elif label != "right":  # not a code at all: says what a code looks like
            assert response.status_code == 200 and errors(response.text) == [
                "Receipt codes are 20 numbers, for example 1234-5678-9012-3456-7890"
            ]
            assert "<script>x</script>" not in response.text
    assert response.status_code == 302  # the right code opened the report
    assert spent["wrong"] == spent["malformed"] == spent["letters"] == spent["right"]
    assert spent["right"] == [(p, 64) for p in vault.RECEIPT_KDF_HISTORY]


def test_guessing_is_rate_limited(client):
    _reported(client)
    statuses = [post(client, "/follow-up/", {"code": "0000-0000-0000-0000-0000"}).status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429
    assert "Too many attempts" in post(client, "/follow-up/", {"code": "1"}).text


def test_without_a_code_the_report_page_sends_you_to_enter_one(client):
    _, code = _reported(client)
    assert client.get("/follow-up/report").headers["Location"].endswith("/follow-up/")
    post(client, "/follow-up/", {"code": code})
    from .journey import csrf

    page = client.get("/follow-up/report")
    client.post("/follow-up/sign-out", data={"csrf_token": csrf(page.text)})
    assert client.get("/follow-up/report").status_code == 302


def test_the_follow_up_session_ends_after_an_hour_however_active(client, app):
    from datetime import timedelta

    from mantra.domain.limits import FOLLOWUP_MAX
    from mantra.models import Draft, as_utc, utcnow

    _, code = _reported(client)
    post(client, "/follow-up/", {"code": code})
    with client.session_transaction() as cookie_session:
        row = sa.select(Draft.expires_at).where(Draft.id == cookie_session["followup"]["id"])
    expires = db.session.scalar(row)
    assert abs(as_utc(expires) - (utcnow() + FOLLOWUP_MAX)) < timedelta(seconds=30)
    # Activity (reading, writing) does not move the end...
    assert client.get("/follow-up/report").status_code == 200
    post(client, "/follow-up/report", {"body": "Still here."})
    db.session.expire_all()
    assert db.session.scalar(row) == expires
    # ...so when the hour is up, an active person is signed out all the same.
    db.session.execute(sa.update(Draft).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get("/follow-up/report").headers["Location"].endswith("/follow-up/")


def test_the_follow_up_session_ends_after_20_idle_minutes(client, app):
    from mantra.domain.limits import FOLLOWUP_IDLE

    _, code = _reported(client)
    post(client, "/follow-up/", {"code": code})
    with client.session_transaction() as cookie_session:
        cookie_session["followup"] = {
            **cookie_session["followup"],
            "seen": time.time() - FOLLOWUP_IDLE.total_seconds() + 60,
        }
    assert client.get("/follow-up/report").status_code == 200  # a minute to spare, and activity resets it
    with client.session_transaction() as cookie_session:
        cookie_session["followup"] = {
            **cookie_session["followup"],
            "seen": time.time() - FOLLOWUP_IDLE.total_seconds() - 1,
        }
    assert client.get("/follow-up/report").headers["Location"].endswith("/follow-up/")


def test_the_report_key_is_not_in_the_cookie_and_signing_out_revokes_a_copy(client, app):
    from mantra.domain import intake

    _, code = _reported(client)
    post(client, "/follow-up/", {"code": code})
    data_key = intake.open_with_receipt(code).data_key
    import base64

    from .journey import cookie_payload

    cookie = cookie_payload(client.get_cookie("__Host-mantra_session").value)
    assert b'"followup"' in cookie
    assert base64.b64encode(data_key) not in cookie and data_key.hex().encode() not in cookie
    copied = client.get_cookie("__Host-mantra_session").value
    from .journey import csrf

    client.post("/follow-up/sign-out", data={"csrf_token": csrf(client.get("/follow-up/report").text)})
    thief = app.test_client()
    thief.set_cookie("__Host-mantra_session", copied)
    assert thief.get("/follow-up/report").status_code == 302


def test_a_message_turned_round_or_a_file_moved_in_the_database_does_not_open(client, app):
    """A database writer makes a partner's message look like the reporter's, and
    moves a file to another message: neither is shown as genuine; nothing 500s."""
    from mantra.domain import intake, messages
    from mantra.models import Attachment

    _, code = _reported(client)
    opened = intake.open_with_receipt(code)
    partner_said = messages.add_message(opened, "Please call us on 0300 123.", MessageDirection.TO_REPORTER)
    with_file = messages.add_message(
        opened,
        "Here is the photo.",
        MessageDirection.FROM_REPORTER,
        intake.EvidenceFile("photo.png", "image/png", b"PNG"),
    )
    db.session.commit()
    post(client, "/follow-up/", {"code": code})
    page = client.get("/follow-up/report")
    assert "Please call us on 0300 123." in page.text and "File sent: photo.png" in page.text

    db.session.execute(
        sa.update(Message).where(Message.id == partner_said).values(direction=MessageDirection.FROM_REPORTER)
    )
    db.session.execute(sa.update(Attachment).where(Attachment.message_id == with_file).values(message_id=partner_said))
    db.session.commit()
    page = client.get("/follow-up/report")
    assert page.status_code == 200
    assert "Please call us on 0300 123." not in page.text and "photo.png" not in page.text
    assert page.text.count("This could not be opened") == 2


def test_a_message_written_as_the_session_ran_out_is_kept_and_sent_after_signing_in_again(client, app):
    from mantra.domain.limits import FOLLOWUP_IDLE

    _, code = _reported(client)
    post(client, "/follow-up/", {"code": code})
    page = client.get("/follow-up/report").text
    assert "signed out after 20 minutes without activity" in page
    long_message = "He came back on Tuesday and said it again.\n" * 40
    with client.session_transaction() as cookie_session:
        cookie_session["followup"] = {**cookie_session["followup"], "seen": time.time() - FOLLOWUP_IDLE.total_seconds()}
    ended = client.post("/follow-up/report", data={"csrf_token": csrf(page), "body": long_message})
    assert ended.status_code == 200 and "Your message has not been sent" in ended.text
    assert "He came back on Tuesday" in ended.text and not db.session.scalar(sa.select(sa.func.count(Message.id)))
    signed_in = client.post(
        "/follow-up/", data={"csrf_token": csrf(ended.text), "code": code, "unsent": long_message.strip()}
    )
    report = client.get(signed_in.headers["Location"]).text
    assert "Your message has not been sent yet" in report and "He came back on Tuesday" in report
    post(client, "/follow-up/report", {"body": long_message})
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 1
    assert "has not been sent yet" not in client.get("/follow-up/report").text


def test_a_message_sent_after_the_cookie_itself_expired_is_shown_again_not_lost(client, app):
    _, code = _reported(client)
    post(client, "/follow-up/", {"code": code})
    page = client.get("/follow-up/report").text
    client.delete_cookie("__Host-mantra_session")  # the browser dropped it: 2 hours without a visit
    ended = client.post("/follow-up/report", data={"csrf_token": csrf(page), "body": "Please call me back."})
    assert ended.status_code == 200 and "Please call me back." in ended.text
    assert "Enter your receipt code" not in ended.text  # a calm page, not an error
