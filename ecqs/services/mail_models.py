"""The e-mail outbox: every message the app was asked to e-mail (services/mail.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ecqs.extensions import db
from ecqs.services.models import TZDateTime, utcnow

__all__ = ["MailMessage"]


class MailMessage(db.Model):
    """邮件发件箱: one e-mail, its backend (outbox or smtp) and what became of it."""

    __tablename__ = "mail_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(120), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    backend: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    provider_status: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    def __repr__(self) -> str:
        return f"<MailMessage {self.id} {self.status}>"
