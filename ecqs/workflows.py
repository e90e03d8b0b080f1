"""Every state machine as data, and transition(): the only code that changes a status.

A workflow is a table of transitions (action, from-states, to-state, roles, party, guard,
whether a comment is required). Views build their buttons and bulk actions from it; the inbox
derives each user's to-do list from it. transition() checks role, party, state and guard,
applies the transition's effect, flushes (a version column refuses a concurrent second
effect), writes the audit event and queues notifications; the request commits once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from ecqs.extensions import db
from ecqs.models import (
    User,
)
from ecqs.services import audit, notify

# --------------------------------------------------------------------------------------------
# Errors: one named exception per kind of refusal, each with a Chinese message for the user.
# --------------------------------------------------------------------------------------------


class WorkflowError(Exception):
    """A refused transition; str(exc) is the message shown to the user."""


class UnknownAction(WorkflowError):
    pass


class NotPermitted(WorkflowError):
    pass


class IllegalState(WorkflowError):
    pass


class StaleTransition(WorkflowError):
    pass


class CommentRequired(WorkflowError):
    pass


class GuardFailed(WorkflowError):
    pass


# --------------------------------------------------------------------------------------------
# The shape of a workflow
# --------------------------------------------------------------------------------------------

Predicate = Callable[[object, User], bool]


@dataclass(frozen=True)
class Transition:
    action: str
    label: object
    sources: tuple[str, ...]
    target: str
    roles: frozenset[str]
    party: Predicate | None = None  # beyond the role: is this actor a party to this record?
    guard: Callable[[object, User, dict], None] | None = None  # raises GuardFailed
    effect: Callable[[object, User, dict], None] | None = None  # fields the workflow owns
    needs_comment: bool = False
    confirm: object | None = None
    bulk: bool = True  # offered as a bulk action in grids
    style: str = "primary"
    todo: bool = True  # listed in the 待办事项 inbox (False: only a button on the record)


@dataclass(frozen=True)
class Workflow:
    name: str
    model: type
    states: dict
    transitions: tuple[Transition, ...]
    title: Callable[[object], str]
    notify: Callable[[object, Transition, User, str | None], Iterable[tuple]] | None = None
    deadline: Callable[[object], date | None] | None = None
    field: str = "status"
    by_action: dict = dataclasses.field(default_factory=dict, compare=False)

    def __post_init__(self):
        for t in self.transitions:
            self.by_action[t.action] = t
            assert t.target in self.states, (self.name, t.action)
            assert all(s in self.states for s in t.sources), (self.name, t.action)

    def state_label(self, state: str) -> str:
        return str(self.states.get(state, state))

    def get(self, action: str) -> Transition:
        try:
            return self.by_action[action]
        except KeyError:
            raise UnknownAction(_("未知的操作：%(action)s", action=action)) from None


WORKFLOWS: dict[type, Workflow] = {}


def register(workflow: Workflow) -> Workflow:
    WORKFLOWS[workflow.model] = workflow
    return workflow


def workflow_for(obj_or_model) -> Workflow | None:
    model = obj_or_model if isinstance(obj_or_model, type) else type(obj_or_model)
    return WORKFLOWS.get(model)


# The role of automatic transitions (allocation, booking status): no user has it.
SYSTEM = frozenset({"system"})


class SystemActor:
    """The system acting on behalf of a user (allocation, booking status): audited under that
    user's name, but no real user has the role 'system', so it is never a button or a to-do."""

    role = "system"
    is_authenticated = True

    def __init__(self, on_behalf_of):
        self.user = getattr(on_behalf_of, "user", on_behalf_of)
        self.id = getattr(self.user, "id", None)
        self.username = getattr(self.user, "username", None) or "system"
        self.organization_id = getattr(self.user, "organization_id", None)


# --------------------------------------------------------------------------------------------
# Checking and performing transitions
# --------------------------------------------------------------------------------------------


def check(obj, action: str, actor: User, expected_state: str | None = None) -> Transition:
    """Raise the WorkflowError that `transition` would raise before any guard, else return it."""
    wf = workflow_for(obj)
    if wf is None:
        raise UnknownAction(_("该记录没有审批流程"))
    t = wf.get(action)
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.role not in t.roles:
        raise NotPermitted(_("您无权执行“%(label)s”", label=t.label))
    if t.party is not None and not t.party(obj, actor):
        raise NotPermitted(_("您无权对该记录执行“%(label)s”", label=t.label))
    current = getattr(obj, wf.field)
    if expected_state is not None and expected_state != current:
        raise StaleTransition(
            _("该记录已被他人处理，当前状态为“%(state)s”，请刷新后重试", state=wf.state_label(current))
        )
    if current not in t.sources:
        raise IllegalState(
            _(
                "当前状态为“%(state)s”，不能执行“%(label)s”",
                state=wf.state_label(current),
                label=t.label,
            )
        )
    return t


def can(obj, action: str, actor: User) -> bool:
    """The predicate that both hides a button and (again, in transition) guards the action."""
    try:
        check(obj, action, actor)
    except WorkflowError:
        return False
    return True


def available(obj, actor: User) -> list[Transition]:
    wf = workflow_for(obj)
    if wf is None:
        return []
    return [t for t in wf.transitions if can(obj, t.action, actor)]


def transition(obj, action: str, actor: User, comment: str | None = None, expected_state=None, **data):
    """Perform `action` on `obj` as `actor`: check, change state, audit, queue notifications.

    Flushes but does not commit; the request commits once. On a refusal nothing is changed and
    a WorkflowError with a Chinese message is raised. A concurrent second effect (the version
    column no longer matches) rolls the session back and raises StaleTransition.
    """
    wf = workflow_for(obj)
    t = check(obj, action, actor, expected_state)
    comment = (comment or "").strip() or None
    if comment and len(comment) > 2000:
        raise GuardFailed(_("意见不能超过 2000 个字"))
    if t.needs_comment and not comment:
        raise CommentRequired(_("“%(label)s”必须填写意见或原因", label=t.label))
    data = dict(data, comment=comment)
    if t.guard is not None:
        t.guard(obj, actor, data)
    before = getattr(obj, wf.field)
    if t.effect is not None:
        t.effect(obj, actor, data)
    setattr(obj, wf.field, t.target)
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise StaleTransition(_("该记录已被他人处理，请刷新后重试")) from None
    audit.record(
        "transition",
        user=actor,
        obj=obj,
        action=action,
        from_state=before,
        to_state=t.target,
        comment=comment,
    )
    if wf.notify is not None:
        for user, title, sms_text in wf.notify(obj, t, actor, comment) or ():
            notify.notify_user(user, title, body=comment, sms_text=sms_text)
    return obj


def due_label(deadline: date | datetime | None) -> str | None:
    if deadline is None:
        return None
    return deadline.isoformat() if isinstance(deadline, date) else deadline.date().isoformat()
