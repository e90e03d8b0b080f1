"""In-app notices and SMS to users, queued in the current transaction; the unread count of the
top bar, 全部标为已读, and the archive of old messages."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, has_request_context, url_for
from sqlalchemy import bindparam, delete, event, func, select, update
from sqlalchemy.orm import Session

from ecqs.extensions import db
from ecqs.models import Notification, User, utcnow
from ecqs.services import mail, sms

ARCHIVE_AFTER_DAYS = 180


def notify_user(user: User, title: str, body: str | None = None, link: str | None = None, sms_text=None):
    """Add an in-app notification; also an SMS when `sms_text` is given and the user has a mobile."""
    db.session.add(Notification(user_id=user.id, title=str(title)[:200], body=body, link=link))
    if user.email and user.email_notices:  # opted in under 个人中心 → 通知设置
        mail.send(user.email, title, "\n\n".join(str(part) for part in (title, body) if part))
    if sms_text and user.mobile:
        sms.send(user.mobile, f"【e-CQS】{sms_text}"[:500], "notice")


def record_link(obj, recipient: User | None = None) -> str | None:
    """The details page of `obj` that `recipient` may open: of the grids of its model whose roles
    include the recipient's, the model's main grid, else the first registered (a unit's own grid
    of a request, where the main grid is the reviewers'). Without a recipient, the main grid.
    None outside a request, for a model without a grid, or when no grid of the model is the
    recipient's (no link rather than a 403). Found from the Admin object, so services do not
    import the views."""
    if obj is None or not has_request_context():
        return None
    views = [
        view
        for admin in current_app.extensions.get("admin") or []
        for view in admin._views
        if getattr(view, "model", None) is type(obj)
    ]
    if recipient is None:
        views = [v for v in views if getattr(v, "primary_for_model", False)]
    else:
        views = [v for v in views if recipient.role in getattr(v, "roles", ())]
        views.sort(key=lambda v: not getattr(v, "primary_for_model", False))  # stable: then in order
    return url_for(f"{views[0].endpoint}.details_view", id=obj.id) if views else None


def safe_link(link: str | None) -> str | None:
    """Only links inside this site are followed (a stored absolute URL is never an open redirect)."""
    if not link or not link.startswith("/") or link.startswith("//") or "\\" in link:
        return None
    return link


# The top bar's badge on every page: one statement, built once, run on the session's connection
# (the ORM's execution path costs more than the count itself).
_UNREAD = select(func.count()).where(
    Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None)
)


# The same count for the user a statement loads (with_expression(User.unread_at_load, …)): the
# session load asks for it, so that a page's badge needs no statement of its own.
UNREAD_OF_LOADED_USER = (
    select(func.count())
    .where(Notification.user_id == User.id, Notification.read_at.is_(None))
    .correlate(User)
    .scalar_subquery()
)
_CHANGED = "ecqs_notifications_changed"  # in session.info: its transaction changed notifications


def unread_count(user) -> int:
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    session = db.session()
    # The count loaded with the user holds while this session has not touched notifications
    # (after a commit the user's attributes are expired, and the count is asked again).
    loaded = user.__dict__.get("unread_at_load")
    if loaded is not None and not session.info.get(_CHANGED) and not _pending_notifications(session):
        return loaded
    session.flush()  # as the session's own execute would: a message added here counts
    return session.connection().execute(_UNREAD, {"user_id": user.id}).scalar() or 0


def _pending_notifications(session) -> bool:
    return any(isinstance(obj, Notification) for obj in (*session.new, *session.dirty, *session.deleted))


@event.listens_for(Session, "before_flush")
def _flushing_notifications(session, flush_context, instances):
    if _pending_notifications(session):
        session.info[_CHANGED] = True


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session, transaction):
    # A new transaction loads its user afresh (a commit expired it), with a count of its own.
    if transaction.parent is None:
        session.info.pop(_CHANGED, None)


@event.listens_for(Session, "do_orm_execute")
def _bulk_notifications(state):
    # update(Notification) / delete(Notification) through the session (全部标为已读, the archive)
    if (state.is_update or state.is_delete) and state.bind_mapper is Notification.__mapper__:
        state.session.info[_CHANGED] = True


def mark_read(notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = utcnow()


def mark_all_read(user) -> int:
    """全部标为已读: the user's unread messages; returns how many."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount or 0


def archive_old(now: datetime | None = None, days: int = ARCHIVE_AFTER_DAYS) -> int:
    """Remove messages older than `days` (read or not): the record itself keeps its audit trail.
    Returns how many; the caller commits."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    result = db.session.execute(delete(Notification).where(Notification.created_at < cutoff))
    return result.rowcount or 0
