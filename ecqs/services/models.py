"""Models of the shared services: uploads, captcha and SMS codes, the SMS outbox, audit
events, notifications and notices, rate-limit counters; the timestamp type every model uses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecqs.extensions import db

if TYPE_CHECKING:
    from ecqs.accounts.models import User


def utcnow() -> datetime:
    return datetime.now(UTC)


class TZDateTime(db.TypeDecorator):
    """Timezone-aware timestamps on every backend (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        # Stored as UTC: SQLite keeps the wall time and drops the offset, so 08:00+08:00 would
        # come back as 08:00 UTC; comparisons there are text comparisons of the same form.
        if value is not None:
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Upload(db.Model):
    """A stored file. The original name stays here; the file on disk has a random name."""

    __tablename__ = "uploads"
    id: Mapped[int] = mapped_column(primary_key=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    def __str__(self) -> str:
        return self.original_name

    def __repr__(self) -> str:
        return f"<Upload {self.id} {self.original_name!r}>"


class CaptchaChallenge(db.Model):
    """An image captcha's answer, hashed, single use; shared by all workers through the database."""

    __tablename__ = "captcha_challenges"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    answer_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(TZDateTime)
    used: Mapped[bool] = mapped_column(Boolean, default=False)

    def __repr__(self) -> str:
        return f"<CaptchaChallenge used={self.used}>"


class SmsCode(db.Model):
    """A verification code bound to a mobile and a purpose, stored hashed, single use."""

    __tablename__ = "sms_codes"
    __table_args__ = (Index("ix_sms_codes_mobile_created", "mobile", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(String(11))
    purpose: Mapped[str] = mapped_column(String(30))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime)
    used_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<SmsCode {self.purpose} {self.mobile[:3]}****>"


class SmsMessage(db.Model):
    """短信发件箱: every message the SMS gateway was asked to send."""

    __tablename__ = "sms_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(String(11), index=True)
    body: Mapped[str] = mapped_column(String(500))
    purpose: Mapped[str] = mapped_column(String(30))
    backend: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    # What the provider said (Alibaba/Tencent backends): status text, its message id, tries.
    provider_status: Mapped[str | None] = mapped_column(String(100))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def __repr__(self) -> str:
        return f"<SmsMessage {self.id} {self.purpose} {self.status}>"


class AuditEvent(db.Model):
    """Append-only record of transitions, logins, denials and personal-data changes."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str | None] = mapped_column(String(40))
    organization_id: Mapped[int | None] = mapped_column(Integer, index=True)
    event: Mapped[str] = mapped_column(String(40), index=True)
    result: Mapped[str] = mapped_column(String(20), default="success")
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str | None] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    comment: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(45))
    # A change of a record: [{"field": name, "old": text, "new": text}], personal values masked
    # when recorded (ecqs.services.audit.record_change).
    changes: Mapped[list | None] = mapped_column(JSON)

    user: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<AuditEvent {self.event} {self.object_type}:{self.object_id} {self.result}>"


class Notification(db.Model):
    """An in-app message to one user (站内通知)."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Notification {self.id} to {self.user_id}>"


class Notice(db.Model):
    """通知公告 published by administrators to everyone or to one role."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(20), default="all")
    published_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<Notice {self.id} {self.title!r}>"


class RateCounter(db.Model):
    """A fixed-window request counter of Flask-Limiter, shared by every worker (rate_limits.py)."""

    __tablename__ = "rate_counters"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[float] = mapped_column(db.Float, index=True)

    def __repr__(self) -> str:
        return f"<RateCounter {self.key} {self.count}>"
