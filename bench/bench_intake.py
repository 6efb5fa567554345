"""How long sealing and storing a report takes, and what it is made of.

Run on demand:  .venv/bin/python bench/bench_intake.py [--postgres SERVER_URL] [--reports N]
(--postgres makes, then drops, a throw-away database on that server.)
Reported in docs/performance.md. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mantra.crypto import keys, vault  # noqa: E402
from tests.conftest import build_app, private_redis, temporary_pg_database  # noqa: E402
from tests.factories import make_partners, marked_submission, stored  # noqa: E402


def timed(fn, n):
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), sorted(samples)[int(n * 0.95) - 1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default=None, help="PostgreSQL server URL (default: a temporary SQLite file)")
    parser.add_argument("--reports", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    key_files = {"folder": folder}
    for purpose in ("intake", "recovery"):
        key = vault.PrivateKey.generate()
        keys.write_private(folder / f"{purpose}.key", key, purpose)
        keys.write_public(folder / f"{purpose}.pub", key.public)
        key_files[purpose] = key
    with (
        temporary_pg_database(args.postgres) if args.postgres else nullcontext(f"sqlite:///{folder / 'bench.sqlite3'}")
    ) as url:
        run(url, key_files, folder, args.reports)


def run(url, key_files, folder, reports):

    data_key, private = vault.new_data_key(), vault.PrivateKey.generate()
    info = vault.wrap_info("report-key", 1, "intake")
    wrapped = vault.wrap(data_key, private.public, info)
    rows = [
        (
            "AES-256-GCM seal, 4 KB",
            timed(lambda: vault.seal(data_key, b"x" * 4096, table="report", row_id=1, field="account"), 2000),
        ),
        ("HPKE wrap (ML-KEM-768+X25519)", timed(lambda: vault.wrap(data_key, private.public, info), 500)),
        ("HPKE unwrap", timed(lambda: vault.unwrap(wrapped, private, info), 500)),
        ("key pair from seed", timed(lambda: vault.PrivateKey(b"\x01" * 32), 500)),
        (
            "Argon2id receipt code (m=19 MiB, t=2)",
            timed(lambda: vault.derive_receipt("1234-5678-9012-3456-7890", b"s" * 16), 30),
        ),
    ]
    with private_redis() as redis_url:
        app = build_app(url, key_files, folder, redis_url)
        _store_reports(app, rows, url, reports)
    print(f"{'operation':45} {'median ms':>10} {'p95 ms':>8}")
    for name, (median, p95) in rows:
        print(f"{name:45} {median:10.3f} {p95:8.3f}")


def _store_reports(app, rows, url, reports):
    with app.app_context():
        _, area = make_partners()
        counter = iter(range(10**9))
        rows.append(
            (
                f"store_report end to end ({url.split(':')[0]})",
                timed(lambda: stored(marked_submission(f"B{next(counter)}", area.id)), reports),
            )
        )
        from mantra.extensions import db

        db.engine.dispose()


if __name__ == "__main__":
    main()
