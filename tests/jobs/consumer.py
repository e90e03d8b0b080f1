"""Start a real job consumer (`flask --app app jobs consumer`) as a child process over the test
database and instance folder, and stop it (the process this test started, by its id)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def running_consumer(app, tmp_path, **env_extra):
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "ECQS_INSTANCE_DIR": app.config["INSTANCE_DIR"],
            "UPLOAD_DIR": app.config["UPLOAD_DIR"],
            "SECRET_KEY": "consumer-test",
            "HUEY_URL": "",
            "REDIS_URL": "",
            "HUEY_IMMEDIATE": "off",
        }
    )
    env.update({k: str(v) for k, v in env_extra.items()})
    log = open(tmp_path / "consumer.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "app",
            "jobs",
            "consumer",
            "--workers",
            "1",
            "--no-periodic",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


def wait_for(predicate, timeout: float = 60.0, what: str = "condition", log_path=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    details = Path(log_path).read_text()[-3000:] if log_path else ""
    raise AssertionError(f"timed out waiting for {what}\n{details}")
