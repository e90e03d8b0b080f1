"""Imports as jobs: an .xlsx upload with more than IMPORT_JOB_THRESHOLD (2,000) data rows is kept
under instance/imports/ and the import page's POST is replayed by the consumer for the user who
uploaded it, through the very same code path (same page, same checks, same all-or-nothing
apply, same error report). The outcome (the page's message, the error report) lands on the
job, which 我的导出 shows; while it runs, its progress bar shows the rows validated of the file's
data rows (xlsx_import.validating). Reading and validating the file stay in services/xlsx_import.py."""

from __future__ import annotations

import json
import logging
import secrets
import time
from pathlib import Path

from flask import current_app, g, get_flashed_messages, request, session, url_for
from flask_login import current_user

from ecqs.extensions import db
from ecqs.models import Job, User, utcnow
from ecqs.services import jobs, xlsx_import
from ecqs.services.notify import notify_user

log = logging.getLogger(__name__)


def import_dir(app=None) -> Path:
    app = app or current_app
    path = Path(app.config["INSTANCE_DIR"]) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def maybe_queue(view) -> Job | None:
    """In a web request, queue the import of a big upload and return its job; otherwise None
    (small files, refused files and the replay inside the job run in the request as before)."""
    if g.get("ecqs_job_replay"):
        return None
    upload = request.files.get("file")
    threshold = int(current_app.config.get("IMPORT_JOB_THRESHOLD") or 0)
    if threshold <= 0 or upload is None or not (upload.filename or "").lower().endswith(".xlsx"):
        return None
    limit = current_app.config["IMPORT_MAX_BYTES"]
    data = upload.stream.read(limit + 1)
    upload.stream.seek(0)
    if len(data) > limit:
        return None
    try:  # a file the bounded reader refuses is refused in the request, with its message
        xlsx_import.check_zip(data)
        xlsx_import.check_row_counts(data, xlsx_import.MAX_ROWS + xlsx_import.SPARE_ROWS)
    except xlsx_import.ImportRefused:
        return None
    if xlsx_import.first_sheet_rows(data, threshold + 10) <= threshold + 1:  # + the header
        return None
    stored = f"{secrets.token_hex(16)}.xlsx"
    (import_dir() / stored).write_bytes(data)
    job = Job(
        user_id=current_user.id,
        kind="import",
        title=str(view.name)[:200],
        endpoint=view.endpoint,
        lang=session.get("lang") or "zh_Hans_CN",
        request_path=request.full_path[:2000],
        filename=upload.filename[:255],
        stored_name=stored,
        form_data=json.dumps({k: v for k, v in request.form.items() if k != "csrf_token"}),
        status="queued",
    )
    db.session.add(job)
    db.session.commit()
    jobs.enqueue(run_import, job.id)
    return job


@jobs.app_task()
def run_import(job_id: int) -> None:
    """Replay the import page's POST of job `job_id` for its user (the consumer runs this)."""
    job = db.session.get(Job, job_id)
    if job is None or job.status not in {"queued", "running"}:
        return
    app = current_app._get_current_object()
    user = db.session.get(User, job.user_id)
    path = import_dir(app) / (job.stored_name or "missing")
    started = time.time()
    try:
        job.status = "running"
        job.started_at = utcnow()
        db.session.commit()
        jobs.set_progress(job_id, 0, None, started)
        form = json.loads(job.form_data or "{}")
        validated = {"done": 0, "total": None}

        def progress(done: int, total: int) -> None:  # rows validated of the file's data rows
            validated.update(done=done, total=total)
            jobs.set_progress(job_id, done, total, started)

        with (
            xlsx_import.reporting_progress(progress),
            path.open("rb") as fh,
            app.test_request_context(
                job.request_path, method="POST", data={**form, "file": (fh, job.filename)}
            ),
        ):
            session["lang"] = job.lang
            g._login_user = user
            g.ecqs_job_replay = True
            if user is None or not user.is_active:
                raise PermissionError("the user may no longer import")
            adapter = app.url_map.bind("localhost")
            endpoint, args = adapter.match(job.request_path.split("?")[0], method="POST")
            response = app.make_response(app.view_functions[endpoint](**args))
            result = g.get("import_result")
            messages = [str(m) for _c, m in get_flashed_messages(with_categories=True)]
            link = url_for("my_exports.job_view", job_id=job_id)
        db.session.rollback()
        job = db.session.get(Job, job_id)
        job.error = "\n".join(messages)[:4000] or None
        job.status = "done" if result is not None and result.ok and response.status_code < 400 else "failed"
        job.total, job.done = validated["total"], validated["done"]
        if result is not None:
            report = getattr(result, "report", None)
            job.report_upload_id = getattr(report, "id", None)
        job.finished_at = utcnow()
        notify_user(user, (messages[0] if messages else job.title)[:200], link=link)
        db.session.commit()
        log.info("import job %s: %s in %.1f s", job_id, job.status, time.time() - started)
    except Exception as exc:
        log.exception("import job %s failed", job_id)
        db.session.rollback()
        job = db.session.get(Job, job_id)
        job.status = "failed"
        job.error = type(exc).__name__
        job.finished_at = utcnow()
        db.session.commit()
    finally:
        jobs.clear_progress(job_id)
        if path.exists():
            path.unlink()
