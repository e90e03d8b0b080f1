"""待办事项: every record on which this user can act now, across modules, derived from the
workflow table and the scope; oldest deadline first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import select

from ecqs import access, workflows
from ecqs.extensions import db
from ecqs.services import workdays

PER_WORKFLOW_LIMIT = 200


@dataclass
class InboxItem:
    title: str
    state: str
    actions: list[str]
    deadline: date | None
    url: str | None
    overdue: bool
    sort_key: tuple


# Where a record's page is, is the admin's knowledge: it registers a resolver when it is set up
# (admin_views.init_admin), so this service never imports a view.
DETAILS_URL = "ecqs.inbox.details_url"


def set_details_url(app, resolver: Callable[[object], str | None]) -> None:
    """Register how the inbox links a record to its page (obj -> URL or None) for this app."""
    app.extensions[DETAILS_URL] = resolver


def _details_url(obj) -> str | None:
    resolver = current_app.extensions.get(DETAILS_URL)
    return resolver(obj) if resolver is not None else None


def items_for(user) -> list[InboxItem]:
    """The user's to-do list. Uses the same scope as the grids and the same `can` as buttons."""
    result: list[InboxItem] = []
    today = workdays.today()
    for model, wf in workflows.WORKFLOWS.items():
        mine = [t for t in wf.transitions if user.role in t.roles and t.todo]
        if not mine:
            continue
        states = sorted({s for t in mine for s in t.sources})
        column = getattr(model, wf.field)
        stmt = access.scoped(select(model).where(column.in_(states)), model, user)
        stmt = stmt.order_by(model.__mapper__.primary_key[0]).limit(PER_WORKFLOW_LIMIT)
        for obj in db.session.execute(stmt).scalars():
            actions = [str(t.label) for t in workflows.available(obj, user) if t.todo]
            if not actions:
                continue
            deadline = wf.deadline(obj) if wf.deadline else None
            result.append(
                InboxItem(
                    title=str(wf.title(obj)),
                    state=wf.state_label(getattr(obj, wf.field)),
                    actions=actions,
                    deadline=deadline,
                    url=_details_url(obj),
                    overdue=deadline is not None and deadline < today,
                    sort_key=(deadline or date.max, wf.name, obj.id),
                )
            )
    result.sort(key=lambda item: item.sort_key)
    return result
