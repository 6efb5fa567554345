"""MANTRA over HTTP under load, each figure against a floor on the same machine.

1. Follow-up message POST (/follow-up/report) against a bare Flask +
   SQLAlchemy app doing one INSERT (bench/bare_app.py), both under the same
   gunicorn settings and the same PostgreSQL server, driven by wrk with 16
   connections (16 reporters posting at once): on fresh reports, then again
   once every report holds about 400 messages.
2. 'Send report' POST (/report/check), each request sending a different
   complete draft, against a bare Argon2id loop with the receipt code's
   parameters (one process per gunicorn worker).

Run on demand, from the repository root (not part of the test suite):
    .venv/bin/python bench/http_bench.py [--duration 10] [--workers 4]

Four sync workers by default, for 2 cores: a worker waits on PostgreSQL
(and its fsync at COMMIT) and Redis in every request, so two per core keep
both cores busy; with 2 workers the cores sat ~12 % idle, and 8 were slower.
The bench, PostgreSQL and wrk share the machine: the ratios, not the
absolute figures, are what to compare between runs and machines.
Needs wrk, redis-server and a PostgreSQL server (--postgres). It starts its
own redis-server, a throw-away database, an instance folder and two
gunicorns, and removes them all at the end, on an error or Ctrl+C too.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import math
import multiprocessing
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.conftest import free_port, private_redis, temporary_pg_database  # noqa: E402
from tests.journey import ANSWERS, CSRF, SEND_TOKEN  # noqa: E402  the answers the tests give

BIN = Path(sys.executable).parent  # gunicorn and flask from the same virtualenv
LUA = ROOT / "bench" / "post.lua"
RECEIPT = re.compile(r'id="receipt-code">([\d-]+)<')
REFERENCE = re.compile(r"<strong>(HC-[A-Z0-9-]+)</strong>")
MESSAGE = "I saw the same man at the bus stop again this morning. He shouted at me and followed me home."  # ~100 bytes
CONNECTIONS, WRK_THREADS, WARM_UP, PREFILL = 16, 2, 2, 400


class BenchError(RuntimeError):
    pass


# --- a browser, by hand -------------------------------------------------------


class Browser:
    """One person's browser. Cookies are kept by hand: the session cookie is
    Secure, and this is plain http on 127.0.0.1."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, data: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Cookie": self.cookie()} if self.cookies else {}
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            text = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    if morsel.value == "" or morsel["max-age"] == "0":
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return response.status, response.headers.get("Location", ""), text
        finally:
            conn.close()

    def token(self, path: str) -> str:
        return self.hidden(path)["csrf_token"]

    def hidden(self, path: str) -> dict:
        """The page's hidden form fields: its CSRF token and, on 'Check your
        answers', the one-time send token."""
        status, _, text = self.request("GET", path)
        found = CSRF.search(text)
        if status != 200 or not found:
            raise BenchError(f"GET {path}: status {status}, no csrf_token")
        fields = {"csrf_token": found.group(1)}
        send = SEND_TOKEN.search(text)
        if send:
            fields["send_token"] = send.group(1)
        return fields

    def post(self, path: str, data: dict, token: str | None = None):
        """POST a form with the page's hidden fields (its CSRF token given, or read from the page)."""
        return self.request("POST", path, {**data, **({"csrf_token": token} if token else self.hidden(path))})


def answer_all(b: Browser, read_every_page: bool = True) -> None:
    # The CSRF token belongs to the session, so one page's token serves them all:
    # drafts for the send pool skip reading each page to get ready sooner.
    token = None if read_every_page else b.token("/report/who")
    for step, answers in ANSWERS.items():
        status, location, _ = b.post(f"/report/{step}", answers, token)
        if status != 302:
            raise BenchError(f"answering /report/{step}: status {status}")


def new_draft(port: int) -> tuple[str, dict]:
    """A complete draft, ready to send: (cookie, the send form's hidden fields)."""
    b = Browser(port)
    answer_all(b, read_every_page=False)
    return b.cookie(), b.hidden("/report/check")  # 200 only when every answer is there


def new_followup(port: int) -> tuple[str, str, str]:
    """A reporter who sent a report and signed in to follow it up: (cookie, CSRF token, reference)."""
    b = Browser(port)
    answer_all(b)
    status, _, text = b.post("/report/check", {})
    code, reference = RECEIPT.search(text), REFERENCE.search(text)
    if status != 200 or not code or not reference:
        raise BenchError(f"sending a report: status {status}, no receipt code")
    status, location, _ = b.post("/follow-up/", {"code": code.group(1)})
    if status != 302 or not location.endswith("/follow-up/report"):
        raise BenchError(f"signing in to follow up: status {status}, to {location!r}")
    return b.cookie(), b.token("/follow-up/report"), reference.group(1)


def post_messages(port: int, cookie: str, token: str, count: int) -> None:
    b = Browser(port)
    b.cookies = dict(part.split("=", 1) for part in cookie.split("; "))
    for _ in range(count):
        status, location, _ = b.request("POST", "/follow-up/report", {"csrf_token": token, "body": MESSAGE})
        if status != 302 or "sent=1" not in location:
            raise BenchError(f"prefilling messages: status {status}, to {location!r}")


def parallel(fn, items, threads=8, label=""):
    """fn(*item) for every item on a few threads; results in order."""
    pool = ThreadPoolExecutor(threads)
    futures = [pool.submit(fn, *item) for item in items]
    try:
        results = []
        for i, future in enumerate(futures, 1):
            results.append(future.result())
            if label and (i % 100 == 0 or i == len(futures)):
                log(f"  {label}: {i}/{len(futures)}")
        return results
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


# --- services -------------------------------------------------------------------


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def start(stack: contextlib.ExitStack, cmd: list[str], logfile: Path, **kw) -> subprocess.Popen:
    """Start a process in its own process group, stopped (with its children) on exit."""
    out = stack.enter_context(open(logfile, "w"))
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kw)

    def stop():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    stack.callback(stop)
    return proc


def wait_until(ready, proc: subprocess.Popen, logfile: Path, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{proc.args[0]} exited:\n{logfile.read_text()[-3000:]}")
        with contextlib.suppress(Exception):
            if ready():
                return
        time.sleep(0.2)
    raise BenchError(f"{proc.args[0]} not ready after {seconds} s:\n{logfile.read_text()[-3000:]}")


def gunicorn_cmd(app: str, port: int, workers: int) -> list[str]:
    """Both apps served as MANTRA is everywhere: gunicorn.conf.py (sync workers,
    no access log, no control socket), with the worker count given here."""
    return [
        str(BIN / "gunicorn"),
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        app,
    ]


def http_ok(port: int, path: str = "/") -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    finally:
        conn.close()


# --- measuring ------------------------------------------------------------------


def wrk(
    port: int,
    lines: list[str],
    mode: str,
    ok_status: int,
    ok_text: str,
    seconds: float,
    tmp: Path,
    label: str,
    commands: list[str],
) -> float:
    """Run wrk over these request lines; ok responses per second. Refuses a
    figure when anything else came back."""
    datafile = tmp / (re.sub(r"[^a-z0-9]+", "-", label.lower()) + ".tsv")
    datafile.write_text("\n".join(lines) + "\n")
    cmd = [
        "wrk",
        "-t",
        str(WRK_THREADS),
        "-c",
        str(CONNECTIONS),
        "-d",
        f"{seconds:g}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
        "--",
        str(datafile),
        mode,
        str(ok_status),
        ok_text,
        str(WRK_THREADS),
    ]
    if not label.endswith("warm-up"):
        commands.append(shlex.join(cmd))
    out = subprocess.run(cmd, capture_output=True, text=True)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if out.returncode or line is None:
        raise BenchError(f"wrk failed ({label}):\n{out.stdout}{out.stderr}")
    result = {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    failed = {
        k: int(v)
        for k, v in result.items()
        if v
        and (
            k.startswith("status_")
            and k != "status_errors"
            or k in ("exhausted", "silent_threads", "connect", "read", "write", "timeout")
        )
    }
    if failed or not result.get("ok"):
        raise BenchError(
            f"{label}: not every request succeeded, no figure reported: ok={int(result.get('ok', 0))} failed={failed}"
        )
    rate = result["ok"] / (result["duration_us"] / 1e6)
    log(
        f"  {label}: {rate:.1f}/s ({int(result['ok'])} ok, p50 {result['p50_ms']:.0f} ms, "
        f"p99 {result['p99_ms']:.0f} ms)"
    )
    return rate


def argon2_loop(start_at: float, seconds: float) -> int:
    """Derivations finished in [start_at, start_at + seconds], as a receipt code is derived."""
    from mantra.crypto import vault

    secret, salt = b"1234-5678-9012-3456-7890", bytes(16)
    vault.ARGON2.derive(secret, salt, 64)
    time.sleep(max(0.0, start_at - time.time()))
    done, end = 0, start_at + seconds
    while True:
        vault.ARGON2.derive(secret, salt, 64)
        if time.time() > end:
            return done
        done += 1


def argon2_rate(processes: int, seconds: float) -> float:
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        start_at = time.time() + 3  # after every process has started and derived once
        counts = pool.starmap(argon2_loop, [(start_at, seconds)] * processes)
    return sum(counts) / seconds


def message_counts(engine, references: list[str]) -> list[int]:
    """How many messages each of these reports holds."""
    with engine.connect() as conn:
        counts = dict(
            conn.execute(
                sa.text(
                    "SELECT r.reference, count(m.id) FROM report r LEFT JOIN message m ON m.report_id = r.id "
                    "WHERE r.reference = ANY(:refs) GROUP BY r.reference"
                ),
                {"refs": references},
            ).all()
        )
    return [counts[r] for r in references]


def spread(counts: list[int]) -> str:
    return f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}-{max(counts)}"


def cpu_idle(seconds: float = 2) -> float:
    """The share of CPU time the machine spent idle over the next few seconds."""

    def sample():
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, all

    idle0, all0 = sample()
    time.sleep(seconds)
    idle1, all1 = sample()
    return (idle1 - idle0) / max(1, all1 - all0)


def machine(engine) -> list[str]:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    with engine.connect() as conn:
        pg = conn.execute(sa.text("SHOW server_version")).scalar()
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("[")[0].strip()
    return [
        f"nproc {len(os.sched_getaffinity(0))}, {cpu}",
        f"Python {platform.python_version()}",
        f"PostgreSQL {pg}",
        wrk_version,
    ]


# --- the run --------------------------------------------------------------------


def add_postgres_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL server URL; the bench makes and drops its own database there",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per measured run (default 10)")
    parser.add_argument("--only", choices=["followup", "send"], help="measure one of the two (default both)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers, and Argon2id processes (default 4)")
    add_postgres_option(parser)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    if not (BIN / "gunicorn").exists():
        sys.exit(f"no gunicorn beside {sys.executable}: run with the project's .venv/bin/python")
    run_bench(run, args)


def run_bench(run, args) -> None:
    """run(args, stack, tmp), cleaning up everything it started however it ends."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up as on Ctrl+C
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mantra-bench-")))
        try:
            run(args, stack, tmp)
        except BenchError as exc:
            sys.exit(f"bench failed: {exc}")
        except KeyboardInterrupt:
            sys.exit("interrupted: stopping everything the bench started")


def mantra_instance(stack: contextlib.ExitStack, tmp: Path, postgres: str, **extra) -> tuple[dict, sa.Engine]:
    """A throw-away database, a redis-server and MANTRA set up in its own
    instance folder (keys, migrations, demo data with partner keys pinned):
    the environment for gunicorn and workers, and an engine on the database."""
    db_url = stack.enter_context(temporary_pg_database(postgres))
    keystore_url = stack.enter_context(temporary_pg_database(postgres))  # the shred keys, apart
    engine = sa.create_engine(db_url)
    stack.callback(engine.dispose)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MANTRA_", "MAIL_", "GUNICORN_"))
        and k not in ("DATABASE_URL", "REDIS_URL", "RATELIMIT_STORAGE_URI", "SECRET_KEY", "FLASK_APP")
    }
    env.update(
        DATABASE_URL=db_url,
        MANTRA_KEYSTORE_URL=keystore_url,
        REDIS_URL=stack.enter_context(private_redis()),
        MANTRA_INSTANCE_PATH=str(tmp / "instance"),
        MANTRA_RATE_LIMIT_FACTOR="100000",
        **extra,
    )
    log("setting up MANTRA (keys, migrations, demo data)")
    for step in (["mantra", "init"], ["db", "upgrade"], ["mantra", "seed-demo"]):
        done = subprocess.run(
            [str(BIN / "flask"), "--app", "mantra", *step], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if done.returncode:
            raise BenchError(f"flask {' '.join(step)}:\n{done.stdout}{done.stderr}")
    return env, engine


def services(stack: contextlib.ExitStack, tmp: Path, postgres: str, workers: int, commands: list[str]):
    """A throw-away database, a redis-server, MANTRA set up in its own instance
    folder, and both apps under gunicorn: (engine, MANTRA's port, bare port)."""
    env, engine = mantra_instance(stack, tmp, postgres, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'bench'}")
    subprocess.run([sys.executable, "-c", "import bare_app; bare_app.create_table()"], cwd=ROOT, env=env, check=True)

    ports = {}
    for name, app in (("mantra", "wsgi:app"), ("bare", "bare_app:app")):
        ports[name] = port = free_port()
        cmd = gunicorn_cmd(app, port, workers)
        commands.append(shlex.join(cmd))
        logfile = tmp / f"{name}.log"
        proc = start(stack, cmd, logfile, cwd=ROOT, env=env)
        wait_until(lambda port=port: http_ok(port), proc, logfile)
        stack.callback(lambda logfile=logfile: _show_errors(logfile))
    return engine, ports["mantra"], ports["bare"]


def run(args, stack: contextlib.ExitStack, tmp: Path) -> None:
    commands = [shlex.join([sys.executable, *sys.argv])]
    idle = cpu_idle()
    if idle < 0.9:
        log(
            f"warning: the machine is busy before the bench starts (CPU {idle:.0%} idle): figures will be low and noisy"
        )
    engine, mantra, bare = services(stack, tmp, args.postgres, args.workers, commands)
    seconds = args.duration

    def measure(port, lines, mode, ok_status, ok_text, label, warm_lines=None):
        """A warm-up run, then the measured one: ok responses per second."""
        wrk(port, warm_lines or lines, mode, ok_status, ok_text, WARM_UP, tmp, f"{label} warm-up", commands)
        return wrk(port, lines, mode, ok_status, ok_text, seconds, tmp, label, commands)

    rows = []
    if args.only in (None, "followup"):
        rows += followup_rows(measure, engine, mantra, bare)
    if args.only in (None, "send"):
        rows.append(send_row(measure, args, mantra, seconds))
    print(
        f"\nMANTRA over HTTP: gunicorn {args.workers} sync workers; wrk {CONNECTIONS} connections, "
        f"{seconds:g} s after a {WARM_UP} s warm-up"
    )
    print("\n".join(machine(engine)) + f"\nCPU idle just before the bench: {idle:.0%}")
    print(f"\n{'MANTRA request':50} {'per s':>7}   {'floor':34} {'per s':>7}  {'ratio':>5}")
    for name, rate, floor_name, floor in rows:
        print(f"{name:50} {rate:7.1f}   {floor_name:34} {floor:7.1f}  {rate / floor:5.3f}")
    print("\ncommands:\n  " + "\n  ".join(commands))


def followup_rows(measure, engine, mantra: int, bare: int) -> list[tuple]:
    """1. Follow-up message against a bare INSERT. The warm-ups post to other
    reports, so the measured reports start from their first message."""
    log(f"preparing {2 * CONNECTIONS} reporters: each sends a report and signs in to follow it up")
    reporters = parallel(new_followup, [(mantra,)] * (2 * CONNECTIONS))
    lines = [
        f"/follow-up/report\t{cookie}\t{urlencode({'csrf_token': token, 'body': MESSAGE})}"
        for cookie, token, _ in reporters
    ]
    measured = reporters[CONNECTIONS:]
    references = [reference for _, _, reference in measured]
    bare_lines = [f"/note\t\t{urlencode({'body': MESSAGE})}"] * CONNECTIONS
    rows = []
    for phase in ("fresh", "prefilled"):
        if phase == "prefilled":
            log(f"prefilling messages, to {PREFILL} per report")
            parallel(
                post_messages,
                [
                    (mantra, cookie, token, PREFILL - held)
                    for (cookie, token, _), held in zip(measured, message_counts(engine, references), strict=True)
                ],
                threads=CONNECTIONS,
            )
        before = message_counts(engine, references)
        rate = measure(
            mantra, lines[CONNECTIONS:], "rotate", 302, "sent=1", f"follow-up {phase}", warm_lines=lines[:CONNECTIONS]
        )
        after = message_counts(engine, references)
        floor = measure(bare, bare_lines, "rotate", 204, "", f"bare INSERT {phase}")
        rows.append(
            (
                f"follow-up message ({spread(before)} -> {spread(after)} msgs/report)",
                rate,
                "bare Flask+SQLAlchemy INSERT",
                floor,
            )
        )

    return rows


def send_row(measure, args, mantra: int, seconds: float) -> tuple:
    """2. 'Send report' against a bare Argon2id loop."""
    log(f"bare Argon2id loop: {args.workers} processes for {seconds:g} s")
    argon2 = argon2_rate(args.workers, seconds)
    log(f"  Argon2id: {argon2:.1f}/s")
    # A send costs one Argon2id derivation and more, so it cannot outrun the
    # loop: this many drafts covers each run, with a margin for the noise.
    warm, pool = (math.ceil(argon2 * t * 1.3) + 4 * CONNECTIONS for t in (WARM_UP, seconds))
    log(f"preparing {warm + pool} complete drafts to send, each sent once")
    drafts = parallel(new_draft, [(mantra,)] * (warm + pool), label="drafts")
    lines = [f"/report/check\t{cookie}\t{urlencode(fields)}" for cookie, fields in drafts]
    sends = measure(mantra, lines[warm:], "once", 200, "receipt-code", "send report", warm_lines=lines[:warm])
    return ("send report (/report/check)", sends, f"bare Argon2id loop, {args.workers} processes", argon2)


def _show_errors(logfile: Path) -> None:
    """Anything the app logged as an error, after the servers stop."""
    errors = [ln for ln in logfile.read_text().splitlines() if re.search(r"ERROR|CRITICAL|Traceback", ln)]
    if errors:
        log(f"{logfile.name}: {len(errors)} error lines, first ones:\n  " + "\n  ".join(errors[:5]))


if __name__ == "__main__":
    main()
