"""我的导出: the current user's background jobs, a progress bar while one runs (rows written of
the total, estimated time left), and the download of a finished export, for its owner only."""

from __future__ import annotations

import time

from flask import abort, jsonify, send_file
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select

from ecqs.admin_views.base import OwnPageView, deny
from ecqs.admin_views.menu import CAT_CENTRE
from ecqs.extensions import db
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import JOB_STATUS_LABELS, Job, utcnow
from ecqs.services import exports, jobs


def _own_job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None or job.user_id != current_user.id:
        deny(f"job:{job_id}", code=404)
    return job


def job_state(job: Job) -> dict:
    """What the progress bar shows: status, rows done of total (written by an export, validated
    by an import), percent, seconds left."""
    done, total, eta = job.done or 0, job.total, None
    if job.status == "running":
        live = jobs.progress(job.id)
        if live:
            done, total = live["done"], live["total"]
            elapsed = max(live["at"] - live["started"], 0.001)
            if done and total:
                eta = round(elapsed / done * (total - done) - (time.time() - live["at"]), 1)
                eta = max(eta, 0)
    percent = 100 if job.status == "done" else (int(done * 100 / total) if total else 0)
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "status_label": str(JOB_STATUS_LABELS.get(job.status, job.status)),
        "done": done,
        "total": total,
        "percent": percent,
        "eta_seconds": eta,
    }


class MyExportsView(OwnPageView):
    @expose("/")
    def index(self):
        rows = (
            db.session.execute(
                select(Job).where(Job.user_id == current_user.id).order_by(Job.created_at.desc()).limit(100)
            )
            .scalars()
            .all()
        )
        return self.render(
            "jobs/my_exports.html",
            rows=rows,
            states={job.id: job_state(job) for job in rows},
            now=utcnow(),
        )

    @expose("/<int:job_id>/")
    def job_view(self, job_id):
        job = _own_job(job_id)
        return self.render("jobs/job.html", job=job, state=job_state(job))

    @expose("/<int:job_id>/progress.json")
    def job_progress(self, job_id):
        return jsonify(job_state(_own_job(job_id)))

    @expose("/<int:job_id>/download/")
    def download(self, job_id):
        job = _own_job(job_id)
        if job.status != "done" or not job.stored_name or (job.expires_at and job.expires_at < utcnow()):
            abort(410)
        path = exports.export_dir() / job.stored_name
        if not path.exists():
            abort(410)
        return send_file(
            path,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            as_attachment=True,
            download_name=job.filename or "export.xlsx",
        )


def register(admin) -> None:
    admin.add_view(MyExportsView(name=_l("我的导出"), category=CAT_CENTRE, endpoint="my_exports"))
