"""Configuration: safe development defaults, and production refuses them."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from mantra import create_app
from mantra.config import ConfigError, weak_secret

STRONG_KEY = secrets.token_hex(32)
STRONG_SALT = secrets.token_hex(16)


def test_a_really_random_salt_or_key_is_never_taken_for_a_weak_one():
    """As `openssl rand -hex 16` makes them: refusing one would stop a correct production start."""
    assert not [s for s in (secrets.token_hex(16) for _ in range(20000)) if weak_secret(s)]
    assert not [k for k in (secrets.token_hex(32) for _ in range(2000)) if weak_secret(k)]


def _production(monkeypatch, key_files, tmp_path):
    """Everything production needs, set well; each test then spoils one thing."""
    monkeypatch.setenv("MANTRA_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("MANTRA_RECEIPT_SALT", STRONG_SALT)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    monkeypatch.setenv("MANTRA_KEYSTORE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/keys")
    monkeypatch.setenv("MANTRA_INTAKE_PUBLIC_KEY_FILE", str(key_files["folder"] / "intake.pub"))
    monkeypatch.setenv("MANTRA_INTAKE_PRIVATE_KEY_FILE", str(tmp_path / "not-here.key"))
    monkeypatch.setenv("MANTRA_NOTIFY_PRIVATE_KEY_FILE", str(tmp_path / "not-here-either.key"))
    monkeypatch.delenv("FLASK_DEBUG", raising=False)


def test_development_generates_a_secret_key_into_instance_once(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("MANTRA_ENV", raising=False)
    from mantra import config

    first = config.load(str(tmp_path / "dev"))
    second = config.load(str(tmp_path / "dev"))
    assert len(first["SECRET_KEY"]) == 64 and first["SECRET_KEY"] == second["SECRET_KEY"]
    assert (tmp_path / "dev" / "secret_key").stat().st_mode & 0o077 == 0
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'dev' / 'mantra.sqlite3'}"


@pytest.fixture(autouse=True)
def own_instance(monkeypatch, tmp_path):
    monkeypatch.setenv("MANTRA_INSTANCE_PATH", str(tmp_path))


def test_production_refuses_development_defaults_with_one_line_saying_what_to_set(monkeypatch):
    monkeypatch.setenv("MANTRA_ENV", "production")
    for name in ("SECRET_KEY", "DATABASE_URL", "MANTRA_RECEIPT_SALT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MANTRA_INTAKE_PUBLIC_KEY_FILE", "/nonexistent/intake.pub")
    with pytest.raises(ConfigError) as error:
        create_app()
    message = str(error.value)
    assert "\n" not in message
    for needed in (
        "SECRET_KEY",
        "DATABASE_URL",
        "MANTRA_KEYSTORE_URL",
        "MANTRA_INTAKE_PUBLIC_KEY_FILE",
        "MANTRA_RECEIPT_SALT",
    ):
        assert needed in message


def test_production_web_refuses_to_hold_the_intake_private_key_or_a_bad_salt(monkeypatch, key_files, tmp_path):
    monkeypatch.setenv("MANTRA_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("MANTRA_RECEIPT_SALT", "not hex")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    monkeypatch.setenv("MANTRA_KEYSTORE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/keys")
    monkeypatch.setenv("MANTRA_INTAKE_PUBLIC_KEY_FILE", str(key_files["folder"] / "intake.pub"))
    monkeypatch.setenv("MANTRA_INTAKE_PRIVATE_KEY_FILE", str(key_files["folder"] / "intake.key"))
    with pytest.raises(ConfigError) as error:
        create_app()
    assert "remove the intake private key" in str(error.value) and "MANTRA_RECEIPT_SALT" in str(error.value)
    (tmp_path / "recovery.key").write_text("x")
    monkeypatch.setenv("MANTRA_PROCESS", "worker")
    with pytest.raises(ConfigError, match="move the recovery private key"):
        create_app()
    (tmp_path / "recovery.key").unlink()
    monkeypatch.setenv("MANTRA_RECEIPT_SALT", STRONG_SALT)
    assert create_app().config["MANTRA_ENV"] == "production"  # a worker may hold it


def test_production_starts_when_everything_is_set(monkeypatch, key_files, tmp_path):
    monkeypatch.setenv("MANTRA_INTAKE_PRIVATE_KEY_FILE", str(tmp_path / "not-here.key"))
    monkeypatch.setenv("MANTRA_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("MANTRA_RECEIPT_SALT", STRONG_SALT)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    monkeypatch.setenv("MANTRA_KEYSTORE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/keys")
    monkeypatch.setenv("MANTRA_INTAKE_PUBLIC_KEY_FILE", str(key_files["folder"] / "intake.pub"))
    app = create_app()
    assert app.config["MANTRA_ENV"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    # The shred keys in the main database would be in its every backup: refused.
    monkeypatch.setenv("MANTRA_KEYSTORE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with pytest.raises(ConfigError, match="apart from DATABASE_URL"):
        create_app()


@pytest.mark.parametrize(
    "name, value, says",
    [
        ("SECRET_KEY", "a", "SECRET_KEY to at least 32 random bytes"),
        ("SECRET_KEY", "changeme-changeme-changeme-changeme-changeme", "SECRET_KEY to at least 32 random bytes"),
        ("SECRET_KEY", "s" * 64, "SECRET_KEY to at least 32 random bytes"),
        ("MANTRA_RECEIPT_SALT", "0" * 32, "MANTRA_RECEIPT_SALT to at least 16 random bytes"),
        ("MANTRA_RECEIPT_SALT", "ab" * 16, "MANTRA_RECEIPT_SALT to at least 16 random bytes"),
        ("FLASK_DEBUG", "1", "unset FLASK_DEBUG"),
        ("MANTRA_PROCESS", "both", "MANTRA_PROCESS to web or worker"),
        ("MANTRA_TRUSTED_PROXIES", "two", "MANTRA_TRUSTED_PROXIES must be a whole number"),
    ],
)
def test_production_refuses_weak_or_unsafe_settings_in_one_line(monkeypatch, key_files, tmp_path, name, value, says):
    _production(monkeypatch, key_files, tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        create_app()
    assert says in str(error.value) and "\n" not in str(error.value)


def test_production_refuses_a_public_key_file_that_is_not_a_key(monkeypatch, key_files, tmp_path):
    _production(monkeypatch, key_files, tmp_path)
    (tmp_path / "intake.pub").write_text("-----BEGIN NONSENSE-----\n")
    monkeypatch.setenv("MANTRA_INTAKE_PUBLIC_KEY_FILE", str(tmp_path / "intake.pub"))
    with pytest.raises(ConfigError, match="is not a MANTRA public key"):
        create_app()


def test_the_web_entry_point_refuses_the_worker_role(key_files, tmp_path):
    env = {**os.environ, "MANTRA_PROCESS": "worker", "MANTRA_INSTANCE_PATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", "import wsgi"], env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "start gunicorn with MANTRA_PROCESS=web" in done.stderr
    assert "Traceback" not in done.stderr


def test_instance_folder_and_sqlite_file_are_private_from_the_start(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MANTRA_ENV", raising=False)
    monkeypatch.setenv("MANTRA_INSTANCE_PATH", str(tmp_path / "fresh"))
    create_app()
    assert (tmp_path / "fresh").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "fresh" / "mantra.sqlite3").stat().st_mode & 0o077 == 0
