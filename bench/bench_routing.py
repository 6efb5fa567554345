"""From 'Send report' to the partner's e-mail, end to end, at a steady rate.

Reports are sent through MANTRA under gunicorn at --rate a second for
--duration seconds; --workers real `flask mantra worker` processes route
them and send the e-mails to an aiosmtpd server on loopback. For each report:
the time from the moment its 'Send report' POST goes out to the first
'New referral <reference>' e-mail arriving at the mail server. Target: p95
<= 500 ms. A report whose e-mail never comes counts as infinitely slow.

Run on demand, from the repository root (not part of the test suite):
    .venv/bin/python bench/bench_routing.py [--rate 10] [--duration 60] [--workers 2]

Like bench/http_bench.py (whose helpers it uses) it starts its own
redis-server, a throw-away PostgreSQL database, an instance folder, gunicorn,
the workers and the mail server, and removes them all at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import shlex
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa
from redis import Redis
from rq import Worker
from rq.job import Job
from rq.serializers import JSONSerializer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_bench import (  # noqa: E402
    REFERENCE,
    ROOT,
    BenchError,
    Browser,
    add_postgres_option,
    cpu_idle,
    gunicorn_cmd,
    http_ok,
    log,
    mantra_instance,
    new_draft,
    parallel,
    run_bench,
    start,
    wait_until,
)

from tests.conftest import free_port  # noqa: E402
from tests.workers import smtp_server  # noqa: E402

SUBJECT = re.compile(r"New referral (HC-[A-Z0-9-]+) for ")
WARM_UP = 3  # seconds sent at the rate first, not measured: gunicorn, the workers and PostgreSQL warm up
TARGET_P95_MS = 500


def setup(stack: contextlib.ExitStack, tmp: Path, args, mail_port: int) -> tuple[dict, sa.Engine, Redis]:
    """A throw-away database, a redis-server and MANTRA set up in its own
    instance folder (keys, migrations, demo partners pinned): the environment
    gunicorn and the workers share, so they see the same keys and pins."""
    env, engine = mantra_instance(
        stack, tmp, args.postgres, PYTHONPATH=str(ROOT), MAIL_SERVER="127.0.0.1", MAIL_PORT=str(mail_port)
    )
    redis_url = env["REDIS_URL"]
    redis = Redis.from_url(redis_url)
    stack.callback(redis.close)
    return env, engine, redis


def send(port: int, cookie: str, fields: dict) -> tuple[str, float, float]:
    """POST one draft's 'Send report': (reference, when it went out, when the answer came)."""
    b = Browser(port)
    b.cookies = dict(part.split("=", 1) for part in cookie.split("; "))
    sent = time.time()
    status, _, text = b.request("POST", "/report/check", fields)
    answered = time.time()
    found = REFERENCE.search(text)
    if status != 200 or not found:
        raise BenchError(f"sending a report: status {status}, no reference")
    return found.group(1), sent, answered


def send_at_rate(port: int, drafts: list, rate: float) -> list[tuple[str, float, float]]:
    """Each draft sent on its own schedule, 1/rate s apart, however long the others take."""
    pool = ThreadPoolExecutor(max(16, math.ceil(rate * 4)))
    begin, futures = time.monotonic() + 0.2, []
    try:
        for i, (cookie, fields) in enumerate(drafts):
            time.sleep(max(0.0, begin + i / rate - time.monotonic()))
            futures.append(pool.submit(send, port, cookie, fields))
        return [f.result() for f in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def routed(engine, references: set[str]) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT count(*) FROM report WHERE reference = ANY(:refs) AND status <> 'received'"),
            {"refs": list(references)},
        ).scalar()


def first_emails(mail, engine, references: set[str], seconds: float) -> dict[str, float]:
    """Reference -> when its first new-referral e-mail arrived; waits until every
    reference has one, or `seconds` pass with no e-mail and no report routed."""
    first, seen, progress, still_since = {}, 0, None, time.time()
    while True:
        messages = mail.messages[:]
        for _rcpts, message, arrived in messages[seen:]:
            found = SUBJECT.search(message["Subject"] or "")
            if found and found.group(1) in references:
                first[found.group(1)] = min(arrived, first.get(found.group(1), math.inf))
        seen, now = len(messages), (len(messages), routed(engine, references))
        if now != progress:
            progress, still_since = now, time.time()
        if references <= first.keys() or time.time() - still_since > seconds:
            return first
        time.sleep(0.5)


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(values: list[float]) -> str:
    """p50 / p95 / max in ms."""
    return " / ".join(
        "never" if math.isinf(v) else f"{v * 1000:.0f}" for v in (pct(values, 50), pct(values, 95), max(values))
    )


def stages(engine, redis: Redis, sends: list[tuple[str, float, float]]) -> list[tuple[str, list[float]]]:
    """Where the time goes, per report, from the database and RQ's own job records."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT r.reference, r.id, n.id FROM report r LEFT JOIN notification n ON n.id = "
                "(SELECT min(id) FROM notification WHERE report_id = r.id AND kind = 'new_referral') "
                "WHERE r.reference = ANY(:refs)"
            ),
            {"refs": [ref for ref, _, _ in sends]},
        ).all()
    ids = {ref: (report_id, notification_id) for ref, report_id, notification_id in rows}

    def jobs(names):
        found = Job.fetch_many(names, connection=redis, serializer=JSONSerializer)
        return {name: job for name, job in zip(names, found, strict=True) if job and job.ended_at}

    route = jobs([f"route-report-{ids[ref][0]}" for ref, _, _ in sends])
    notify = jobs([f"notify-{ids[ref][1]}" for ref, _, _ in sends if ids[ref][1]])
    out = {
        k: []
        for k in (
            "POST (Argon2id, store, queue)",
            "route job queued -> started (queue, fork)",
            "route job runs",
            "route done -> notify job started (queue, fork)",
            "notify job runs (compose, SMTP, commit)",
        )
    }
    names = list(out)
    for ref, sent, answered in sends:
        r, n = route.get(f"route-report-{ids[ref][0]}"), notify.get(f"notify-{ids[ref][1]}")
        out[names[0]].append(answered - sent)
        if r:
            out[names[1]].append((r.started_at - r.enqueued_at).total_seconds())
            out[names[2]].append((r.ended_at - r.started_at).total_seconds())
        if r and n:
            out[names[3]].append((n.started_at - r.ended_at).total_seconds())
            out[names[4]].append((n.ended_at - n.started_at).total_seconds())
    return [(name, values) for name, values in out.items() if values]


def run(args, stack: contextlib.ExitStack, tmp: Path) -> None:
    commands = [shlex.join([sys.executable, *sys.argv])]
    idle = cpu_idle()
    mail = stack.enter_context(smtp_server())
    env, engine, redis = setup(stack, tmp, args, mail.port)

    port = free_port()
    cmd = gunicorn_cmd("wsgi:app", port, args.web_workers)
    commands.append(shlex.join(cmd))
    web = start(stack, cmd, tmp / "gunicorn.log", cwd=ROOT, env=env)
    wait_until(lambda: http_ok(port), web, tmp / "gunicorn.log")
    for i in range(args.workers):
        cmd = [sys.executable, "-m", "flask", "--app", "mantra", "mantra", "worker", "--name", f"bench-{i}"]
        commands.append("MANTRA_PROCESS=worker " + shlex.join(cmd))
        logfile = tmp / f"worker-{i}.log"
        proc = start(stack, cmd, logfile, cwd=ROOT, env={**env, "MANTRA_PROCESS": "worker"})
        wait_until(lambda i=i: len(Worker.all(connection=redis)) > i, proc, logfile)

    warm, measured = (math.ceil(args.rate * t) for t in (WARM_UP, args.duration))
    log(f"preparing {warm + measured} complete drafts to send")
    drafts = parallel(new_draft, [(port,)] * (warm + measured), label="drafts")
    log(f"warm-up: {warm} reports in {WARM_UP} s")
    warm_sends = send_at_rate(port, drafts[:warm], args.rate)
    first_emails(mail, engine, {ref for ref, _, _ in warm_sends}, 30)
    log(f"measuring: {measured} reports at {args.rate:g}/s")
    with ThreadPoolExecutor(1) as one:
        idle_while_sending = one.submit(cpu_idle, args.duration)
        sends = send_at_rate(port, drafts[warm:], args.rate)
    log("waiting for the e-mails")
    references = {ref for ref, _, _ in sends}
    first = first_emails(mail, engine, references, 30)
    latency = [first.get(ref, math.inf) - sent for ref, sent, _ in sends]
    parts = stages(engine, redis, sends)
    for logfile in sorted(tmp.glob("*.log")):
        errors = [ln for ln in logfile.read_text().splitlines() if re.search(r"ERROR|CRITICAL|Traceback", ln)]
        if errors:
            log(f"{logfile.name}: {len(errors)} error lines, first ones:\n  " + "\n  ".join(errors[:5]))

    p95 = pct(latency, 95) * 1000
    print(
        f"\n'Send report' POST -> partner e-mail at the SMTP server: {args.rate:g}/s for {args.duration:g} s "
        f"(after a {WARM_UP} s warm-up); {args.workers} MANTRA workers, gunicorn {args.web_workers} sync workers"
    )
    print(
        f"nproc {len(os.sched_getaffinity(0))}; CPU idle just before the bench {idle:.0%}, "
        f"while sending {idle_while_sending.result():.0%}"
    )
    print(f"sent {len(sends)}, routed {routed(engine, references)}, e-mailed {len(first)}", end="")
    if first:
        print(f"; the last e-mail came {max(first.values()) - sends[-1][1]:.1f} s after the last send", end="")
    print()
    print(
        f"latency p50 / p95 / max ms: {ms(latency)}   (target p95 <= {TARGET_P95_MS}: "
        f"{'met' if p95 <= TARGET_P95_MS else 'MISSED'})"
    )
    print("\nwhere the time goes (ms, p50 / p95 / max):")
    for name, values in parts:
        print(f"  {name:48} {ms(values)}")
    print("\ncommands:\n  " + "\n  ".join(commands))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=10, help="reports sent a second (default 10)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of sending measured (default 60)")
    parser.add_argument("--workers", type=int, default=2, help="MANTRA workers (default 2)")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn sync workers (default 4)")
    add_postgres_option(parser)
    args = parser.parse_args()
    run_bench(run, args)


if __name__ == "__main__":
    main()
