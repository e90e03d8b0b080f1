"""The job queue (Huey): one instance, created here unbound and bound from the configuration in
create_app(). SQLite file under instance/ by default (nothing to install); Redis when HUEY_URL or
REDIS_URL names one, so that several hosts share one queue. Jobs run in a consumer process
(`flask --app app jobs consumer`); `make run` starts it beside the web server.

Tasks are plain functions decorated with `app_task`: the consumer runs each inside an app
context of the app that bound the queue. Live progress (rows done of the total) sits in the
queue's key-value store, so the web workers read it without touching the job's transaction."""

from __future__ import annotations

import functools
import logging
import os
import time
from pathlib import Path

import click
from flask import current_app, has_app_context
from huey import Huey, crontab
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from ecqs.extensions import db

log = logging.getLogger(__name__)

# Unbound until init_app(): an in-memory queue, replaced by the configured storage.
huey = Huey("ecqs", storage_class=MemoryStorage, results=False, utc=True)
_state: dict = {"app": None}

__all__ = ["app_task", "crontab", "enqueue", "huey", "init_app", "progress", "set_progress"]


def init_app(app) -> None:
    """Bind the queue to the app's settings: HUEY_URL/REDIS_URL (Redis), otherwise HUEY_FILE
    (default instance/huey.db); HUEY_IMMEDIATE is read by enqueue().
    One queue per process: the last app created binds it (a process serves one app; tests
    build several on one database)."""
    url = app.config.get("HUEY_URL") or ""
    if url.startswith(("redis://", "rediss://", "unix://")):
        huey.storage_class = RedisStorage
        huey.storage_kwargs = {"url": url}
    else:
        path = Path(app.config.get("HUEY_FILE") or Path(app.config["INSTANCE_DIR"]) / "huey.db")
        path.parent.mkdir(parents=True, exist_ok=True)
        huey.storage_class = SqliteStorage
        huey.storage_kwargs = {"filename": str(path)}
    huey.name = app.config.get("HUEY_NAME") or "ecqs"
    huey.storage = huey.create_storage()
    _state["app"] = app
    app.extensions["huey"] = huey
    _register_cli(app)


def current_app_for_jobs():
    app = _state["app"]
    if app is None:
        raise RuntimeError("the job queue is not bound: call create_app() first")
    return app


def _running_app():
    # Immediate mode runs a task inside the request that enqueued it: use that app (a fresh app
    # context, so a fresh session); the consumer has no app context and uses the bound app.
    if has_app_context():
        return current_app._get_current_object()
    return current_app_for_jobs()


def _in_app_context(func):
    """`func` run inside an app context, its session removed afterwards."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        app = _running_app()
        with app.app_context():
            try:
                return func(*args, **kwargs)
            finally:
                db.session.remove()

    return wrapper


def app_task(**task_options):
    """A Huey task that runs inside an app context (and removes its session afterwards)."""

    def decorator(func):
        return huey.task(name=func.__name__, **task_options)(_in_app_context(func))

    return decorator


def app_periodic_task(schedule, **task_options):
    """A periodic Huey task (crontab) that runs inside an app context."""

    def decorator(func):
        return huey.periodic_task(schedule, name=func.__name__, **task_options)(_in_app_context(func))

    return decorator


def enqueue(task, *args, **kwargs) -> None:
    """Queue `task`; with the app's HUEY_IMMEDIATE on, run it here instead (unit tests, debugging),
    so immediate mode is a setting of the app, not of the process-wide queue."""
    if current_app.config.get("HUEY_IMMEDIATE") or huey.immediate:
        task.call_local(*args, **kwargs)
    else:
        task(*args, **kwargs)


# ---- progress in the queue's key-value store ---------------------------------------------------


def _key(job_id: int) -> str:
    return f"ecqs:progress:{job_id}"


def set_progress(job_id: int, done: int, total: int | None, started: float) -> None:
    """Record that `done` of `total` rows are written (read by the progress page)."""
    huey.put(_key(job_id), {"done": done, "total": total, "started": started, "at": time.time()})


def progress(job_id: int) -> dict | None:
    """The last recorded progress of a job, or None."""
    return huey.get(_key(job_id), peek=True)


def clear_progress(job_id: int) -> None:
    huey.get(_key(job_id), peek=False)


# ---- the consumer ----------------------------------------------------------------------------


def lower_priority(niceness: int) -> int:
    """Raise this process's nice value to at least `niceness` (never lowers it: that needs
    privileges); the web workers keep the CPU first while a long export or import runs."""
    current = os.nice(0)
    if niceness > current:
        current = os.nice(niceness - current)
    return current


def _register_cli(app) -> None:
    group = click.Group("jobs", help="Background jobs (Huey): the consumer and manual runs.")

    @group.command("consumer")
    @click.option("--workers", "-w", default=2, show_default=True, help="Worker threads.")
    @click.option("--no-periodic", is_flag=True, help="Do not run the schedules in this consumer.")
    @click.option(
        "--nice",
        "niceness",
        type=click.IntRange(0, 19),
        default=lambda: int(os.environ.get("JOBS_CONSUMER_NICE", "10")),
        show_default="10, or JOBS_CONSUMER_NICE",
        help="CPU priority below the web workers (0 = same), so a long export leaves pages fast.",
    )
    def consumer_command(workers: int, no_periodic: bool, niceness: int):
        """Run the job consumer (exports, imports, sends and schedules) until interrupted."""
        from ecqs.services import tasks  # noqa: F401  (register every task)

        lower_priority(niceness)

        consumer = huey.create_consumer(
            workers=workers, worker_type="thread", periodic=not no_periodic, check_worker_health=True
        )
        log.info("job consumer on %s, %d workers", type(huey.storage).__name__, workers)
        consumer.run()

    @group.command("purge")
    def purge_command():
        """Run the purge now (captcha challenges, SMS codes, ended sessions, rate-limit
        counters, old export files, unclaimed wizard uploads)."""
        from ecqs.services import schedules

        click.echo(schedules._logged("purge", schedules.purge()))

    @group.command("deadline-warnings")
    def deadline_warnings_command():
        """Warn reviewers now of items due within 3 working days or overdue."""
        from ecqs.services import schedules

        click.echo(schedules._logged("deadline_warnings", schedules.deadline_warnings()))

    app.cli.add_command(group)
