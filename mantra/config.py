"""Settings from the environment, with safe development defaults.

Production (MANTRA_ENV=production) refuses to start on a development default:
each refusal is one line saying what to set.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path


class ConfigError(RuntimeError):
    """The app cannot start with this configuration."""


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default) -> int:
    value = os.environ.get(name)
    try:
        number = int(default if value is None else value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if number < 0:
        raise ConfigError(f"{name} must not be negative")
    return number


def _env_ints(name: str, default: str) -> list[int]:
    text = os.environ.get(name, default)
    try:
        numbers = [int(part) for part in text.split(",")]
    except ValueError:
        raise ConfigError(f"{name} must be whole numbers separated by commas, not {text!r}") from None
    return numbers


def private_folder(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)


def _instance_secret(instance: Path, name: str, nbytes: int = 32) -> str:
    """Read a generated secret from instance/, creating it on first run."""
    path = instance / name
    if not path.exists():
        private_folder(instance)
        # Written whole under a temporary name, then linked into place: a process
        # starting at the same moment reads the one secret, never a half-written file.
        fd, temporary = tempfile.mkstemp(dir=instance)  # mode 0600
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(nbytes))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process was first: use theirs
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


def load(instance_path: str) -> dict:
    instance = Path(instance_path)
    production = os.environ.get("MANTRA_ENV", "development") == "production"
    keys = instance / "keys"
    serve = os.environ.get("MANTRA_SERVE", "both")
    phone = os.environ.get("MANTRA_CONTACT_PHONE", "01632 960 000")
    cfg: dict = {
        "MANTRA_ENV": "production" if production else "development",
        # Which rooms this web process serves: "public" (reporting, follow-up,
        # centres: the internet-facing host, with no staff route, cookie or
        # key), "staff" (triage and administration), or "both" (the embedded default).
        "SERVE": serve,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'mantra.sqlite3'}"),
        # The key store: each report's shred key (domain/shredding.py), in a
        # database of its own, backed up apart on a short rotation (README "Backups").
        "SQLALCHEMY_BINDS": {
            "keystore": os.environ.get("MANTRA_KEYSTORE_URL", f"sqlite:///{instance / 'keystore.sqlite3'}")
        },
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": _env_int("MAIL_PORT", "25"),
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "mantra@localhost"),
        "MAIL_OUTBOX": os.environ.get("MANTRA_MAIL_OUTBOX", str(instance / "outbox")),
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        # Salt for the receipt-code Argon2id call; fixed per installation.
        "RECEIPT_SALT": os.environ.get("MANTRA_RECEIPT_SALT"),
        "INTAKE_PUBLIC_KEY_FILE": os.environ.get("MANTRA_INTAKE_PUBLIC_KEY_FILE", str(keys / "intake.pub")),
        # Read by workers only; the web tier never opens this file.
        "INTAKE_PRIVATE_KEY_FILE": os.environ.get(
            "MANTRA_INTAKE_PRIVATE_KEY_FILE", str(instance / "worker" / "intake.key")
        ),
        "RECOVERY_PUBLIC_KEY_FILE": os.environ.get("MANTRA_RECOVERY_PUBLIC_KEY_FILE", str(keys / "recovery.pub")),
        # The notify key seals a reporter's address for news e-mails; only the
        # worker that sends them holds its private half.
        "NOTIFY_PUBLIC_KEY_FILE": os.environ.get("MANTRA_NOTIFY_PUBLIC_KEY_FILE", str(keys / "notify.pub")),
        "NOTIFY_PRIVATE_KEY_FILE": os.environ.get(
            "MANTRA_NOTIFY_PRIVATE_KEY_FILE", str(instance / "worker" / "notify.key")
        ),
        # Partner public keys an administrator confirmed (`flask mantra pins`): the
        # worker routes, and the staff host refers on, only to these. Never on the public host.
        "PINNED_KEYS_FILE": os.environ.get("MANTRA_PINNED_KEYS_FILE", str(instance / "worker" / "pinned-keys.txt")),
        # Where the worker sends security alerts (a refused report, a key not pinned).
        "ALERT_EMAIL": os.environ.get("MANTRA_ALERT_EMAIL", "security@localhost"),
        # Addresses put in e-mails: the staff host (sign-in) and the public one.
        "STAFF_URL": os.environ.get("MANTRA_STAFF_URL", "http://localhost:8000").rstrip("/"),
        "PUBLIC_URL": os.environ.get("MANTRA_PUBLIC_URL", "http://localhost:8000").rstrip("/"),
        # Workers: how often the housekeeping tick runs (sweeper, deadlines), how
        # long a report may wait unrouted before the sweeper queues it again, and
        # the waits between attempts to send an e-mail (the last one repeats).
        "TICK_SECONDS": max(1, _env_int("MANTRA_TICK_SECONDS", "15")),
        "SWEEP_AFTER_SECONDS": _env_int("MANTRA_SWEEP_AFTER_SECONDS", "60"),
        "MAIL_RETRY_SECONDS": [
            int(s) for s in os.environ.get("MANTRA_MAIL_RETRY_SECONDS", "10,30,60,300,900").split(",")
        ],
        "MAX_CONTENT_LENGTH": _env_int("MANTRA_MAX_REQUEST_BYTES", 25 * 1024 * 1024),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI")
        or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "NEUTRAL_EXIT_URL": os.environ.get("MANTRA_EXIT_URL", "https://www.bbc.co.uk/weather"),
        "PARTNERSHIP_NAME": os.environ.get("MANTRA_PARTNERSHIP_NAME", "Oxford Community Safety Partnership"),
        # How people reach the partnership (the privacy notice, the accessibility statement, 'Other ways to report').
        "CONTACT_EMAIL": os.environ.get("MANTRA_CONTACT_EMAIL", "hate-crime@partnership.example"),
        "CONTACT_PHONE": phone,
        # The number to dial through Relay UK, for people who are deaf or speech-impaired; empty leaves it out.
        "TEXT_RELAY": os.environ.get("MANTRA_TEXT_RELAY", f"18001 {phone}"),
        "DPO_EMAIL": os.environ.get("MANTRA_DPO_EMAIL", "data-protection@partnership.example"),
        # Posts allowed per browser and per address, per form. A load test may
        # raise them all by MANTRA_RATE_LIMIT_FACTOR; the limiter still runs.
        "RATE_LIMITS": _rate_limits(RATE_LIMITS, _env_int("MANTRA_RATE_LIMIT_FACTOR", "1")),
        "ADDRESS_RATE_LIMITS": _rate_limits(ADDRESS_RATE_LIMITS, _env_int("MANTRA_RATE_LIMIT_FACTOR", "1")),
        "TRUSTED_PROXIES": _env_int("MANTRA_TRUSTED_PROXIES", "0"),
        # How published reporting levels hide small counts: "default" (1-4 hidden)
        # or "nhs" (1-7 hidden, other counts rounded to the nearest 5).
        "SUPPRESSION_RULE": os.environ.get("MANTRA_SUPPRESSION_RULE", "default"),
        # Retention (domain/retention.py): days after a report's last referral
        # closed until its content is erased. A hate crime, or a non-crime
        # incident a partner recorded a reason to keep: 6 years. Any other
        # non-crime incident: 90 days.
        "RETAIN_CRIME_DAYS": _env_int("MANTRA_RETAIN_CRIME_DAYS", "2192"),
        "RETAIN_INCIDENT_DAYS": _env_int("MANTRA_RETAIN_INCIDENT_DAYS", "90"),
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure, whole site, no Domain: cannot be planted from a subdomain. A
        # staff host's cookie has its own name (create_app), never mistaken for a public one.
        "SESSION_COOKIE_NAME": "__Host-mantra_session",
        "WTF_CSRF_TIME_LIMIT": None,  # the CSRF token lives as long as the session
        # Referrer-Policy is no-referrer, so browsers send no Referer for the
        # strict HTTPS check to compare; the token and SameSite cookies protect forms.
        "WTF_CSRF_SSL_STRICT": False,
        # The signed session cookie is refused after this, even if copied.
        "PERMANENT_SESSION_LIFETIME": 2 * 3600,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }
    if production:
        problems = []
        web = os.environ.get("MANTRA_PROCESS", "web") == "web"
        if web and Path(cfg["INTAKE_PRIVATE_KEY_FILE"]).exists():
            problems.append(
                f"remove the intake private key {cfg['INTAKE_PRIVATE_KEY_FILE']} from this web server "
                "(only workers, started with MANTRA_PROCESS=worker, may hold it)"
            )
        if web and Path(cfg["NOTIFY_PRIVATE_KEY_FILE"]).exists():
            problems.append(f"remove the notify private key {cfg['NOTIFY_PRIVATE_KEY_FILE']} from this web server")
        if (instance / "recovery.key").exists():
            problems.append(f"move the recovery private key {instance / 'recovery.key'} offline")
        if _env_bool("FLASK_DEBUG", False):
            problems.append("unset FLASK_DEBUG (the debugger runs code sent to it)")
        if serve not in ("public", "staff", "both"):
            problems.append("set MANTRA_SERVE to public, staff or both")
        if os.environ.get("MANTRA_PROCESS", "web") not in ("web", "worker"):
            problems.append("set MANTRA_PROCESS to web or worker")
        if not cfg["SECRET_KEY"]:
            problems.append("set SECRET_KEY to a long random value")
        elif weak_secret(cfg["SECRET_KEY"]):
            problems.append(
                "set SECRET_KEY to at least 32 random bytes, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`"
            )
        if not cfg["RECEIPT_SALT"]:
            problems.append("set MANTRA_RECEIPT_SALT to a long random value (keep it for ever)")
        if cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            problems.append("set DATABASE_URL to a PostgreSQL URL (SQLite is for development)")
        if cfg["SQLALCHEMY_BINDS"]["keystore"].startswith("sqlite"):
            problems.append("set MANTRA_KEYSTORE_URL to a PostgreSQL database of its own (the shred keys)")
        elif cfg["SQLALCHEMY_BINDS"]["keystore"] == cfg["SQLALCHEMY_DATABASE_URI"]:
            problems.append(
                "set MANTRA_KEYSTORE_URL to a database apart from DATABASE_URL: "
                "an erased report stays readable in any backup that holds both"
            )
        if not Path(cfg["INTAKE_PUBLIC_KEY_FILE"]).is_file():
            problems.append("set MANTRA_INTAKE_PUBLIC_KEY_FILE to the intake public key (made by `flask mantra init`)")
        for setting in ("INTAKE_PUBLIC_KEY_FILE", "NOTIFY_PUBLIC_KEY_FILE", "RECOVERY_PUBLIC_KEY_FILE"):
            if Path(cfg[setting]).is_file() and not _is_public_key(cfg[setting]):
                problems.append(f"MANTRA_{setting} ({cfg[setting]}) is not a MANTRA public key: restore it")
        if cfg["RECEIPT_SALT"] and (not _is_hex(cfg["RECEIPT_SALT"], 16) or weak_secret(cfg["RECEIPT_SALT"])):
            problems.append("set MANTRA_RECEIPT_SALT to at least 16 random bytes as hexadecimal (keep it for ever)")
        if problems:
            raise ConfigError("MANTRA will not start in production: " + "; ".join(problems))
    else:
        cfg["SECRET_KEY"] = cfg["SECRET_KEY"] or _instance_secret(instance, "secret_key")
        cfg["RECEIPT_SALT"] = cfg["RECEIPT_SALT"] or _instance_secret(instance, "receipt_salt", 16)
        if not _is_hex(cfg["RECEIPT_SALT"], 16):
            raise ConfigError("MANTRA_RECEIPT_SALT must be at least 32 hexadecimal characters")
    return cfg


# Limits on posts, per browser (a random id in its session cookie): one person
# writing one report makes 15 to 25 posts, so these are far above that.
RATE_LIMITS = {
    "question": "300 per hour",
    "send_report": "20 per hour",
    "followup_sign_in": "10 per 15 minutes;30 per day",
    "followup_message": "30 per hour",
    "centre_sign_in": "10 per 15 minutes",
    "staff_sign_in": "20 per 15 minutes",
}
# ... and per address (a keyed bucket of about a thousand addresses: see
# extensions.hashed_client_key), for whoever drops their cookies. Set for the
# real shared networks people report from: a university's or a library's one
# address, a mobile network's carrier-grade NAT.
ADDRESS_RATE_LIMITS = {
    "question": "5000 per hour",
    "send_report": "200 per hour",
    "followup_sign_in": "60 per 15 minutes;300 per day",
    "followup_message": "300 per hour",
    "centre_sign_in": "60 per 15 minutes",
    "staff_sign_in": "100 per 15 minutes",
}


def _rate_limits(limits: dict[str, str], factor: int) -> dict[str, str]:
    return {
        name: re.sub(r"\d+(?= per)", lambda m: str(int(m.group()) * factor), limit) for name, limit in limits.items()
    }


_KNOWN_WEAK = {"secret", "changeme", "change-me", "development", "dev", "test", "password", "mantra"}


def weak_secret(value: str) -> bool:
    """Shorter than 32 random bytes would be (as hex: 32 characters at least for
    a 16-byte salt, 43 for a key), a known placeholder, or visibly not random."""
    text = value.strip()
    lowered = text.lower()
    minimum = 32 if _is_hex(text, 16) and len(text) < 64 else 43
    return (
        len(text) < minimum
        or lowered in _KNOWN_WEAK
        or any(word in lowered for word in ("changeme", "secret", "password"))
        or len(set(text)) < 8  # 12 refused one real 16-byte salt in fifty; 8, about one in ten million
        or _is_hex(text, 1)
        and len(set(bytes.fromhex(text))) < len(text) // 4
    )


def _is_public_key(path: str) -> bool:
    from .crypto.vault import PublicKey, VaultError

    try:
        PublicKey.from_text(Path(path).read_text())
        return True
    except (VaultError, ValueError, OSError):
        return False


def _is_hex(value: str, min_bytes: int) -> bool:
    try:
        return len(bytes.fromhex(value)) >= min_bytes
    except ValueError:
        return False
