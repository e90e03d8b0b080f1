"""Append-only audit trail: transitions, logins, denials and personal-data changes."""

from __future__ import annotations

import logging
from datetime import date, datetime

from flask import has_request_context, request
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from ecqs.extensions import db
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import AuditEvent
from ecqs.services import masking

log = logging.getLogger("ecqs.audit")

# Labels of the events the app records (the audit grid, its filter and its export use them).
EVENT_LABELS = {
    "transition": _l("流程办理"),
    "login": _l("登录"),
    "logout": _l("退出"),
    "account_locked": _l("账号锁定"),
    "access_denied": _l("拒绝访问"),
    "registered": _l("注册"),
    "record_created": _l("新增"),
    "record_changed": _l("修改"),
    "record_deleted": _l("删除"),
    "file_download": _l("下载文件"),
    "export": _l("导出"),
    "link_requested": _l("申请关联"),
    "account_disabled": _l("停用账号"),
    "account_enabled": _l("启用账号"),
    "password_changed": _l("修改密码"),
    "password_reset": _l("重置密码"),
    "scheduled_run": _l("定时任务"),
}
RESULT_LABELS = {"success": _l("成功"), "failure": _l("失败")}


def client_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def _printable(fields: dict) -> dict:
    # PostgreSQL refuses NUL in text; an attacker's URL must not turn a denial into an error.
    return {k: v.replace("\x00", "\\x00") if isinstance(v, str) else v for k, v in fields.items()}


def _object_fields(obj, fields: dict) -> tuple[str | None, int | None]:
    """The object an event is about: `obj` wins over explicit object_type/object_id."""
    object_type = fields.pop("object_type", None)
    object_id = fields.pop("object_id", None)
    if obj is not None:
        return type(obj).__name__, getattr(obj, "id", None)
    if object_type is not None:
        object_type = str(object_type)[:40]  # the column's width; reasons of denials can be long
    return object_type, object_id


def record(event_name: str, *, user=None, obj=None, result: str = "success", username=None, **fields):
    """Add one AuditEvent to the current transaction (it commits with the change it describes)."""
    object_type, object_id = _object_fields(obj, fields)
    fields = _printable(dict(fields, object_type=object_type, username=username))
    object_type, username = fields.pop("object_type"), fields.pop("username")
    evt = AuditEvent(
        event=event_name,
        result=result,
        user_id=getattr(user, "id", None),
        username=username or getattr(user, "username", None),
        organization_id=getattr(user, "organization_id", None),
        object_type=object_type,
        object_id=object_id,
        ip=client_ip(),
        **fields,
    )
    db.session.add(evt)
    log.info(
        "audit %s %s user=%s object=%s:%s", event_name, result, evt.username, evt.object_type, evt.object_id
    )
    return evt


# Columns a change record never shows: secrets, and bookkeeping every save touches.
UNSHOWN_FIELDS = frozenset(
    {"password_hash", "version", "failed_logins", "locked_until", "last_login_at", "password_changed_at"}
)


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def field_changes(obj) -> list[dict]:
    """The columns of `obj` changed in this session and not yet flushed, from SQLAlchemy's
    attribute history: [{"field", "old", "new"}], personal values masked (masking.mask_field).
    Call it before anything flushes the session (a query autoflushes)."""
    state = inspect(obj)
    changed = []
    for attr in state.mapper.column_attrs:
        if attr.key in UNSHOWN_FIELDS:
            continue
        history = state.attrs[attr.key].history
        if history.has_changes():
            changed.append((attr, history))
    # A value set on an expired attribute has no old value in the history: read it from the
    # database, which still holds it (nothing was flushed).
    unknown = [attr for attr, history in changed if not history.deleted]
    stored = {}
    if unknown and state.persistent:
        with db.session.no_autoflush:
            row = db.session.execute(
                select(*(a.columns[0] for a in unknown)).where(
                    *(c == v for c, v in zip(state.mapper.primary_key, state.identity, strict=True))
                )
            ).first()
        stored = dict(zip((a.key for a in unknown), row or (), strict=False))
    result = []
    for attr, history in changed:
        key = attr.key
        old = _text(history.deleted[0] if history.deleted else stored.get(key))
        new = _text(history.added[0]) if history.added else None
        if old == new or (not old and not new):
            continue
        result.append({"field": key, "old": _masked(key, old), "new": _masked(key, new)})
    return result


def _masked(key: str, value: str | None) -> str | None:
    return None if value is None else masking.mask_field(key, value)


def record_change(user, obj, event_name: str = "record_changed", **fields):
    """Record a change of a record (master or personal data) with the fields it changed, old
    and new values; nothing when no shown field changed. Returns the event or None."""
    changes = field_changes(obj)
    if not changes:
        return None
    return record(event_name, user=user, obj=obj, changes=changes, **fields)


def record_now(event_name: str, **kwargs) -> None:
    """Record and commit at once, in a separate session: for failures whose request rolls back."""
    with Session(db.engine) as session:
        user = kwargs.pop("user", None)
        obj = kwargs.pop("obj", None)
        object_type, object_id = _object_fields(obj, kwargs)
        kwargs = _printable(dict(kwargs, object_type=object_type))
        object_type = kwargs.pop("object_type")
        session.add(
            AuditEvent(
                event=event_name,
                result=kwargs.pop("result", "failure"),
                user_id=getattr(user, "id", None),
                username=kwargs.pop("username", None) or getattr(user, "username", None),
                organization_id=getattr(user, "organization_id", None),
                object_type=object_type,
                object_id=object_id,
                ip=client_ip(),
                **kwargs,
            )
        )
        session.commit()
    log.info("audit %s", event_name)


def timeline(obj) -> list[AuditEvent]:
    if getattr(obj, "id", None) is None:
        return []  # e.g. Division (keyed by its code): its events carry no object_id
    return list(
        db.session.execute(
            db.select(AuditEvent)
            .where(AuditEvent.object_type == type(obj).__name__, AuditEvent.object_id == obj.id)
            .order_by(AuditEvent.at, AuditEvent.id)
        ).scalars()
    )


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(mapper, connection, target):
    raise RuntimeError("audit events are append-only")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise RuntimeError("audit events are append-only")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state):
    # update(AuditEvent) / delete(AuditEvent) statements bypass the mapper events above.
    if (state.is_update or state.is_delete) and any(
        getattr(m, "class_", None) is AuditEvent for m in state.all_mappers
    ):
        raise RuntimeError("audit events are append-only")
