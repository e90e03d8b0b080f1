"""Append-only audit trail: transitions, logins, denials and personal-data changes."""

from __future__ import annotations

import logging

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session

from ecqs.extensions import db
from ecqs.models import AuditEvent

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
