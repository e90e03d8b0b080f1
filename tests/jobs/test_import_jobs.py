"""Imports over IMPORT_JOB_THRESHOLD rows run as jobs (Huey immediate mode here): the same page
code replayed for the uploader, all or nothing, the error report downloadable from the job."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ecqs.extensions import db
from ecqs.models import Instrument, Job, Notification
from ecqs.services import import_jobs
from tests.instruments.fixtures import template_row, upload, xlsx_bytes

URL = "/admin/instruments/import/"


@pytest.fixture
def immediate(app, monkeypatch, instrument_kinds):
    monkeypatch.setitem(app.config, "HUEY_IMMEDIATE", True)
    monkeypatch.setitem(app.config, "IMPORT_JOB_THRESHOLD", 20)
    yield


def _count(org) -> int:
    return db.session.scalar(select(func.count()).where(Instrument.organization_id == org.id))


def test_count_rows_reads_no_xml():
    data = xlsx_bytes([template_row(f"C{i}") for i in range(30)])
    assert import_jobs.count_rows(data, 1000) == 32  # instructions + header + 30
    assert import_jobs.count_rows(data, 5) <= 32
    assert import_jobs.count_rows(b"not a zip", 10) == 0


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
