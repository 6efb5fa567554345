"""Health checks for a load balancer or a process manager, on every host.

/healthz: the process answers (liveness). /readyz: it can reach PostgreSQL,
the key store and Redis (readiness: take it out of the pool when not). Both
say only "ok", "ready" or "not ready": never which part failed, a version or
an address. The log names the part (and the error's class, never its text).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, Response

from ..domain import queue, shredding
from ..extensions import db

log = logging.getLogger(__name__)


def _plain(text: str, status: int) -> Response:
    response = Response(text + "\n", status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


def _database() -> None:
    db.session.execute(sa.text("SELECT 1"))
    db.session.rollback()


def _keystore() -> None:
    with db.engines[shredding.BIND].connect() as conn:
        conn.execute(sa.text("SELECT 1"))


def _redis() -> None:
    queue.connection().ping()


def init_app(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        return _plain("ok", 200)

    @app.get("/readyz")
    def readyz():
        failed = []
        for name, check in (("database", _database), ("key store", _keystore), ("redis", _redis)):
            try:
                check()
            except Exception as error:  # noqa: BLE001 (any failure means not ready)
                db.session.rollback()
                failed.append(name)
                log.warning("not ready: %s (%s)", name, type(error).__name__)
        return _plain("not ready" if failed else "ready", 503 if failed else 200)
