"""Reporting levels with 1,000,000 reports in PostgreSQL: one month's export in
every format, and the coordinator's dashboard.

Run on demand:  .venv/bin/python bench/bench_levels.py [--reports 1000000] [--requests 50]
                [--postgres SERVER_URL]
It makes (then drops) a throw-away database, fills it with COPY (the inbox
benchmark's generator: reports over two years, their strands, kinds and
referrals), then times, for the busiest whole month: building each file
(published and internal), and GET /levels/?month=... through the app as a
signed-in coordinator. Targets (issue 15): an export <= 2 s in every format,
the dashboard p95 <= 300 ms. Reported in docs/performance.md. Not part of the
test suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench.bench_inbox import bench_app, generate, signed_in  # noqa: E402
from mantra.domain import exports, levels  # noqa: E402
from mantra.extensions import db  # noqa: E402
from mantra.models import LevelMonth, StaffRole  # noqa: E402
from tests.conftest import PG_SERVER_URL  # noqa: E402
from tests.factories import make_user  # noqa: E402


def per_query(app, month) -> None:
    """Where the dashboard's time goes, one call at a time."""
    for name, call in (
        ("the month and its comparisons (kept)", lambda: levels.compare(month)),
        ("the twelve-month series (kept)", lambda: levels.received_by_month(month)),
        ("one month counted afresh (the files)", lambda: levels.month(month)),
    ):
        t = time.perf_counter()
        call()
        print(f"  {name:40} {(time.perf_counter() - t) * 1000:6.0f} ms")
    db.session.rollback()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default=PG_SERVER_URL)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    with bench_app(args.postgres) as (app, made):
        make_user(made["victim-support"][0], "coordinator@vs.example", "a long staff password", StaffRole.COORDINATOR)
        t = time.perf_counter()
        parts = args.reports // 100_000 or 1
        for part in range(parts):
            generate(min(args.reports, 100_000), part, parts)
        loaded = time.perf_counter() - t
        total = db.session.scalar(sa.text("SELECT count(*) FROM report"))
        month = exports.whole_month_before(datetime.now(UTC))
        received = levels.month(month).received
        print(f"{total:,} reports loaded with COPY in {loaded:.0f} s; {month:%B %Y} has {received:,}\n")
        print("export of one month                 seconds")
        for kind in exports.FORMATS:
            for rule in (None, levels.RULES["default"]):
                t = time.perf_counter()
                exports.build(levels.month(month), kind, rule)
                took = time.perf_counter() - t
                print(f"  {kind:5} {'published' if rule else 'internal':10}               {took:6.2f}")
        client = signed_in(app, "coordinator@vs.example")
        path = f"/levels/?month={month:%Y-%m}"
        t = time.perf_counter()
        assert client.get(path).status_code == 200
        print(f"\nGET {path}: the first request {(time.perf_counter() - t) * 1000:.0f} ms")
        per_query(app, month)
        samples = []
        for _ in range(args.requests):
            t = time.perf_counter()
            assert client.get(path).status_code == 200
            samples.append((time.perf_counter() - t) * 1000)
        samples.sort()
        p95 = samples[int(len(samples) * 0.95) - 1]
        db.session.execute(
            sa.update(LevelMonth).where(LevelMonth.month == month).values(generation=LevelMonth.generation + 1)
        )
        db.session.commit()  # as a late acknowledgement would
        t = time.perf_counter()
        assert client.get(path).status_code == 200
        print(f"\nGET {path} after a late write to the month: {(time.perf_counter() - t) * 1000:.0f} ms")
        print(f"GET {path} ({args.requests} requests): median {statistics.median(samples):.0f} ms, p95 {p95:.0f} ms")


if __name__ == "__main__":
    main()
