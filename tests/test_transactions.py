"""One transaction per request: a failure anywhere in sending stores nothing
and gives the person their answers back; two simultaneous sends store one
report; and reading a page writes nothing."""

from __future__ import annotations

import re
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import session
from flask.testing import FlaskClient

from mantra.domain import intake
from mantra.extensions import db
from mantra.models import Attachment, AuditEvent, Draft, DraftFile, Report, ReportKey, ReportStrand, StaffRole, utcnow
from mantra.web import sessions

from .factories import make_partners, make_user
from .journey import ANSWERS, answer_all, answer_until, csrf, opened_draft, post, receipt_code, send_token, submit
from .test_reporting import _png_with_gps, _upload

NARRATIVE = ANSWERS["account"]["narrative"]


@pytest.fixture
def partners(app):
    return make_partners(police_rule=True)[0]


def _stored_rows() -> dict:
    return {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Report, ReportKey, ReportStrand, Attachment, AuditEvent)
    }


@contextmanager
def _failing_call(monkeypatch, target, name, when=lambda *a, **kw: True):
    """Make target.name raise when `when` holds for its arguments; otherwise the real function runs."""
    real = getattr(target, name)

    def failing(*args, **kwargs):
        if when(*args, **kwargs):
            raise RuntimeError("injected failure")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, failing)
    yield
    monkeypatch.setattr(target, name, real)


@contextmanager
def _failing_table(table: str, deferred: bool = False):
    """A real PostgreSQL failure: a trigger that refuses rows of `table` (at
    insert, or at commit when deferred)."""
    kind = "CONSTRAINT TRIGGER" if deferred else "TRIGGER"
    timing = "AFTER INSERT" if deferred else "BEFORE INSERT"
    when = "DEFERRABLE INITIALLY DEFERRED" if deferred else ""
    db.session.rollback()  # the test's own reads would hold the table against the DDL
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION mantra_test_refuse() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql"
        )
        conn.exec_driver_sql(
            f'CREATE {kind} mantra_test_refuse {timing} ON "{table}" {when} '
            "FOR EACH ROW EXECUTE FUNCTION mantra_test_refuse()"
        )
    try:
        yield
    finally:
        db.session.rollback()
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f'DROP TRIGGER mantra_test_refuse ON "{table}"')


def _fault(name, app, monkeypatch):
    from mantra.crypto import vault as v
    from mantra.domain import audit, keyring

    faults = {
        "receipt code": lambda: _failing_call(monkeypatch, v, "derive_receipt"),
        "receipt salt": lambda: _failing_call(monkeypatch, keyring, "receipt_salt"),
        "report row": lambda: _failing_table("report"),
        "strand rows": lambda: _failing_table("report_strand"),
        "sealing the account": lambda: _failing_call(
            monkeypatch, v, "seal", lambda *a, **kw: kw.get("table") == "report"
        ),
        "intake key file missing": lambda: _config(
            app, INTAKE_PUBLIC_KEY_FILE=app.config["INTAKE_PUBLIC_KEY_FILE"] + ".gone"
        ),
        "wrap to the reporter": lambda: _failing_call(monkeypatch, v, "wrap", lambda *a, **kw: b"reporter" in a[2]),
        "key wraps rows": lambda: _failing_table("report_key"),
        "attachment": lambda: _failing_table("attachment"),
        "audit": lambda: _failing_call(monkeypatch, audit, "record"),
        "closing the draft": lambda: _failing_call(
            monkeypatch, sessions, "save", lambda slot, data, *a: "sent" in data
        ),
        "commit": lambda: _failing_table("report", deferred=True),
    }
    return faults[name]()


@contextmanager
def _config(app, **settings):
    before = {k: app.config[k] for k in settings}
    app.config.update(settings)
    yield
    app.config.update(before)


STEPS_OF_SENDING = [
    "receipt code",
    "receipt salt",
    "report row",
    "strand rows",
    "sealing the account",
    "intake key file missing",
    "wrap to the reporter",
    "key wraps rows",
    "attachment",
    "audit",
    "closing the draft",
    "commit",
]


@pytest.mark.parametrize("step", STEPS_OF_SENDING)
def test_a_failure_at_any_step_of_sending_stores_nothing_and_keeps_the_answers(
    client, partners, app, monkeypatch, step, caplog
):
    answer_until(client, "evidence")
    _upload(client, "photo.jpg", _png_with_gps())
    for later in ["evidence", "sharing", "situation", "contact", "about"]:
        post(client, f"/report/{later}", ANSWERS[later])
    answers = opened_draft(client)
    audit_before = _stored_rows()["AuditEvent"]

    with _fault(step, app, monkeypatch):
        response = post(client, "/report/check", {})
    assert response.status_code == 503
    assert "could not be sent just now" in response.text and NARRATIVE in response.text
    assert "receipt-code" not in response.text
    assert _stored_rows() == {
        "Report": 0,
        "ReportKey": 0,
        "ReportStrand": 0,
        "Attachment": 0,
        "AuditEvent": audit_before,
    }
    assert opened_draft(client) == answers  # the answers, as they were
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DraftFile)) == 1
    assert "injected failure" not in caplog.text and NARRATIVE not in caplog.text

    _, reference, code = submit(client)  # the fault gone, the same answers send
    assert reference and code and _stored_rows()["Report"] == 1
    opened = intake.open_with_receipt(code)
    assert opened.content("account")["narrative"] == NARRATIVE
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 1


# --- two sends at once ---------------------------------------------------------


@pytest.fixture
def both_read_before_either_swaps(monkeypatch):
    """Hold each claim between reading the draft and swapping it until two
    claims have read it: the moment a double click makes."""
    barrier = threading.Barrier(2, timeout=10)
    real = sessions._swap

    def swap_after_both_read(*args):
        barrier.wait()
        return real(*args)

    monkeypatch.setattr(sessions, "_swap", swap_after_both_read)


def test_the_compare_and_swap_lets_one_of_two_simultaneous_claims_through(any_app, both_read_before_either_swaps):
    """Two real database sessions claim the same draft at once: one gets the
    answers; the other waits on the row, then finds it changed and gets nothing."""
    with any_app.test_request_context():
        sessions.save(sessions.DRAFT, {"who": "victim"}, timedelta(hours=1))
        db.session.commit()
        cookie = dict(session)
    claims = {}

    def claim(name):
        with any_app.test_request_context():
            session.update(cookie)
            claims[name] = sessions.claim(sessions.DRAFT, {"sending": name})
            time.sleep(0.3)  # hold the row a while, as storing a report does
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=claim, args=(name,)) for name in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(claims.values(), key=repr) == [None, {"who": "victim"}]


def test_two_sends_at_the_same_moment_store_one_report_and_show_one_code(app, partners, both_read_before_either_swaps):
    from .conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    browser = app.test_client()
    answer_all(browser)
    page = browser.get("/report/check").text
    form = {"csrf_token": csrf(page), "send_token": send_token(page)}
    cookie = browser.get_cookie("__Host-mantra_session").value
    pages = {}

    def send(name):  # a plain client: its requests push their own contexts in this thread
        tab = FlaskClient(app, app.response_class)
        tab.set_cookie("__Host-mantra_session", cookie)
        pages[name] = tab.post("/report/check", data=form, follow_redirects=True)

    threads = [threading.Thread(target=send, args=(name,)) for name in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    codes = {name: receipt_code(page.text) for name, page in pages.items()}
    assert all(codes.values()), {n: p.status_code for n, p in pages.items()}
    assert codes["first"] == codes["second"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1


# --- a GET writes nothing ----------------------------------------------------------


@pytest.fixture
def writes(app):
    """Every INSERT, UPDATE or DELETE the database is sent while the list is recording."""
    recorded: list[str] = []
    recording = {"on": False}

    def listen(_conn, _cursor, statement, *_args):
        if recording["on"] and re.match(r"\s*(INSERT|UPDATE|DELETE|TRUNCATE|CREATE|DROP|ALTER)", statement, re.I):
            recorded.append(statement.split("\n")[0][:80])

    sa.event.listen(db.engine, "before_cursor_execute", listen)

    @contextmanager
    def during():
        recorded.clear()
        recording["on"] = True
        yield recorded
        recording["on"] = False

    yield during
    sa.event.remove(db.engine, "before_cursor_execute", listen)


def _redis_state(redis_conn) -> dict:
    return {key: redis_conn.dump(key) for key in redis_conn.scan_iter()}


def _gets(client, redis_conn, writes, paths):
    before = _redis_state(redis_conn)
    with writes() as recorded:
        statuses = {path: client.get(path).status_code for path in paths}
    assert recorded == [], f"GET wrote to the database: {recorded} ({statuses})"
    assert _redis_state(redis_conn) == before, "GET wrote to Redis"
    return statuses


PUBLIC_PAGES = [
    "/",
    "/privacy",
    "/accessibility",
    "/staying-safe-online",
    "/language/pl?next=/privacy",
    "/follow-up/",
    "/follow-up/report",
    "/centre/sign-in",
    "/centre/submissions",
    "/nowhere",
]


def test_reading_any_page_in_any_state_writes_nothing(client, partners, app, redis_conn, writes):
    make_user(partners["centre-library"][0], "centre@library.example", "library centre password", StaffRole.CENTRE)
    _gets(client, redis_conn, writes, PUBLIC_PAGES)  # a new browser

    answer_until(client, "evidence")  # part-way through a report, with a file
    _upload(client, "photo.jpg", _png_with_gps())
    steps = ["who", "what", "why", "when", "where", "account", "people", "evidence", "sharing", "check"]
    statuses = _gets(client, redis_conn, writes, [f"/report/{s}" for s in steps] + ["/report/where?change=1"])
    assert statuses["/report/evidence"] == 200

    db.session.execute(sa.update(Draft).values(expires_at=utcnow() - timedelta(minutes=1)))  # expired
    db.session.commit()
    assert _gets(client, redis_conn, writes, ["/report/what", "/report/check"])["/report/what"] == 302

    answer_all(client)  # sent: the confirmation is left behind on the next page
    _, _, code = submit(client)
    _gets(client, redis_conn, writes, ["/report/check", "/", "/follow-up/"])

    post(client, "/follow-up/", {"code": code})  # signed in to follow up
    assert _gets(client, redis_conn, writes, ["/follow-up/report"] * 3) == {"/follow-up/report": 200}
    with client.session_transaction() as cookie_session:  # then idle too long
        cookie_session["followup"] = {**cookie_session["followup"], "seen": time.time() - 3600}
    assert _gets(client, redis_conn, writes, ["/follow-up/report"]) == {"/follow-up/report": 302}

    post(client, "/centre/sign-in", {"email": "centre@library.example", "password": "library centre password"})
    post(client, "/report/centre-consent", {"person_consented": "yes"})
    assert (
        _gets(client, redis_conn, writes, ["/centre/submissions", "/report/centre-consent"])["/centre/submissions"]
        == 200
    )
    with client.session_transaction() as cookie_session:  # a shared computer left alone
        cookie_session["staff"] = {**cookie_session["staff"], "seen": time.time() - 3600}
    assert _gets(client, redis_conn, writes, ["/centre/submissions"]) == {"/centre/submissions": 302}


def test_exit_is_the_one_get_that_writes_and_it_deletes_only_this_browsers_rows(client, partners, app, writes):
    answer_until(client, "account")
    other = app.test_client()
    answer_until(other, "account")
    with writes() as recorded:
        client.get("/exit")
    assert recorded and all(r.startswith("DELETE") for r in recorded)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 1
    assert "who" in other.get("/report/who").text


def test_an_answer_saved_in_another_tab_never_undoes_a_report_sent_meanwhile(client, partners, app):
    """Tab B read the answers before tab A sent them: B's save finds the draft
    changed, writes nothing, and B is shown the page as it now stands."""
    from flask.testing import FlaskClient

    answer_all(client)
    page_a = client.get("/report/check").text
    form_a = {"csrf_token": csrf(page_a), "send_token": send_token(page_a)}
    cookie = client.get_cookie("__Host-mantra_session").value
    tab_b = FlaskClient(app, app.response_class)
    tab_b.set_cookie("__Host-mantra_session", cookie)
    token = csrf(tab_b.get("/report/where").text)
    real_read = sessions._read

    def read_then_let_tab_a_send(slot, idle):
        found = real_read(slot, idle)
        if slot == sessions.DRAFT and found and "sent" not in found[1]:
            sessions._read = real_read  # once
            sent = client.post(
                "/report/check", data=form_a, follow_redirects=True
            )  # tab A sends between B's read and B's save
            read_then_let_tab_a_send.code = receipt_code(sent.text)
        return found

    sessions._read = read_then_let_tab_a_send
    try:
        response = tab_b.post(
            "/report/where", data={"csrf_token": token, "where": "oxford", "area": "cowley", "place": "later"}
        )
    finally:
        sessions._read = real_read
    assert response.status_code == 302 and response.headers["Location"] == "/report/where"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1
    again = client.post("/report/check", data=form_a, follow_redirects=True)  # tab A's retry: the same code
    assert receipt_code(again.text) == read_then_let_tab_a_send.code


def test_a_draft_from_a_cookie_of_the_previous_version_is_kept(client, partners):
    answer_until(client, "account")
    with client.session_transaction() as cookie_session:
        cookie_session["draft"] = {k: v for k, v in cookie_session["draft"].items() if k != "seen"}
    assert client.get("/report/account").status_code == 200  # not sent back to the start
