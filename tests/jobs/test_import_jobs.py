"""Imports over IMPORT_JOB_THRESHOLD rows run as jobs (Huey immediate mode here): the same page
code replayed for the uploader, all or nothing, the error report downloadable from the job."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from ecqs.extensions import db
from ecqs.models import Instrument, Job, Notification
from ecqs.services import import_jobs, jobs, xlsx_import
from tests.instruments.fixtures import template_row, upload, xlsx_bytes

URL = "/admin/instruments/import/"


@pytest.fixture
def immediate(app, monkeypatch, instrument_kinds):
    monkeypatch.setitem(app.config, "HUEY_IMMEDIATE", True)
    monkeypatch.setitem(app.config, "IMPORT_JOB_THRESHOLD", 20)
    yield


def _count(org) -> int:
    return db.session.scalar(select(func.count()).where(Instrument.organization_id == org.id))


def test_first_sheet_rows_reads_no_xml():
    data = xlsx_bytes([template_row(f"C{i}") for i in range(30)])
    assert xlsx_import.first_sheet_rows(data, 1000) == 32  # instructions + header + 30
    assert 5 < xlsx_import.first_sheet_rows(data, 5) <= 32
    assert xlsx_import.first_sheet_rows(b"not a zip", 10) == 0


def test_one_row_counter_for_imports():
    # The job threshold and the bounded reader count rows with the same function.
    assert not hasattr(import_jobs, "count_rows")
    assert not hasattr(xlsx_import, "_count_rows")


def _record_progress(monkeypatch) -> list:
    calls = []
    real = jobs.set_progress

    def spy(job_id, done, total, started):
        calls.append((done, total))
        real(job_id, done, total, started)

    monkeypatch.setattr(jobs, "set_progress", spy)
    monkeypatch.setattr(xlsx_import, "PROGRESS_EVERY", 10)
    return calls


def test_import_job_reports_validated_rows_of_the_total(client, login_as, immediate, monkeypatch):
    calls = _record_progress(monkeypatch)
    login_as("enterprise")
    assert upload(client, URL, xlsx_bytes([template_row(f"P{i:03d}") for i in range(25)])).status_code == 302
    job = db.session.execute(select(Job)).scalar_one()
    # Reading (total unknown yet), then the rows validated of the file's 25 data rows.
    assert calls == [(0, None), (0, 25), (10, 25), (20, 25), (25, 25)]
    assert (job.status, job.done, job.total) == ("done", 25, 25)


def test_failed_import_job_still_counts_the_rows_it_validated(client, login_as, immediate, monkeypatch):
    calls = _record_progress(monkeypatch)
    login_as("enterprise")
    rows = [template_row(f"Q{i:03d}") for i in range(25)]
    rows[3] = template_row("Q-BAD", **{"器具数量*": "很多"})
    upload(client, URL, xlsx_bytes(rows))
    job = db.session.execute(select(Job)).scalar_one()
    assert calls[-1] == (25, 25)
    assert (job.status, job.done, job.total) == ("failed", 25, 25)


def test_progress_page_of_a_running_import_shows_validated_rows(client, login_as):
    user = login_as("enterprise")
    job = Job(
        user_id=user.id,
        kind="import",
        title="强检器具信息",
        endpoint="instruments",
        request_path=URL,
        status="running",
        filename="a.xlsx",
    )
    db.session.add(job)
    db.session.commit()
    jobs.set_progress(job.id, 1500, 6000, time.time() - 3)
    try:
        state = client.get(f"/admin/my_exports/{job.id}/progress.json").json
        assert (state["done"], state["total"], state["percent"]) == (1500, 6000, 25)
        assert state["eta_seconds"] is not None and state["eta_seconds"] > 0
        page = client.get(f"/admin/my_exports/{job.id}/").get_data(as_text=True)
        assert "已校验" in page and '>1500</span> / <span class="job-total">6000<' in page
    finally:
        jobs.clear_progress(job.id)


def test_big_import_runs_as_a_job_and_imports_everything(client, login_as, immediate):
    user = login_as("enterprise")
    response = upload(client, URL, xlsx_bytes([template_row(f"B{i:03d}") for i in range(25)]))
    assert response.status_code == 302
    job = db.session.execute(select(Job)).scalar_one()
    assert response.headers["Location"].endswith(f"/admin/my_exports/{job.id}/")
    assert (job.kind, job.status, job.done) == ("import", "done", 25)
    assert "导入成功，共导入 25 条" in job.error
    assert _count(user.organization) == 25
    page = client.get(f"/admin/my_exports/{job.id}/").get_data(as_text=True)
    assert "导入任务" in page and "导入成功，共导入 25 条" in page
    note = db.session.execute(select(Notification).where(Notification.user_id == user.id)).scalar_one()
    assert "导入成功" in note.title
    assert not list(import_jobs.import_dir().iterdir())  # the stored upload is gone


def test_big_import_with_one_bad_row_imports_nothing_and_keeps_the_report(client, login_as, immediate):
    user = login_as("enterprise")
    rows = [template_row(f"E{i:03d}") for i in range(25)]
    rows[7] = template_row("E-BAD", **{"器具数量*": "很多"})
    assert upload(client, URL, xlsx_bytes(rows)).status_code == 302
    job = db.session.execute(select(Job)).scalar_one()
    assert job.status == "failed" and "全部数据均未导入" in job.error
    assert _count(user.organization) == 0
    assert job.report_upload_id is not None
    page = client.get(f"/admin/my_exports/{job.id}/").get_data(as_text=True)
    assert "下载错误报告" in page
    report = client.get(f"/admin/instruments/import/report/{job.report_upload_id}/")
    assert report.status_code == 200 and report.data[:2] == b"PK"


def test_small_import_stays_in_the_request(client, login_as, immediate):
    user = login_as("enterprise")
    response = upload(client, URL, xlsx_bytes([template_row(f"S{i}") for i in range(5)]))
    assert response.status_code == 302 and "/admin/instruments/" in response.headers["Location"]
    assert db.session.execute(select(Job)).first() is None
    assert _count(user.organization) == 5
