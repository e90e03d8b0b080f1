"""Big exports become jobs (Huey in immediate mode here): same scope, formatting and formula
neutralisation as the immediate export; 我的导出 lists them; only the requester downloads;
a notification says it is ready; small exports stay immediate; purges remove old files."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import select

from ecqs.extensions import db
from ecqs.models import Job, Notification, utcnow
from ecqs.services import exports, schedules
from tests.conftest import login, make_org, make_user
from tests.instruments.fixtures import make_instrument


@pytest.fixture
def immediate(app, monkeypatch):
    monkeypatch.setitem(app.config, "HUEY_IMMEDIATE", True)
    monkeypatch.setitem(app.config, "EXPORT_JOB_THRESHOLD", 3)
    yield


def _rows(data: bytes):
    ws = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    return [[v for v in r] for r in ws.iter_rows(values_only=True)]


def test_export_over_threshold_runs_as_job_with_same_scope_and_formatting(
    client, login_as, instrument_kinds, immediate
):
    user = login_as("enterprise")
    for n in range(4):
        make_instrument(user.organization, serial_no=f"MINE{n}", manufacturer="=cmd|' /C calc'!A0")
    make_instrument(make_org(), serial_no="THEIRS")
    response = client.get("/admin/instruments/export/xlsx/")
    assert response.status_code == 302
    job = db.session.execute(select(Job)).scalar_one()
    assert response.headers["Location"].endswith(f"/admin/my_exports/{job.id}/")
    assert (job.status, job.done, job.total, job.user_id) == ("done", 4, 4, user.id)
    assert job.expires_at - job.finished_at == timedelta(hours=24)

    page = client.get(f"/admin/my_exports/{job.id}/").get_data(as_text=True)
    assert "100%" in page and "已完成" in page
    assert client.get(f"/admin/my_exports/{job.id}/progress.json").json["percent"] == 100
    listing = client.get("/admin/my_exports/").get_data(as_text=True)
    assert job.filename in listing

    download = client.get(f"/admin/my_exports/{job.id}/download/")
    assert download.status_code == 200
    rows = _rows(download.data)
    flat = [str(v) for r in rows for v in r if v is not None]
    assert rows[0][0] == "器具名称"
    assert len(rows) == 5 and "THEIRS" not in flat
    assert "'=cmd|' /C calc'!A0" in flat and "在用" in flat

    note = db.session.execute(select(Notification).where(Notification.user_id == user.id)).scalar_one()
    assert "导出已完成" in note.title and note.link == f"/admin/my_exports/{job.id}/"


def test_small_export_stays_immediate(client, login_as, instrument_kinds, immediate):
    user = login_as("enterprise")
    make_instrument(user.organization)
    response = client.get("/admin/instruments/export/xlsx/")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert db.session.execute(select(Job)).first() is None


def test_filtered_export_job_keeps_the_filter(client, login_as, instrument_kinds, immediate):
    user = login_as("enterprise")
    for n in range(5):
        make_instrument(user.organization, serial_no=f"KEEP{n}", usage_place="锅炉房")
    make_instrument(user.organization, serial_no="DROP", usage_place="别处")
    response = client.get("/admin/instruments/export/xlsx/?search=锅炉房")
    assert response.status_code == 302
    job = db.session.execute(select(Job)).scalar_one()
    flat = [str(v) for r in _rows(client.get(f"/admin/my_exports/{job.id}/download/").data) for v in r]
    assert "DROP" not in flat and sum(v.startswith("KEEP") for v in flat) == 5


def test_only_the_requester_sees_and_downloads(app, client, login_as, instrument_kinds, immediate):
    user = login_as("enterprise")
    for _n in range(4):
        make_instrument(user.organization)
    client.get("/admin/instruments/export/xlsx/")
    job = db.session.execute(select(Job)).scalar_one()
    colleague = make_user("enterprise", org=user.organization)
    admin = make_user("admin")
    for other in (colleague, admin):
        other_client = app.test_client()
        assert login(other_client, other).status_code == 302
        for url in ("", "progress.json", "download/"):
            assert other_client.get(f"/admin/my_exports/{job.id}/{url}").status_code == 404
        assert job.filename not in other_client.get("/admin/my_exports/").get_data(as_text=True)


def test_purge_removes_files_past_24_hours(client, login_as, instrument_kinds, immediate):
    user = login_as("enterprise")
    for _n in range(4):
        make_instrument(user.organization)
    client.get("/admin/instruments/export/xlsx/")
    job = db.session.execute(select(Job)).scalar_one()
    path = exports.export_dir() / job.stored_name
    assert path.exists()
    assert schedules.purge(now=utcnow() + timedelta(hours=23))["export_files"] == 0
    assert client.get(f"/admin/my_exports/{job.id}/download/").status_code == 200
    assert schedules.purge(now=utcnow() + timedelta(hours=25))["export_files"] == 1
    assert not path.exists()
    db.session.refresh(job)
    assert job.status == "expired"
    assert client.get(f"/admin/my_exports/{job.id}/download/").status_code == 410


def test_a_job_whose_user_lost_access_fails_without_a_file(client, login_as, instrument_kinds, immediate):
    user = login_as("enterprise")
    for _n in range(4):
        make_instrument(user.organization)
    user.active = False
    db.session.commit()
    job = Job(
        user_id=user.id,
        kind="export",
        title="x",
        endpoint="instruments",
        request_path="/admin/instruments/export/xlsx/?",
        filename="x.xlsx",
    )
    db.session.add(job)
    db.session.commit()
    exports.run_export.call_local(job.id)
    db.session.refresh(job)
    assert job.status == "failed" and job.stored_name is None
