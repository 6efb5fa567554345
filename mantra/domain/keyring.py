"""Which configured key file to read. The web tier is given public keys only;
workers alone are given the intake private key."""

from __future__ import annotations

from flask import current_app

from ..crypto import keys
from ..crypto.vault import PublicKey


def intake_public() -> PublicKey:
    return keys.read_public(current_app.config["INTAKE_PUBLIC_KEY_FILE"])


def recovery_public() -> PublicKey:
    return keys.read_public(current_app.config["RECOVERY_PUBLIC_KEY_FILE"])


def receipt_salt() -> bytes:
    return bytes.fromhex(current_app.config["RECEIPT_SALT"])
