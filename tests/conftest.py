"""Fixtures for real services: PostgreSQL, SQLite, Redis, an RQ worker.

Each test run is isolated from any other on the machine: its own PostgreSQL
database, its own Redis server on a free port, its own temporary folders.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.globals import _cv_app
from flask.testing import FlaskClient
from flask_migrate import upgrade
from redis import Redis

from mantra import create_app
from mantra.crypto import keys, vault
from mantra.domain import shredding
from mantra.extensions import db

pytest_plugins = ["tests.browser_support"]

PG_SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of the tests' own on a free port (never the machine's
    shared one), which a fault test may stop and start again; empty each start."""

    def __init__(self):
        self.server = shutil.which("redis-server")
        if self.server is None:
            pytest.exit("The tests need redis-server (apt-get install redis-server)", returncode=3)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> bool:
        """Start it; False if it would not answer (another process took the port)."""
        self.process = subprocess.Popen(
            [self.server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
                return True
            except Exception:
                if self.process.poll() is not None:
                    return False
                time.sleep(0.05)
        self.process.kill()
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextmanager
def private_redis():
    """A Redis server of our own on a free port, stopped afterwards."""
    for _ in range(5):  # another process may take the port between choosing and binding it
        redis = RedisServer()
        if redis.start():
            try:
                yield redis.url
            finally:
                redis.stop()
            return
    raise RuntimeError("could not start a private redis-server")


@pytest.fixture(scope="session")
def redis_url():
    with private_redis() as url:
        yield url


@pytest.fixture(scope="session")
def key_files(tmp_path_factory) -> dict:
    """Intake, notify and recovery key pairs, made the way `flask mantra init` makes them."""
    folder = tmp_path_factory.mktemp("keys")
    made = {}
    for purpose in ("intake", "notify", "recovery"):
        private = vault.PrivateKey.generate()
        keys.write_private(folder / f"{purpose}.key", private, purpose)
        keys.write_public(folder / f"{purpose}.pub", private.public)
        made[purpose] = private
    return {"folder": folder, **made}


@contextmanager
def temporary_pg_database(server_url: str = PG_SERVER_URL):
    """A fresh PostgreSQL database on the server, dropped afterwards."""
    name = f"mantra_test_{uuid.uuid4().hex[:10]}"
    server = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(scope="session")
def pg_database_url():
    with temporary_pg_database() as url:
        yield url


@pytest.fixture(scope="session")
def pg_keystore_url():
    """The key store (shred keys): a database of its own, as in production."""
    with temporary_pg_database() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_database_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'mantra.sqlite3'}"


def app_config(
    database_url: str, key_files: dict, instance: Path, redis_url: str, keystore_url: str | None = None, **extra
) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_BINDS": {"keystore": keystore_url or f"sqlite:///{instance / 'keystore.sqlite3'}"},
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "RECEIPT_SALT": "00112233445566778899aabbccddeeff",
        "INTAKE_PUBLIC_KEY_FILE": str(key_files["folder"] / "intake.pub"),
        "INTAKE_PRIVATE_KEY_FILE": str(key_files["folder"] / "intake.key"),
        "RECOVERY_PUBLIC_KEY_FILE": str(key_files["folder"] / "recovery.pub"),
        "NOTIFY_PUBLIC_KEY_FILE": str(key_files["folder"] / "notify.pub"),
        "NOTIFY_PRIVATE_KEY_FILE": str(key_files["folder"] / "notify.key"),
        "PINNED_KEYS_FILE": str(instance / "worker" / "pinned-keys.txt"),
        "ALERT_EMAIL": "security@partnership.example",
        "TICK_SECONDS": 1,
        "SWEEP_AFTER_SECONDS": 2,
        "MAIL_RETRY_SECONDS": [1, 1, 2],
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": f"mantra-test-{uuid.uuid4().hex[:8]}",
        "MAIL_OUTBOX": str(instance / "outbox"),
        **extra,
    }


_migrated: set[str] = set()


def build_app(database_url, key_files, tmp_path, redis_url, **extra):
    app = create_app(app_config(database_url, key_files, tmp_path, redis_url, **extra))
    app.instance_path = str(tmp_path)
    with app.app_context():
        if database_url not in _migrated:
            upgrade()  # the real migrations, on each database once per run
            _migrated.add(database_url)
        shredding.create_store()  # this app's key store (the migration made the first one)
        _empty_all_tables()
    return app


def _empty_all_tables():
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engines[shredding.BIND].begin() as conn:
        conn.execute(shredding.shred_key.delete())
    # A DELETE of each table, children first, is four times quicker than one
    # TRUNCATE of them all on tables this small. Sequences carry on either way,
    # as in production: ids a process reserved from them (domain.rowids) stay
    # unique.
    with db.engine.begin() as conn:
        for t in tables:
            conn.execute(sa.text(f'DELETE FROM "{t}"'))


@pytest.fixture
def redis_conn(redis_url):
    conn = Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


def _app_fixture(database_url, key_files, tmp_path, redis_url, **extra):
    app = build_app(database_url, key_files, tmp_path, redis_url, **extra)
    ctx = app.app_context()
    ctx.push()
    yield app
    db.session.remove()
    ctx.pop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(pg_database_url, pg_keystore_url, key_files, tmp_path, redis_url, redis_conn):
    """The app on PostgreSQL, with an app context pushed (and Redis emptied)."""
    yield from _app_fixture(pg_database_url, key_files, tmp_path, redis_url, keystore_url=pg_keystore_url)


@pytest.fixture(params=["postgresql", "sqlite"])
def any_app(request, key_files, tmp_path, redis_url, redis_conn):
    """The app on each database in turn, for tests where storage matters."""
    url = request.getfixturevalue(f"{'pg' if request.param == 'postgresql' else 'sqlite'}_database_url")
    yield from _app_fixture(url, key_files, tmp_path, redis_url)


class IsolatedClient(FlaskClient):
    """Each request gets its own app context, as in production, even though
    the test itself holds one open (else `g` and the session leak between requests)."""

    def open(self, *args, **kwargs):
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)
            db.session.expire_all()  # the test's own view sees what the request wrote


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
