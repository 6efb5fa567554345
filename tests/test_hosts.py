"""One code base, two hosts: a public host with no staff route, cookie or
page at all, and a staff host with no public journey (and its own cookie)."""

from __future__ import annotations

import pytest

from mantra import create_app

from .conftest import app_config


@pytest.fixture
def host(pg_database_url, key_files, tmp_path, redis_url, app):
    """An app serving one kind of host, on the test database (migrated by `app`)."""

    def make(serve: str):
        made = create_app(app_config(pg_database_url, key_files, tmp_path, redis_url, SERVE=serve))
        return made, made.test_client()

    return make


STAFF_PATHS = ["/triage/sign-in", "/triage/", "/triage/referrals/1", "/admin/", "/admin/audit", "/triage/enrol"]
PUBLIC_PATHS = ["/report/who", "/follow-up/", "/centre/sign-in", "/privacy", "/exit"]


def test_the_public_host_has_no_staff_route_cookie_or_page(host):
    app, client = host("public")
    assert not [r.rule for r in app.url_map.iter_rules() if r.rule.startswith(("/triage", "/admin"))]
    for path in STAFF_PATHS:
        response = client.get(path)
        assert response.status_code == 404, path
        assert "__Host-mantra_staff" not in response.headers.get("Set-Cookie", "")
    assert client.post("/triage/sign-in", data={"email": "a@b.c", "password": "x"}).status_code in (400, 404)
    start = client.get("/")
    assert start.status_code == 200 and "Exit this page" in start.text and "/triage" not in start.text
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-mantra_session"


def test_the_staff_host_has_no_public_journey_and_its_own_cookie(host):
    app, client = host("staff")
    assert not [r.rule for r in app.url_map.iter_rules() if r.rule.startswith(("/report", "/follow-up", "/centre"))]
    for path in PUBLIC_PATHS:
        assert client.get(path).status_code == 404, path
    assert client.get("/").headers["Location"] == "/triage/sign-in"
    page = client.get("/triage/sign-in")
    assert page.status_code == 200 and "Exit this page" not in page.text and "/report" not in page.text
    assert page.headers["Set-Cookie"].startswith("__Host-mantra_staff=")
    missing = client.get("/no-such-page")  # the error page needs no public route
    assert missing.status_code == 404 and 'href="/triage/sign-in"' in missing.text
    assert client.get("/language/pl?next=/triage/sign-in").headers["Location"] == "/triage/sign-in"
    assert "<title>Logowanie" in client.get("/triage/sign-in").text


def test_a_host_must_say_what_it_serves(host):
    with pytest.raises(ValueError, match="public, staff or both"):
        host("everything")
