"""Row scopes of the shared services: notifications, notices, the SMS outbox, the audit log."""

from __future__ import annotations

from sqlalchemy import false, or_

from ecqs.access import (
    scope_for,
)
from ecqs.models import (
    AuditEvent,
    Notice,
    Notification,
    SmsMessage,
)


@scope_for(Notification)
def _notifications(query, user):
    return query.where(Notification.user_id == user.id)


@scope_for(Notice)
def _notices(query, user):
    if user.role == "admin":
        return query
    return query.where(or_(Notice.audience == "all", Notice.audience == user.role))


@scope_for(SmsMessage)
def _sms(query, user):
    return query if user.role == "admin" else query.where(false())


@scope_for(AuditEvent)
def _audit(query, user):
    return query if user.role == "admin" else query.where(false())
