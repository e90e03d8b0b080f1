"""Exports as jobs: a grid's export above EXPORT_JOB_THRESHOLD rows is written by the consumer
instead of the web request. The job replays the grid's own export (same scope, filter, search,
order, formatters and formula neutralisation) inside a request context for the user who asked,
writes the file under instance/exports/, and notifies the user; 我的导出 serves it to that user
alone for EXPORT_KEEP_HOURS hours."""

from __future__ import annotations

import logging
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

from flask import current_app, g, request, session, url_for
from flask_login import current_user
from sqlalchemy import select

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import Job, User, utcnow
from ecqs.services import jobs, xlsx_export

log = logging.getLogger(__name__)
PROGRESS_EVERY = 1000


def export_dir(app=None) -> Path:
    app = app or current_app
    path = Path(app.config.get("EXPORT_DIR") or Path(app.config["INSTANCE_DIR"]) / "exports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def should_queue(view) -> bool:
    """True when the grid's current export has more rows than EXPORT_JOB_THRESHOLD (counted with
    a LIMIT, so a huge table costs no more than the threshold)."""
    threshold = int(current_app.config.get("EXPORT_JOB_THRESHOLD") or 0)
    if threshold <= 0:
        return False
    query = view.export_list_query().order_by(None).limit(threshold + 1)
    return query.count() > threshold


def start_export(view) -> Job:
    """Record an export job for the current user and the current request, commit, enqueue it."""
    job = Job(
        user_id=current_user.id,
        kind="export",
        title=str(view.name)[:200],
        endpoint=view.endpoint,
        lang=session.get("lang") or "zh_Hans_CN",
        request_path=request.full_path[:2000],
        filename=xlsx_export.safe_filename(view.export_filename()),
        status="queued",
    )
    db.session.add(job)
    db.session.commit()
    jobs.enqueue(run_export, job.id)
    return job


def _find_view(app, endpoint: str):
    for admin in app.extensions.get("admin", []):
        for view in admin._views:
            if view.endpoint == endpoint:
                return view
    return None


@jobs.app_task()
def run_export(job_id: int) -> None:
    """Write the export of job `job_id` (the consumer runs this)."""
    job = db.session.get(Job, job_id)
    if job is None or job.status not in {"queued", "running"}:
        return
    app = current_app._get_current_object()
    user = db.session.get(User, job.user_id)
    path = export_dir(app) / f"{secrets.token_hex(16)}.xlsx"
    started = time.time()
    try:
        job.status = "running"
        job.started_at = utcnow()
        db.session.commit()
        with app.test_request_context(job.request_path):
            session["lang"] = job.lang
            g._login_user = user  # current_user for the view's scope, as in the request
            view = _find_view(app, job.endpoint)
            if view is None or user is None or not user.is_active or not view.is_accessible():
                raise PermissionError("the user may no longer export this grid")
            columns = view.get_export_columns()
            total = view.export_list_query().order_by(None).count()
            job.total = total
            db.session.commit()
            jobs.set_progress(job_id, 0, total, started)

            def counted(rows):
                for n, row in enumerate(rows, start=1):
                    yield row
                    if n % PROGRESS_EVERY == 0:
                        jobs.set_progress(job_id, n, total, started)

            written = xlsx_export.write_rows(
                str(path),
                [str(label) for _n, label in columns],
                counted(view.iter_export_rows(columns)),
                sheet_name=str(view.name),
            )
            db.session.rollback()  # end the read transaction before writing the outcome
            job = db.session.get(Job, job_id)
            job.done = written
            job.total = written
            job.stored_name = path.name
            job.status = "done"
            job.finished_at = utcnow()
            job.expires_at = job.finished_at + timedelta(hours=app.config.get("EXPORT_KEEP_HOURS", 24))
            from ecqs.services.notify import notify_user

            notify_user(
                user,
                _("导出已完成：%(title)s（%(n)d 行）", title=job.title, n=written),
                link=url_for("my_exports.job_view", job_id=job.id),
            )
            db.session.commit()
        jobs.clear_progress(job_id)
        log.info("export job %s: %s rows in %.1f s", job_id, written, time.time() - started)
    except Exception as exc:
        log.exception("export job %s failed", job_id)
        db.session.rollback()
        if path.exists():
            path.unlink()
        job = db.session.get(Job, job_id)
        job.status = "failed"
        job.error = type(exc).__name__
        job.finished_at = utcnow()
        db.session.commit()
        jobs.clear_progress(job_id)


def purge_expired(now=None) -> int:
    """Delete export files past their keeping time; returns how many were removed."""
    now = now or utcnow()
    app = current_app._get_current_object()
    expired = db.session.execute(
        select(Job).where(Job.kind == "export", Job.status == "done", Job.expires_at < now)
    ).scalars()
    count = 0
    for job in expired:
        if job.stored_name:
            target = export_dir(app) / job.stored_name
            if target.exists():
                os.unlink(target)
        job.status = "expired"
        job.stored_name = None
        count += 1
    db.session.commit()
    return count
