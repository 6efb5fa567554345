"""Partner keys an administrator pinned: the worker wraps reports only to these.

The partner table is written by the web tier, so a database writer could put
their own public key on a partner row. The worker therefore checks each key
against a list in its own configuration (`PINNED_KEYS_FILE`), which only the
CLI on a worker or admin machine writes: one line per partner,
`<partner id> <slug> <SHA-256 of the public key> <police|other>`. Whether a
partner is the police is pinned too: consent to share with the police is a
hard limit, so a database writer must not be able to unmark the police.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app

from ..models import Partner


def fingerprint(public_key: bytes) -> str:
    """SHA-256 of a public key, in groups of four for reading aloud."""
    digest = hashlib.sha256(public_key).hexdigest()
    return ":".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def _path() -> Path:
    return Path(current_app.config["PINNED_KEYS_FILE"])


def _identity(partner: Partner) -> str:
    return f"{fingerprint(partner.public_key)} {'police' if partner.is_police else 'other'}"


def read() -> dict[int, str]:
    """Partner id -> pinned identity (key fingerprint and police or not). No file: nothing is pinned."""
    return {pid: identity for pid, _slug, identity in _lines()}


def is_pinned(partner: Partner, pinned: dict[int, str] | None = None) -> bool:
    pinned = read() if pinned is None else pinned
    return pinned.get(partner.id) == _identity(partner)


def pin(partners: list[Partner]) -> None:
    """Pin these partners' current keys, replacing their earlier pins."""
    lines = {pid: f"{pid} {slug} {identity}" for pid, slug, identity in _lines()}
    for partner in partners:
        lines[partner.id] = f"{partner.id} {partner.slug} {_identity(partner)}"
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent)  # mode 0600, then renamed into place whole
    with os.fdopen(fd, "w") as f:
        f.write("".join(line + "\n" for _, line in sorted(lines.items())))
    os.replace(temporary, path)


def _lines():
    try:
        text = _path().read_text()
    except FileNotFoundError:
        return
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0].isdigit():
            yield int(parts[0]), parts[1], f"{parts[2]} {parts[3]}"
