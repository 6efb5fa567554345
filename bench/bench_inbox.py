"""The partner inbox with 100,000 reports in PostgreSQL: how long a page takes.

Run on demand:  .venv/bin/python bench/bench_inbox.py [--reports 100000] [--requests 200]
                [--postgres SERVER_URL]
It makes (then drops) a throw-away database, fills it with COPY (reports,
their strands and kinds, one to three referrals each, spread over the
partners), signs a police triage officer in with both factors, and times GET
/triage/ through the app (the Flask test client, so the figure is the server's
own time: routing, the session, the SQL and the template) for the default
inbox and for each filter and sort. Target (issue 14): p95 <= 100 ms.
Reported in docs/performance.md. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import io
import random
import secrets
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyotp  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from mantra.crypto import keys, vault  # noqa: E402
from mantra.extensions import db  # noqa: E402
from mantra.models import OUTCOME_LABELS, Area, AreaKind, IncidentKind, Partner, StaffRole, Strand  # noqa: E402
from tests.conftest import PG_SERVER_URL, IsolatedClient, build_app, private_redis, temporary_pg_database  # noqa: E402
from tests.factories import make_partners, make_user  # noqa: E402
from tests.journey import CSRF, post  # noqa: E402

QUERIES = [
    ("default (open, deadline first)", ""),
    ("newest first", "?sort=newest"),
    ("strand: religion", "?strand=religion"),
    ("kind: threats", "?kind=threats"),
    ("area", "?area=cowley"),
    ("overdue", "?deadline=overdue"),
    ("any status, page 40", "?status=all&page=40"),
]


def copy_rows(conn, table: str, columns: list[str], rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
    buffer.seek(0)
    with (
        conn.connection.dbapi_connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        copy.write(buffer.read())


def generate(reports: int, part: int = 0, parts: int = 1) -> None:
    """`reports` reports over part `part` (0: the oldest) of `parts` of the last two
    years, written in order of time as a live service writes them, with referrals
    acknowledged and closed as a partner would."""
    rng = random.Random(7 + part)
    span = 60 * 24 * 365 * 2 // parts  # minutes
    newest = span * (parts - 1 - part)
    partners = list(db.session.scalars(sa.select(Partner.id)))
    areas = list(db.session.scalars(sa.select(Area.id)))
    strands, kinds, outcomes = list(Strand), list(IncidentKind), list(OUTCOME_LABELS)
    now = datetime.now(UTC)
    conn = db.session.connection()
    start = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(sa.text("id")), 0)).select_from(sa.table("report"))
    )
    report_rows, strand_rows, kind_rows, referral_rows = [], [], [], []
    times = sorted(now - timedelta(minutes=rng.randint(newest, newest + span)) for _ in range(reports))
    for i, at in enumerate(times, start + 1):
        report_rows.append(
            (
                i,
                f"HC-B{i:010d}"[:16],
                at.isoformat(),
                "online_self",
                "victim",
                rng.choice(["crime", "incident", "not_sure"]),
                rng.choice(areas),
                "t",
                "t",
                "f",
                "f",
                "f",
                "f",
                "routed",
                "\\\\x" + secrets.token_bytes(32).hex(),
                "argon2id$t=3,m=65536,p=1",
                "\\\\x" + "00" * 32,
            )
        )
        for strand in rng.sample(strands, rng.choice([1, 1, 2])):
            strand_rows.append((i, strand.value))
        for kind in rng.sample(kinds, rng.choice([1, 2])):
            kind_rows.append((i, kind.value))
        for partner_id in rng.sample(partners, rng.choice([1, 2, 3])):
            status = rng.choices(["new", "acknowledged", "in_progress", "closed"], [2, 2, 3, 8])[0]
            due = at + timedelta(hours=24)
            acknowledged = closed = outcome = None
            if status != "new":
                acknowledged = min(now, at + timedelta(hours=rng.uniform(0.5, 40)))
            if status == "closed":
                closed = acknowledged + timedelta(days=rng.uniform(1, 30))
                status, closed, outcome = (
                    ("closed", closed, rng.choice(outcomes)) if closed < now else ("in_progress", None, None)
                )
            referral_rows.append(
                (
                    i,
                    partner_id,
                    status,
                    "f",
                    at.isoformat(),
                    due.isoformat(),
                    *(t and t.isoformat() for t in (acknowledged, closed)),
                    outcome,
                )
            )
    copy_rows(
        conn,
        "report",
        [
            "id",
            "reference",
            "submitted_at",
            "channel",
            "reporter_role",
            "incident_type",
            "area_id",
            "consent_police",
            "consent_partners",
            "may_contact",
            "flag_student",
            "flag_council_tenant",
            "flag_ongoing_risk",
            "status",
            "lookup_token",
            "receipt_kdf",
            "reporter_public_key",
        ],
        report_rows,
    )
    copy_rows(conn, "report_strand", ["report_id", "strand"], strand_rows)
    copy_rows(conn, "report_kind", ["report_id", "kind"], kind_rows)
    copy_rows(
        conn,
        "referral",
        [
            "report_id",
            "partner_id",
            "status",
            "urgent",
            "created_at",
            "ack_due_at",
            "acknowledged_at",
            "closed_at",
            "outcome",
        ],
        referral_rows,
    )
    conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('report', 'id'), (SELECT max(id) FROM report))")
    db.session.commit()
    conn = db.session.connection()
    conn.exec_driver_sql("ANALYZE")
    db.session.commit()


def signed_in(app, email: str) -> IsolatedClient:
    """A member signed in for the first time: password, then an authenticator."""
    client = IsolatedClient(app, app.response_class)
    post(client, "/triage/sign-in", {"email": email, "password": "a long staff password"})
    page = client.get("/triage/enrol").text
    secret = page.split('id="totp-secret">')[1].split("<")[0].replace(" ", "")
    client.post("/triage/enrol", data={"csrf_token": CSRF.search(page).group(1), "code": pyotp.TOTP(secret).now()})
    return client


def signed_in_officer(app) -> IsolatedClient:
    client = signed_in(app, "officer@tvp.example")
    assert client.get("/triage/").status_code == 200
    return client


def timed(client, path: str, n: int) -> tuple[float, float, float]:
    client.get(path)  # warm
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, response.status_code
    samples.sort()
    return statistics.median(samples), samples[int(n * 0.95) - 1], samples[-1]


@contextmanager
def bench_app(server_url: str):
    """A throw-away PostgreSQL database and Redis, the app on them with its
    keys and rate limits raised, an app context, and the demo-like partners
    and areas: (app, partners). Everything goes at the end."""
    folder = Path(tempfile.mkdtemp())
    key_files = {"folder": folder}
    for purpose in ("intake", "notify", "recovery"):
        key = vault.PrivateKey.generate()
        keys.write_private(folder / f"{purpose}.key", key, purpose)
        keys.write_public(folder / f"{purpose}.pub", key.public)
        key_files[purpose] = key
    with temporary_pg_database(server_url) as url, private_redis() as redis_url:
        app = build_app(url, key_files, folder, redis_url)
        app.config["RATE_LIMITS"] = {name: "100000 per hour" for name in app.config["RATE_LIMITS"]}
        with app.app_context():
            made, _ = make_partners()
            for slug in ("headington", "jericho"):
                db.session.add(Area(slug=slug, name=slug.title(), kind=AreaKind.NEIGHBOURHOOD))
            db.session.commit()
            yield app, made


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default=PG_SERVER_URL)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with bench_app(args.postgres) as (app, made):
        make_user(made["tvp-oxford"][0], "officer@tvp.example", "a long staff password", StaffRole.TRIAGE)
        t = time.perf_counter()
        generate(args.reports)
        loaded = time.perf_counter() - t
        counts = db.session.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM report), (SELECT count(*) FROM referral), "
                "(SELECT count(*) FROM referral r JOIN partner p ON p.id = r.partner_id WHERE p.slug = 'tvp-oxford')"
            )
        ).one()
        print(
            f"{counts[0]:,} reports, {counts[1]:,} referrals ({counts[2]:,} to the police partner), "
            f"loaded with COPY in {loaded:.1f} s\n"
        )
        client = signed_in_officer(app)
        print(f"GET /triage/ ({args.requests} requests each)      median    p95    max (ms)")
        for label, query in QUERIES:
            median, p95, worst = timed(client, f"/triage/{query}", args.requests)
            print(f"  {label:34} {median:7.1f} {p95:6.1f} {worst:6.1f}")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
