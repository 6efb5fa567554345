"""Health checks: liveness and readiness on every host, saying nothing more
than ready or not (never which part, a version or an address)."""

from __future__ import annotations

import pytest

from mantra import create_app

from .conftest import app_config


@pytest.mark.parametrize("serve", ["public", "staff", "both"])
def test_both_checks_answer_on_every_host(serve, pg_database_url, pg_keystore_url, key_files, tmp_path, redis_url):
    app = create_app(app_config(pg_database_url, key_files, tmp_path, redis_url, pg_keystore_url, SERVE=serve))
    client = app.test_client()
    live, ready = client.get("/healthz"), client.get("/readyz")
    assert (live.status_code, live.text) == (200, "ok\n")
    assert (ready.status_code, ready.text) == (200, "ready\n")
    assert ready.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in ready.headers


@pytest.mark.parametrize("broken", ["redis", "keystore", "database"])
def test_not_ready_when_a_part_is_out_of_reach_and_says_no_more(
    broken, pg_database_url, pg_keystore_url, key_files, tmp_path, redis_url, caplog
):
    nowhere = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    urls = {
        "database": nowhere if broken == "database" else pg_database_url,
        "keystore": nowhere if broken == "keystore" else pg_keystore_url,
        "redis": "redis://127.0.0.1:1/0" if broken == "redis" else redis_url,
    }
    app = create_app(app_config(urls["database"], key_files, tmp_path, urls["redis"], urls["keystore"]))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # alive, though not ready
    ready = client.get("/readyz")
    assert (ready.status_code, ready.text) == (503, "not ready\n")
    said = {"database": "database", "keystore": "key store", "redis": "redis"}[broken]
    assert f"not ready: {said}" in caplog.text and "127.0.0.1" not in caplog.text
