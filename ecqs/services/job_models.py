"""Models of the job queue: one row per background job a user started (an export or an
import), so that 我的导出 lists them, their owner alone downloads the result, and the purge
knows what to delete. Live progress is kept in the queue's key-value store (services/jobs.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ecqs.extensions import db
from ecqs.i18n import lazy_gettext as _l
from ecqs.services.models import TZDateTime, utcnow

__all__ = ["JOB_STATUS_LABELS", "Job"]

JOB_STATUS_LABELS = {
    "queued": _l("排队中"),
    "running": _l("进行中"),
    "done": _l("已完成"),
    "failed": _l("失败"),
    "expired": _l("已过期"),
}


class Job(db.Model):
    """A background job started by a user; its file (if any) lives under instance/exports/."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_user_created", "user_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))  # export | import
    title: Mapped[str] = mapped_column(String(200))
    endpoint: Mapped[str] = mapped_column(String(80))
    lang: Mapped[str] = mapped_column(String(20), default="zh_Hans_CN")
    request_path: Mapped[str] = mapped_column(String(2000))
    form_data: Mapped[str | None] = mapped_column(Text)  # an import's other form fields (JSON)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    total: Mapped[int | None] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    stored_name: Mapped[str | None] = mapped_column(String(80))
    filename: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)  # the outcome message of an import, or the failure
    report_upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.status}>"
