"""Partner keys an administrator pinned: the worker wraps reports only to these.

The partner table is written by the web tier, so a database writer could put
their own public key on a partner row. The worker therefore checks each key
against a list in its own configuration (`PINNED_KEYS_FILE`), which only the
CLI on a worker or admin machine writes: one line per partner,
`<partner id> <slug> <SHA-256 of the public key>`.
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


def read() -> dict[int, str]:
    """Partner id -> pinned fingerprint. No file: nothing is pinned."""
    return {pid: fp for pid, _slug, fp in _lines()}


def is_pinned(partner: Partner, pinned: dict[int, str] | None = None) -> bool:
    pinned = read() if pinned is None else pinned
    return pinned.get(partner.id) == fingerprint(partner.public_key)


def pin(partners: list[Partner]) -> None:
    """Pin these partners' current keys, replacing their earlier pins."""
    lines = {pid: f"{pid} {slug} {fp}" for pid, slug, fp in _lines()}
    for partner in partners:
        lines[partner.id] = f"{partner.id} {partner.slug} {fingerprint(partner.public_key)}"
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
        if len(parts) == 3 and parts[0].isdigit():
            yield int(parts[0]), parts[1], parts[2]
