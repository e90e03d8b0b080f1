"""Server-side sessions end when what they were granted on changes: a user's other sessions end
when the password changes, and all of them when the account is disabled or locked, or its
role, organisation or organisation-admin flag changes. Done on flush, so every door that
changes a user (own password page, user grids, actions, workflows, lockout) is covered."""

from __future__ import annotations

from flask import g, has_request_context
from sqlalchemy import event, inspect, update

from ecqs.extensions import db
from ecqs.models import User, UserSession, utcnow
from ecqs.services import audit

# Attributes whose change ends the user's sessions.
WATCHED = ("password_hash", "role", "active", "locked_until", "organization_id", "is_org_admin")


def _changed(user: User) -> bool:
    state = inspect(user)
    for name in WATCHED:
        history = state.attrs[name].history
        if not history.has_changes():
            continue
        if name == "active" and user.active:
            continue  # enabling an account grants nothing to old sessions (all ended already)
        if name == "locked_until" and (user.locked_until is None or user.locked_until <= utcnow()):
            continue  # unlocking
        return True
    return False


def _current_token(user: User) -> str | None:
    """The session of the request that makes the change, if it is the user's own (a password
    change keeps the session it was made in)."""
    if not has_request_context():
        return None
    current = g.get("_login_user")
    if current is None or getattr(current, "id", None) != user.id:
        return None
    return getattr(current, "session_token", None)


def _end_sessions_on_account_change(session, flush_context, instances):
    users = [obj for obj in session.dirty if isinstance(obj, User) and _changed(obj)]
    if not users:
        return
    table = UserSession.__table__
    connection = session.connection()
    now = utcnow()
    for user in users:
        stmt = update(table).where(table.c.user_id == user.id, table.c.ended_at.is_(None))
        keep = _current_token(user)
        if keep and not _only_password(user):
            keep = None
        if keep:
            stmt = stmt.where(table.c.token != keep)
        connection.execute(stmt.values(ended_at=now))


def _only_password(user: User) -> bool:
    state = inspect(user)
    return not any(state.attrs[name].history.has_changes() for name in WATCHED if name != "password_hash")


def end_all(user: User) -> None:
    """End every open session of ``user`` (a password reset or a new account holder)."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def unlock_and_end_all(user: User) -> None:
    """Clear the lockout and end every session: the account starts afresh with its holder."""
    user.failed_logins = 0
    user.locked_until = None
    end_all(user)


def reset_password(user: User, password: str) -> None:
    """忘记密码 (personal or unit): the new password, no lockout, no old session, audited."""
    user.set_password(password)
    unlock_and_end_all(user)
    audit.record("password_reset", user=user)


def init_app(app) -> None:
    """Wired by create_app: every flush that changes an account's password, role, organisation,
    lock or active flag ends the user's other sessions (all of them when the account is locked
    or disabled)."""
    target = db.session.__class__
    if not event.contains(target, "before_flush", _end_sessions_on_account_change):
        event.listen(target, "before_flush", _end_sessions_on_account_change, propagate=True)
