"""Every cryptographic operation in MANTRA, and nothing else.

Algorithms (DESIGN section 4), all from `cryptography`:

- content: AES-256-GCM, random 96-bit nonce, associated data naming the
  table, row id and field, so a ciphertext moved elsewhere will not open;
- key wrapping: HPKE base mode, ML-KEM-768 + X25519 hybrid KEM, HKDF-SHA256,
  AES-256-GCM, with `info` naming the purpose and the ids it binds;
- passwords and receipt codes: Argon2id, parameters stored with the result.

Every blob starts with a version byte. A private key is a 32-byte seed,
expanded with SHAKE-256 as the X-Wing KEM defines it.
"""

from __future__ import annotations

import base64
import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = 1
_V = bytes([VERSION])
SEED_BYTES = 32
KEY_BYTES = 32
NONCE_BYTES = 12
MLKEM_PUBLIC_BYTES = 1184
PUBLIC_KEY_BYTES = MLKEM_PUBLIC_BYTES + 32
_SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


class VaultError(Exception):
    """Something could not be opened: wrong key, wrong place, or altered bytes."""


# --- Argon2id -------------------------------------------------------------


@dataclass(frozen=True)
class Argon2Params:
    memory_cost: int  # KiB
    iterations: int
    lanes: int

    def encode(self) -> str:
        return f"m={self.memory_cost},t={self.iterations},p={self.lanes}"

    @classmethod
    def decode(cls, text: str) -> Argon2Params:
        try:
            parts = dict(item.split("=", 1) for item in text.split(","))
            return cls(int(parts["m"]), int(parts["t"]), int(parts["p"]))
        except (KeyError, ValueError) as exc:
            raise VaultError("unreadable Argon2id parameters") from exc

    def derive(self, secret: bytes, salt: bytes, length: int) -> bytes:
        return Argon2id(
            salt=salt,
            length=length,
            iterations=self.iterations,
            lanes=self.lanes,
            memory_cost=self.memory_cost,
        ).derive(secret)


# The one place the cost is set (OWASP's first Argon2id recommendation:
# 19 MiB, 2 passes, 1 lane; about 21 ms on 2 cores). Raise it here; old
# values keep working because each result stores its own parameters.
ARGON2 = Argon2Params(memory_cost=19 * 1024, iterations=2, lanes=1)
# Every cost receipt codes have ever been derived with, newest first. When
# ARGON2 is raised, keep the old value here so existing codes still work.
RECEIPT_KDF_HISTORY = (ARGON2,)


# --- key pairs ------------------------------------------------------------


class PublicKey:
    """A hybrid ML-KEM-768 + X25519 public key (1216 bytes)."""

    def __init__(self, raw: bytes):
        if len(raw) != PUBLIC_KEY_BYTES:
            raise VaultError("a public key must be 1216 bytes")
        try:
            self._key = hpke.MLKEM768X25519PublicKey(
                mlkem.MLKEM768PublicKey.from_public_bytes(raw[:MLKEM_PUBLIC_BYTES]),
                x25519.X25519PublicKey.from_public_bytes(raw[MLKEM_PUBLIC_BYTES:]),
            )
        except ValueError as exc:
            raise VaultError("not a valid public key") from exc
        self.raw = bytes(raw)

    def text(self) -> str:
        return base64.b64encode(self.raw).decode()

    @classmethod
    def from_text(cls, text: str) -> PublicKey:
        return cls(base64.b64decode(text.strip()))


class PrivateKey:
    """A private key kept as its 32-byte seed (X-Wing's definition)."""

    def __init__(self, seed: bytes):
        if len(seed) != SEED_BYTES:
            raise VaultError("a private key seed must be 32 bytes")
        self.seed = bytes(seed)
        digest = hashes.Hash(hashes.SHAKE256(96))
        digest.update(self.seed)
        expanded = digest.finalize()
        ml = mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
        xk = x25519.X25519PrivateKey.from_private_bytes(expanded[64:])
        self._key = hpke.MLKEM768X25519PrivateKey(ml, xk)
        self.public = PublicKey(ml.public_key().public_bytes_raw() + xk.public_key().public_bytes_raw())

    @classmethod
    def generate(cls) -> PrivateKey:
        return cls(os.urandom(SEED_BYTES))

    def __repr__(self) -> str:  # never print the seed
        return "<PrivateKey>"

    # A private key file is one line of text; the header says what it is.
    def to_file_text(self, purpose: str) -> str:
        return f"mantra-private-seed v{VERSION} {purpose}\n{base64.b64encode(self.seed).decode()}\n"

    @classmethod
    def from_file_text(cls, text: str) -> PrivateKey:
        lines = text.strip().splitlines()
        if len(lines) != 2 or not lines[0].startswith("mantra-private-seed v1 "):
            raise VaultError("not a MANTRA private key file")
        return cls(base64.b64decode(lines[1]))


# --- content --------------------------------------------------------------


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def _content_aad(table: str, row_id: int | str, field: str) -> bytes:
    return f"mantra/v{VERSION}/content/{table}/{row_id}/{field}".encode()


def seal(key: bytes, plaintext: bytes, *, table: str, row_id: int | str, field: str) -> bytes:
    """Encrypt plaintext for one field of one row."""
    nonce = os.urandom(NONCE_BYTES)
    return _V + nonce + AESGCM(key).encrypt(nonce, plaintext, _content_aad(table, row_id, field))


def open_sealed(key: bytes, blob: bytes, *, table: str, row_id: int | str, field: str) -> bytes:
    """Decrypt what `seal` made for exactly this table, row and field."""
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[0] != VERSION:
        raise VaultError(f"{table}.{field} of row {row_id}: not a sealed blob of version {VERSION}")
    nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, _content_aad(table, row_id, field))
    except InvalidTag:
        raise VaultError(f"{table}.{field} of row {row_id} would not open: wrong key, altered, or moved") from None


def joint_key(first: bytes, second: bytes, purpose: str) -> bytes:
    """A content key that needs both secrets (HKDF-SHA256): for example a
    partner's note on a report needs the report's data key, so erasing the
    report erases the note, and the partner's own key, so no other partner
    holding the report can read it."""
    return HKDF(hashes.SHA256(), KEY_BYTES, salt=second, info=f"mantra/v{VERSION}/{purpose}".encode()).derive(first)


# --- wrapping keys to a public key ----------------------------------------


def wrap_info(purpose: str, *ids: object) -> bytes:
    """The HPKE info string, e.g. mantra/v1/report-key/42/partner-3."""
    return "/".join([f"mantra/v{VERSION}", purpose, *map(str, ids)]).encode()


def wrap(secret: bytes, public: PublicKey, info: bytes) -> bytes:
    return _V + _SUITE.encrypt(secret, public._key, info=info)


def unwrap(blob: bytes, private: PrivateKey, info: bytes) -> bytes:
    if not blob or blob[0] != VERSION:
        raise VaultError(f"not a wrap of version {VERSION}")
    try:
        return _SUITE.decrypt(blob[1:], private._key, info=info)
    except (InvalidTag, ValueError):
        raise VaultError(f"{info.decode()}: wrap would not open with this key") from None


# --- passwords: a private key protected by a password ----------------------

_SALT_BYTES = 16
_PARAMS = struct.Struct(">III")


def protect_with_password(private: PrivateKey, password: str, params: Argon2Params = ARGON2) -> bytes:
    """One Argon2id call turns the password into a key that seals the seed.

    Opening it later both checks the password and unlocks the key.
    """
    salt = os.urandom(_SALT_BYTES)
    kek = params.derive(password.encode(), salt, KEY_BYTES)
    header = _V + _PARAMS.pack(params.memory_cost, params.iterations, params.lanes) + salt
    nonce = os.urandom(NONCE_BYTES)
    return header + nonce + AESGCM(kek).encrypt(nonce, private.seed, header)


class WrongPassword(VaultError):
    pass


def unlock_with_password(blob: bytes, password: str) -> PrivateKey:
    head = 1 + _PARAMS.size + _SALT_BYTES
    if len(blob) < head + NONCE_BYTES or blob[0] != VERSION:
        raise VaultError("not a password-protected key of version 1")
    params = Argon2Params(*_PARAMS.unpack(blob[1 : 1 + _PARAMS.size]))
    kek = params.derive(password.encode(), blob[1 + _PARAMS.size : head], KEY_BYTES)
    nonce = blob[head : head + NONCE_BYTES]
    try:
        return PrivateKey(AESGCM(kek).decrypt(nonce, blob[head + NONCE_BYTES :], blob[:head]))
    except InvalidTag:
        raise WrongPassword("wrong password") from None


def password_params(blob: bytes) -> Argon2Params:
    return Argon2Params(*_PARAMS.unpack(blob[1 : 1 + _PARAMS.size]))


# --- receipt codes ---------------------------------------------------------

RECEIPT_DIGITS = 20  # 66 bits of randomness


def new_receipt_code() -> str:
    # 128 random bits reduced mod 10**20: the bias is below 2**-60.
    number = int.from_bytes(os.urandom(16), "big") % 10**RECEIPT_DIGITS
    digits = f"{number:0{RECEIPT_DIGITS}d}"
    return "-".join(digits[i : i + 4] for i in range(0, RECEIPT_DIGITS, 4))


def normalise_receipt_code(text: str) -> str | None:
    """Digits only, regrouped; None if it cannot be a receipt code."""
    digits = "".join(ch for ch in text if ch.isdigit() and ch.isascii())
    if len(digits) != RECEIPT_DIGITS:
        return None
    return "-".join(digits[i : i + 4] for i in range(0, RECEIPT_DIGITS, 4))


@dataclass(frozen=True)
class ReceiptSecrets:
    lookup_token: bytes  # stored on the report: finds it
    reporter_key: PrivateKey  # never stored: opens it


def derive_receipt(code: str, salt: bytes, params: Argon2Params = ARGON2) -> ReceiptSecrets:
    """One Argon2id call: 64 bytes, split into lookup token and reporter seed."""
    out = params.derive(code.encode(), salt, 64)
    return ReceiptSecrets(lookup_token=out[:32], reporter_key=PrivateKey(out[32:]))
