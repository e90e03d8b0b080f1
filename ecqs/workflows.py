"""The engine every state machine runs on, and transition(): the only code that changes a status.

A workflow is a table of transitions. A Transition carries everything about itself: roles,
party, from/to states, guard, the input fields it needs (parsed here, rendered by the grid's
transition form from the same definition), the comment rule, confirmation text, notifications
and an `after` hook naming follow-up transitions. transition() checks role, party, state and
version, parses the inputs, runs the guard and the effect (fields the workflow owns, never the
status), sets the state, flushes (a version column refuses a concurrent second effect), writes
the audit event, queues notifications, then runs the follow-ups, in that order; the request
commits once.

The state tables live in their domains (ecqs/<domain>/workflows.py) and register here;
ecqs/domains.py lists the domains, `flask workflows` renders every table to docs/workflows.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm.exc import StaleDataError

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import (
    User,
)
from ecqs.services import audit, notify, uploads

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
Notifications = Iterable[tuple]  # (user, title, sms_text or None)

FIELD_KINDS = ("text", "textarea", "date", "choice", "int", "file")


@dataclass(frozen=True)
class Field:
    """One input a transition needs. The grid's transition form renders it and posts the raw
    value; transition() parses and validates it with clean() before the guard runs, so the
    button and the engine read one definition."""

    name: str
    label: object
    kind: str = "text"
    required: bool = True
    max_length: int = 200
    choices: Callable[[object, User], list[tuple[str, str]]] | None = None  # (value, label)
    placeholder: object | None = None

    def __post_init__(self):
        assert self.kind in FIELD_KINDS, self.kind

    def options(self, obj, actor) -> list[tuple[str, str]]:
        return [(str(v), str(label)) for v, label in (self.choices(obj, actor) if self.choices else ())]

    def clean(self, raw, obj, actor):
        """The parsed value, or GuardFailed with a Chinese message naming the field."""
        if isinstance(raw, str):
            raw = raw.strip()
        if raw is None or raw == "" or (self.kind == "file" and not raw):
            if self.required:
                if self.kind == "file":
                    raise GuardFailed(_("请上传%(label)s", label=self.label))
                if self.kind == "choice":
                    raise GuardFailed(_("请选择%(label)s", label=self.label))
                raise GuardFailed(_("请填写%(label)s", label=self.label))
            return None
        if self.kind in ("text", "textarea"):
            value = str(raw)
            if len(value) > self.max_length:
                raise GuardFailed(_("%(label)s不能超过 %(n)d 个字", label=self.label, n=self.max_length))
            return value
        if self.kind == "date":
            if isinstance(raw, date):
                return raw
            try:
                return date.fromisoformat(str(raw))
            except ValueError:
                raise GuardFailed(_("%(label)s不是有效日期", label=self.label)) from None
        if self.kind == "int":
            try:
                return int(str(raw))
            except ValueError:
                raise GuardFailed(_("%(label)s必须是整数", label=self.label)) from None
        if self.kind == "choice":
            value = str(raw)
            if value not in {v for v, _label in self.options(obj, actor)}:
                raise GuardFailed(_("请选择有效的%(label)s", label=self.label))
            return value
        # file: an Upload row already saved, or an uploaded file to check and store now
        from_request = hasattr(raw, "stream")
        if not from_request:
            return raw
        try:
            return uploads.save(raw, user=actor)
        except uploads.UploadError as exc:
            raise GuardFailed(str(exc)) from None


@dataclass(frozen=True)
class Then:
    """A follow-up transition that the engine runs once the current one is done."""

    obj: object
    action: str
    actor: object | None = None  # None: the same actor
    comment: str | None = None
    data: dict = dataclasses.field(default_factory=dict)


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
    fields: tuple[Field, ...] = ()  # inputs the actor gives (parsed before the guard)
    notify: Callable[[object, User, str | None], Notifications] | None = None  # else the workflow's
    after: Callable[[object, User, dict], Iterable[Then]] | None = None  # follow-up transitions


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
    colours: dict = dataclasses.field(default_factory=dict)  # state -> badge colour (Bootstrap)
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


# Follow-up transitions queued by `after` hooks while an outer transition() is running.
_pending: ContextVar[list | None] = ContextVar("ecqs_pending_transitions", default=None)


def transition(
    obj,
    action: str,
    actor: User,
    comment: str | None = None,
    expected_state=None,
    expected_version=None,
    **data,
):
    """Perform `action` on `obj` as `actor`: check, parse inputs, guard, effect, change state,
    audit, queue notifications, then run the follow-ups of `after` (each audited after this one).

    `data` holds the inputs of the transition's fields, raw (as posted) or already typed.
    Flushes but does not commit; the request commits once. On a refusal nothing is changed and
    a WorkflowError with a Chinese message is raised. A concurrent second effect (the version
    column no longer matches) rolls the session back and raises StaleTransition.
    """
    outer = _pending.get() is None
    token = _pending.set([]) if outer else None
    try:
        _perform(obj, action, actor, comment, expected_state, expected_version, data)
        if outer:
            queue = _pending.get()
            while queue:
                then = queue.pop(0)
                _perform(then.obj, then.action, then.actor or actor, then.comment, None, None, then.data)
    finally:
        if outer:
            _pending.reset(token)
    return obj


def _perform(obj, action, actor, comment, expected_state, expected_version, data):
    wf = workflow_for(obj)
    t = check(obj, action, actor, expected_state)
    if expected_version not in (None, "") and str(expected_version) != str(getattr(obj, "version", "")):
        raise StaleTransition(_("该记录已被他人处理，请刷新后重试"))
    comment = (comment or "").strip() or None
    if comment and len(comment) > 2000:
        raise GuardFailed(_("意见不能超过 2000 个字"))
    if t.needs_comment and not comment:
        raise CommentRequired(_("“%(label)s”必须填写意见或原因", label=t.label))
    data = dict(data)
    for f in t.fields:
        data[f.name] = f.clean(data.get(f.name), obj, actor)
    data["comment"] = comment
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
    notifier = t.notify or (lambda o, a, c: wf.notify(o, t, a, c) if wf.notify else ())
    for user, title, sms_text in notifier(obj, actor, comment) or ():
        notify.notify_user(user, title, body=comment, sms_text=sms_text, link=notify.record_link(obj, user))
    if t.after is not None:
        _pending.get().extend(t.after(obj, actor, data) or ())


def due_label(deadline: date | datetime | None) -> str | None:
    if deadline is None:
        return None
    return deadline.isoformat() if isinstance(deadline, date) else deadline.date().isoformat()
