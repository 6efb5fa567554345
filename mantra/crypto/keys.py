"""Key files on disk. Which file holds which key is configuration, decided
elsewhere; the web tier is only ever given public keys."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from .vault import PrivateKey, PublicKey


@lru_cache(maxsize=8)
def read_public(path: str) -> PublicKey:
    return PublicKey.from_text(Path(path).read_text())


def write_private(path: Path, key: PrivateKey, purpose: str) -> None:
    """Create the file readable by its owner only from the first byte; never overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.to_file_text(purpose))


def write_public(path: Path, key: PublicKey) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key.text() + "\n")


@lru_cache(maxsize=8)
def read_private(path: str) -> PrivateKey:
    return PrivateKey.from_file_text(Path(path).read_text())
