"""Real workers and a real mail server for tests: `flask mantra worker`
subprocesses on the test's own Redis and database, and aiosmtpd on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from email import message_from_bytes
from pathlib import Path

from aiosmtpd.controller import Controller

from .conftest import free_port

ROOT = Path(__file__).resolve().parent.parent


def worker_env(app, **extra) -> dict:
    """The app's configuration as the environment a worker machine would have."""
    c = app.config
    env = {
        "MANTRA_PROCESS": "worker",
        "MANTRA_INSTANCE_PATH": app.instance_path,
        "DATABASE_URL": c["SQLALCHEMY_DATABASE_URI"],
        "MANTRA_KEYSTORE_URL": c["SQLALCHEMY_BINDS"]["keystore"],
        "REDIS_URL": c["REDIS_URL"],
        "SECRET_KEY": c["SECRET_KEY"],
        "MANTRA_RECEIPT_SALT": c["RECEIPT_SALT"],
        "MANTRA_INTAKE_PUBLIC_KEY_FILE": c["INTAKE_PUBLIC_KEY_FILE"],
        "MANTRA_INTAKE_PRIVATE_KEY_FILE": c["INTAKE_PRIVATE_KEY_FILE"],
        "MANTRA_NOTIFY_PUBLIC_KEY_FILE": c["NOTIFY_PUBLIC_KEY_FILE"],
        "MANTRA_NOTIFY_PRIVATE_KEY_FILE": c["NOTIFY_PRIVATE_KEY_FILE"],
        "MANTRA_RECOVERY_PUBLIC_KEY_FILE": c["RECOVERY_PUBLIC_KEY_FILE"],
        "MANTRA_PINNED_KEYS_FILE": c["PINNED_KEYS_FILE"],
        "MANTRA_MAIL_OUTBOX": c["MAIL_OUTBOX"],
        "MANTRA_ALERT_EMAIL": c["ALERT_EMAIL"],
        "MANTRA_TICK_SECONDS": str(c["TICK_SECONDS"]),
        "MANTRA_SWEEP_AFTER_SECONDS": str(c["SWEEP_AFTER_SECONDS"]),
        "MANTRA_MAIL_RETRY_SECONDS": ",".join(map(str, c["MAIL_RETRY_SECONDS"])),
        "MAIL_SERVER": c.get("MAIL_SERVER") or "",
        "MAIL_PORT": str(c.get("MAIL_PORT") or 25),
    }
    return {**os.environ, **env, **{k: str(v) for k, v in extra.items()}}


class WorkerProcess:
    def __init__(self, app, log: Path, burst: bool = False, name: str | None = None, **env):
        self.log = log
        args = [sys.executable, "-m", "flask", "--app", "mantra", "mantra", "worker"] + (["--burst"] if burst else [])
        args += ["--name", name] if name else []
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                args, env=worker_env(app, **env), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its work horses at once, as a power cut would
        (RQ puts each work horse in a process group of its own)."""
        for pid in [self.process.pid, *_children(self.process.pid)]:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(c) for c in task.read_text().split()]
    return found


@contextmanager
def worker(app, tmp_path: Path, name: str = "worker", **env):
    running = WorkerProcess(app, tmp_path / f"{name}.log", **env)
    try:
        yield running
    except BaseException:
        print(f"--- {name} log ---\n{running.output()[-6000:]}")  # shown by pytest when the test fails
        raise
    finally:
        running.stop()


def wait_for(check, timeout: float = 30, what: str = "the condition"):
    """Poll until check() is truthy; fail with `what` if it never is."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


class MailHandler:
    """Keeps every message accepted; refuses with 451 while `refusing` is set."""

    def __init__(self):
        self.messages = []
        self.refused = 0
        self.refusing = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if self.refusing.is_set():
            self.refused += 1
            return "451 4.3.0 Try again later"
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content), time.time()))
        return "250 OK"


@contextmanager
def smtp_server():
    handler = MailHandler()
    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()
