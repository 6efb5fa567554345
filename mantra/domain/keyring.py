"""Which configured key file to read. The web tier is given public keys only;
the private halves of the intake and notify keys are read by workers alone."""

from __future__ import annotations

from flask import current_app

from ..crypto import keys
from ..crypto.vault import PrivateKey, PublicKey


def intake_public() -> PublicKey:
    return keys.read_public(current_app.config["INTAKE_PUBLIC_KEY_FILE"])


def recovery_public() -> PublicKey:
    return keys.read_public(current_app.config["RECOVERY_PUBLIC_KEY_FILE"])


def notify_public() -> PublicKey:
    return keys.read_public(current_app.config["NOTIFY_PUBLIC_KEY_FILE"])


def receipt_salt() -> bytes:
    return bytes.fromhex(current_app.config["RECEIPT_SALT"])


# Workers only.


def intake_private() -> PrivateKey:
    return keys.read_private(current_app.config["INTAKE_PRIVATE_KEY_FILE"])


def notify_private() -> PrivateKey:
    return keys.read_private(current_app.config["NOTIFY_PRIVATE_KEY_FILE"])
