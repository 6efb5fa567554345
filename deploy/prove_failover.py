"""Proof, on one machine, that MANTRA keeps every report when parts of it go away.

Debian's nginx balances two gunicorn web processes. Two workers route the
reports, and each can run RQ's scheduler. PostgreSQL (a throw-away main
database and key store) and a Redis server of its own complete the set.
People send reports through nginx at a steady rate, retrying as a person
would when a page fails. Meanwhile:

- one web process is killed (SIGKILL) and started again,
- one worker is killed (SIGKILL) in the middle of its work and started again,
- Redis is stopped and started again, empty.

When sending stops, it waits for the workers. Then it checks:

- every person who pressed 'Send report' got a reference;
- every report with a reference is in the database;
- no report was stored twice for one person's sending;
- every report was routed exactly once: one `report.routed` audit event, and
  one referral and one e-mail per partner.

Run from the repository root (not part of the test suite; it takes about 2 minutes):
    .venv/bin/python deploy/prove_failover.py [--duration 45] [--rate 3] [--postgres SERVER_URL]
It needs nginx (apt-get install nginx-light), redis-server and a PostgreSQL server.
It exits 0 when every check holds.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from http_bench import (  # noqa: E402
    BIN,
    REFERENCE,
    BenchError,
    Browser,
    add_postgres_option,
    answer_all,
    gunicorn_cmd,
    http_ok,
    log,
    mantra_instance,
    run_bench,
    wait_until,
)

from tests.conftest import RedisServer, free_port  # noqa: E402

NGINX_SITE = """
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log crit;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    upstream mantra {{
        server 127.0.0.1:{web1} max_fails=1 fail_timeout=3s;
        server 127.0.0.1:{web2} max_fails=1 fail_timeout=3s;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://mantra;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_next_upstream error timeout http_502 http_503;
        }}
    }}
}}
"""


class Restartable:
    """A process that can be killed and started again, with the same command and log."""

    def __init__(self, name: str, cmd: list[str], env: dict, tmp: Path, ready=None):
        self.name, self.cmd, self.env, self.tmp, self.ready = name, cmd, env, tmp, ready
        self.proc = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        logfile = self.tmp / f"{self.name}.{self.starts}.log"
        out = open(logfile, "w")  # noqa: SIM115 (kept open for the process's life)
        self.proc = subprocess.Popen(
            self.cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        if self.ready:
            wait_until(self.ready, self.proc, logfile)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def send_one(port: int, results: list, failures: list) -> None:
    """One person: answers every question, then presses 'Send report'. When a
    page fails they send the same form again, as a browser's refresh does; its
    one-time token makes that safe (the same report's confirmation, never a
    second report)."""
    browser = Browser(port)
    for _ in range(40):
        try:
            answer_all(browser, read_every_page=False)
            break
        except Exception:  # noqa: BLE001 (a failed page: the person tries again)
            time.sleep(0.5)
    else:
        failures.append("could not answer the questions")
        return
    fields = None
    for _ in range(40):
        try:
            fields = fields or browser.hidden("/report/check")
            status, location, _ = browser.request("POST", "/report/check", fields)
            if status == 303 and location.endswith("/report/sent"):
                status, _, text = browser.request("GET", "/report/sent")
                found = REFERENCE.search(text)
                if status == 200 and found:
                    results.append(found.group(1))
                    return
        except Exception:  # noqa: BLE001 (the connection broke, or a page failed: again)
            pass
        time.sleep(0.5)
    failures.append("no reference after 40 tries")


def run(args, stack: contextlib.ExitStack, tmp: Path) -> None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise BenchError("nginx is needed: apt-get install nginx-light")
    env, engine = mantra_instance(stack, tmp, args.postgres, PYTHONPATH=str(ROOT), MANTRA_SWEEP_AFTER_SECONDS="5")
    # A Redis of this run's own, which it may stop and start again (mantra_instance's is replaced).
    redis = RedisServer()
    if not redis.start():
        raise BenchError("could not start redis-server")
    stack.callback(redis.stop)
    env.update(REDIS_URL=redis.url, RATELIMIT_STORAGE_URI=redis.url)

    webs = []
    for n in (1, 2):
        port = free_port()
        web = Restartable(
            f"web{n}", gunicorn_cmd("wsgi:app", port, 2), env, tmp, ready=lambda port=port: http_ok(port, "/healthz")
        )
        web.port = port
        web.start()
        stack.callback(web.stop)
        webs.append(web)
    workers = []
    for n in (1, 2):
        worker = Restartable(
            f"worker{n}",
            [str(BIN / "flask"), "--app", "mantra", "mantra", "worker", "--name", f"failover-{n}"],
            {**env, "MANTRA_PROCESS": "worker"},
            tmp,
        )
        worker.start()
        stack.callback(worker.stop)
        workers.append(worker)
    port = free_port()
    (tmp / "nginx.conf").write_text(NGINX_SITE.format(tmp=tmp, port=port, web1=webs[0].port, web2=webs[1].port))
    balancer = Restartable("nginx", [nginx, "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"], env, tmp)
    balancer.start()
    stack.callback(balancer.stop)
    time.sleep(1)
    if not http_ok(port, "/readyz"):
        raise BenchError("nginx does not answer /readyz")
    log(f"nginx on {port} over web processes on {webs[0].port} and {webs[1].port}; two workers; Redis {redis.port}")

    results, failures, people = [], [], []
    begin = time.monotonic()

    def restart_redis() -> None:
        if not redis.start():
            raise BenchError("Redis would not start again")

    faults = [  # one in each quarter of the run; the last quarter sends with everything back
        ("kill -9 web1", webs[0].kill, "web1 started again", webs[0].start),
        ("kill -9 worker1", workers[0].kill, "worker1 started again", workers[0].start),
        ("Redis stopped", redis.stop, "Redis started again, empty", restart_redis),
    ]

    def chaos() -> None:
        for said, stop, said_after, start in faults:
            time.sleep(args.duration / 4 - 3)
            log(f"{time.monotonic() - begin:5.1f} s  {said}")
            stop()
            time.sleep(3)
            start()
            log(f"{time.monotonic() - begin:5.1f} s  {said_after}")

    chaos_thread = threading.Thread(target=chaos, daemon=True)
    chaos_thread.start()
    sent = 0
    while time.monotonic() - begin < args.duration or chaos_thread.is_alive():  # sending all through
        person = threading.Thread(target=send_one, args=(port, results, failures), daemon=True)
        person.start()
        people.append(person)
        sent += 1
        time.sleep(1 / args.rate)
    chaos_thread.join()
    for person in people:
        person.join(timeout=120)
    log(f"{sent} people pressed 'Send report'; {len(results)} got a reference; {len(failures)} did not")

    references = set(results)
    deadline = time.time() + 180
    while time.time() < deadline:
        with engine.connect() as conn:
            waiting = conn.execute(
                sa.text("SELECT count(*) FROM report WHERE status = 'received' AND held_reason IS NULL")
            ).scalar()
            unsent = conn.execute(sa.text("SELECT count(*) FROM notification WHERE sent_at IS NULL")).scalar()
        if not waiting and not unsent:
            break
        time.sleep(2)
    log(f"waited for the workers: {waiting} reports unrouted, {unsent} e-mails unsent")
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT reference, status FROM report")).all()
        routed_events = dict(
            conn.execute(
                sa.text("SELECT report_id, count(*) FROM audit_event WHERE action = 'report.routed' GROUP BY report_id")
            ).all()
        )
        ids = dict(conn.execute(sa.text("SELECT reference, id FROM report")).all())
        referrals = dict(conn.execute(sa.text("SELECT report_id, count(*) FROM referral GROUP BY report_id")).all())
        emails = dict(
            conn.execute(
                sa.text(
                    "SELECT f.report_id, count(*) FROM notification n JOIN referral f ON f.id = n.referral_id "
                    "WHERE n.kind = 'new_referral' AND n.sent_at IS NOT NULL GROUP BY f.report_id"
                )
            ).all()
        )
    outbox = list((Path(env["MANTRA_INSTANCE_PATH"]) / "outbox").glob("*.eml"))
    checks = {
        "every person got a reference": not failures and len(results) == sent,
        "no reference given twice": len(results) == len(references),
        "every reference is stored": references <= {r for r, _s in stored},
        "no report stored that nobody was told of": len(stored) == len(references),
        "every report routed": all(s == "routed" for _r, s in stored),
        "routed exactly once (one audit event each)": all(routed_events.get(ids[r]) == 1 for r in references),
        "one e-mail per referral, sent once": all(emails.get(ids[r]) == referrals.get(ids[r]) for r in references),
        "the e-mails are in the outbox": len(outbox) >= sum(referrals.get(ids[r], 0) for r in references),
    }
    for what, held in checks.items():
        log(f"  {'ok  ' if held else 'FAIL'} {what}")
    log(
        f"{len(stored)} reports, {sum(referrals.values())} referrals, {len(outbox)} e-mails; "
        f"web1 started {webs[0].starts} times, worker1 {workers[0].starts} times"
    )
    if not all(checks.values()):
        kept = Path(f"/tmp/mantra-failover-{int(time.time())}")
        shutil.copytree(tmp, kept, ignore=shutil.ignore_patterns("instance"))
        raise BenchError(f"a check failed: the logs are in {kept}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=45, help="seconds of sending")
    parser.add_argument("--rate", type=float, default=3, help="people pressing 'Send report' a second")
    add_postgres_option(parser)
    run_bench(run, parser.parse_args())


if __name__ == "__main__":
    main()
