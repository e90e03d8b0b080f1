"""The export job path with a real consumer process: on the default SQLite queue file in the
instance folder, and on Redis (127.0.0.1:6379; skipped when no Redis answers)."""

from __future__ import annotations

import io
import os
import uuid

import openpyxl
import pytest
from huey.storage import RedisStorage
from sqlalchemy import select

from ecqs.extensions import db
from ecqs.models import Job
from ecqs.services import jobs
from tests.instruments.fixtures import make_instrument
from tests.jobs.consumer import running_consumer, wait_for

pytestmark = pytest.mark.slow
REDIS_URL = "redis://127.0.0.1:6379/0"


def _job_status(job_id: int) -> str:
    db.session.rollback()
    return db.session.get(Job, job_id).status


def _export_through_consumer(app, client, login_as, tmp_path, monkeypatch, **env):
    monkeypatch.setitem(app.config, "EXPORT_JOB_THRESHOLD", 3)
    monkeypatch.setitem(app.config, "HUEY_IMMEDIATE", False)
    user = login_as("enterprise")
    for n in range(7):
        make_instrument(user.organization, serial_no=f"Q{n}", manufacturer="@SUM(1)")
    with running_consumer(app, tmp_path, **env):
        response = client.get("/admin/instruments/export/xlsx/")
        assert response.status_code == 302
        job = db.session.execute(select(Job)).scalar_one()
        assert job.status == "queued"  # nothing ran in the request
        wait_for(
            lambda: _job_status(job.id) in {"done", "failed"},
            what="the export job",
            log_path=tmp_path / "consumer.log",
        )
    job = db.session.get(Job, job.id)
    assert (job.status, job.done, job.total) == ("done", 7, 7)
    state = client.get(f"/admin/my_exports/{job.id}/progress.json").json
    assert state["percent"] == 100 and state["status"] == "done"
    data = client.get(f"/admin/my_exports/{job.id}/download/").data
    rows = list(openpyxl.load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))
    assert len(rows) == 8
    assert "'@SUM(1)" in {str(v) for r in rows for v in r}


def test_export_job_runs_in_a_real_consumer_on_sqlite(
    app, client, login_as, instrument_kinds, tmp_path, monkeypatch
):
    assert type(jobs.huey.storage).__name__ == "SqliteStorage"
    _export_through_consumer(app, client, login_as, tmp_path, monkeypatch)


@pytest.fixture
def redis_queue(monkeypatch):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        pytest.skip(f"no Redis on 127.0.0.1:6379 ({exc})")
    name = f"ecqs-test-{uuid.uuid4().hex[:8]}"
    storage = RedisStorage(name, url=REDIS_URL)
    monkeypatch.setattr(jobs.huey, "name", name)
    monkeypatch.setattr(jobs.huey, "storage", storage)
    yield name
    storage.flush_all()


def test_export_job_runs_in_a_real_consumer_on_redis(
    app, client, login_as, instrument_kinds, tmp_path, monkeypatch, redis_queue
):
    _export_through_consumer(
        app, client, login_as, tmp_path, monkeypatch, HUEY_URL=REDIS_URL, HUEY_NAME=redis_queue
    )


def _nice_of(pid: int) -> int:
    # /proc/PID/stat: field 19 is the nice value (16th after the command name's closing paren).
    with open(f"/proc/{pid}/stat") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[16])


@pytest.mark.parametrize(("env", "expected"), [({}, 10), ({"JOBS_CONSUMER_NICE": "3"}, 3)])
def test_consumer_runs_below_the_web_workers_cpu_priority(app, tmp_path, monkeypatch, env, expected):
    """A long export must not take the CPU from page requests: the consumer lowers its own
    priority (default nice 10, JOBS_CONSUMER_NICE to change) before it takes work."""
    monkeypatch.delenv("JOBS_CONSUMER_NICE", raising=False)
    with running_consumer(app, tmp_path, **env) as proc:
        wait_for(
            lambda: "job consumer on" in (tmp_path / "consumer.log").read_text(),
            what="the consumer to start",
            log_path=tmp_path / "consumer.log",
        )
        # A consumer started from an already niced shell keeps its higher nice value.
        assert _nice_of(proc.pid) == max(expected, os.nice(0))
