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
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from . import audit, notify, workdays
from .extensions import db
from .models import (
    LINK_STATUS_LABELS,
    ORG_ROLES,
    ORG_STATUS_LABELS,
    EnterpriseLink,
    Organization,
    User,
    utcnow,
)

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


# --------------------------------------------------------------------------------------------
# M0 workflows
# --------------------------------------------------------------------------------------------


def _org_admins(org: Organization) -> list[User]:
    return [u for u in org.users if u.is_org_admin and u.active]


def _may_review_org(org: Organization, actor: User) -> bool:
    # Administrators review every organisation; the association reviews inspection units.
    return actor.role == "admin" or (actor.role == "association" and org.kind == "unit")


def _approve_org(org, actor, data):
    org.approved_at = utcnow()
    org.reject_reason = None


def _reject_org(org, actor, data):
    org.approved_at = None
    org.reject_reason = data["comment"]


def _resubmit_org(org, actor, data):
    org.submitted_at = utcnow()


def _notify_org(org, t, actor, comment):
    if t.action == "approve":
        title = _("您的单位“%(name)s”注册申请已审核通过", name=org.name)
    elif t.action == "reject":
        title = _("您的单位“%(name)s”注册申请被驳回：%(reason)s", name=org.name, reason=comment)
    else:
        return []
    return [(u, title, title) for u in _org_admins(org)]


def _org_review_deadline(org) -> date | None:
    # Seed 003: staff review a new registration within two working days.
    return workdays.add_working_days(org.submitted_at, 2) if org.submitted_at else None


ORGANIZATION_REVIEW = register(
    Workflow(
        name="organization_review",
        model=Organization,
        states=ORG_STATUS_LABELS,
        title=lambda org: _("单位注册审核：%(name)s", name=org.name),
        notify=_notify_org,
        deadline=_org_review_deadline,
        transitions=(
            Transition(
                "approve",
                _l("审核通过"),
                ("pending",),
                "approved",
                frozenset({"admin", "association"}),
                party=_may_review_org,
                effect=_approve_org,
                style="success",
            ),
            Transition(
                "reject",
                _l("驳回"),
                ("pending",),
                "rejected",
                frozenset({"admin", "association"}),
                party=_may_review_org,
                effect=_reject_org,
                needs_comment=True,
                style="danger",
            ),
            Transition(
                "resubmit",
                _l("修改后重新提交"),
                ("rejected",),
                "pending",
                ORG_ROLES,
                party=lambda org, actor: actor.organization_id == org.id and actor.is_org_admin,
                effect=_resubmit_org,
                bulk=False,
            ),
        ),
    )
)


def _link_party(link: EnterpriseLink, actor: User) -> bool:
    return actor.organization_id == link.organization_id and actor.is_org_admin and actor.org_approved


def _approve_link(link, actor, data):
    link.decided_at = utcnow()
    link.reject_reason = None


def _reject_link(link, actor, data):
    link.decided_at = utcnow()
    link.reject_reason = data["comment"]


def _approve_link_guard(link, actor, data):
    other = db.session.execute(
        db.select(EnterpriseLink).where(
            EnterpriseLink.person_id == link.person_id,
            EnterpriseLink.status == "approved",
            EnterpriseLink.id != link.id,
        )
    ).scalar()
    if other is not None:
        raise GuardFailed(_("该用户已关联企业“%(name)s”", name=other.organization.name))


def _notify_link(link, t, actor, comment):
    org = link.organization.name
    if t.action == "approve":
        title = _("您关联企业“%(name)s”的申请已通过", name=org)
    else:
        title = _("您关联企业“%(name)s”的申请被驳回：%(reason)s", name=org, reason=comment)
    return [(link.person, title, title)]


ENTERPRISE_LINK = register(
    Workflow(
        name="enterprise_link",
        model=EnterpriseLink,
        states=LINK_STATUS_LABELS,
        title=lambda link: _("关联企业申请：%(name)s", name=link.person.real_name or link.person.username),
        notify=_notify_link,
        transitions=(
            Transition(
                "approve",
                _l("通过"),
                ("pending",),
                "approved",
                frozenset({"enterprise"}),
                party=_link_party,
                guard=_approve_link_guard,
                effect=_approve_link,
                style="success",
            ),
            Transition(
                "reject",
                _l("驳回"),
                ("pending",),
                "rejected",
                frozenset({"enterprise"}),
                party=_link_party,
                effect=_reject_link,
                needs_comment=True,
                style="danger",
            ),
        ),
    )
)


# --------------------------------------------------------------------------------------------
# M1 workflows (instrument status, bookings, booking items)
# --------------------------------------------------------------------------------------------

# (M1 workflow tables go here)


# --------------------------------------------------------------------------------------------
# M2 workflows (production licence applications)
# --------------------------------------------------------------------------------------------

# (M2 workflow tables go here)


# --------------------------------------------------------------------------------------------
# M3 workflows (personnel qualification applications)
# --------------------------------------------------------------------------------------------

# (M3 workflow tables go here)


def due_label(deadline: date | datetime | None) -> str | None:
    if deadline is None:
        return None
    return deadline.isoformat() if isinstance(deadline, date) else deadline.date().isoformat()
