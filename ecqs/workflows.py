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


def _decide_link(link, actor, data):
    link.decided_at = utcnow()
    link.reject_reason = data["comment"] if data.get("comment") and link.status == "pending" else None


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
                effect=_decide_link,
                style="success",
            ),
            Transition(
                "reject",
                _l("驳回"),
                ("pending",),
                "rejected",
                frozenset({"enterprise"}),
                party=_link_party,
                effect=_decide_link,
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
from sqlalchemy import select  # noqa: E402

from . import instrument_allocation  # noqa: E402
from .access import LEDGER_ROLES, works_for  # noqa: E402
from .models import (  # noqa: E402
    BOOKING_ITEM_STATUS_LABELS,
    BOOKING_STATUS_LABELS,
    INSTRUMENT_STATUS_LABELS,
    OPEN_ITEM_STATES,
    VERIFICATION_RESULT_LABELS,
    Booking,
    BookingItem,
    Instrument,
)

SYSTEM = frozenset({"system"})
ANSWERED_ITEM_STATES = ("accepted", "verified", "returned", "cancelled")


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


def _ledger_party(obj, actor) -> bool:
    return works_for(actor, obj.organization_id)


def _has_open_booking(instrument: Instrument) -> bool:
    return (
        db.session.execute(
            select(BookingItem.id).where(
                BookingItem.instrument_id == instrument.id, BookingItem.status.in_(OPEN_ITEM_STATES)
            )
        ).first()
        is not None
    )


def _not_in_open_booking(instrument, actor, data):
    if _has_open_booking(instrument):
        raise GuardFailed(_("器具“%(name)s”在未完成的预约单中，请先取消预约", name=instrument))


INSTRUMENT_STATUS = register(
    Workflow(
        name="instrument_status",
        model=Instrument,
        states=INSTRUMENT_STATUS_LABELS,
        title=lambda inst: _("强检器具：%(name)s", name=inst),
        transitions=(
            Transition(
                "stop",
                _l("停用"),
                ("in_use",),
                "stopped",
                LEDGER_ROLES,
                party=_ledger_party,
                guard=_not_in_open_booking,
                style="warning",
                todo=False,
            ),
            Transition(
                "enable",
                _l("启用"),
                ("stopped",),
                "in_use",
                LEDGER_ROLES,
                party=_ledger_party,
                style="success",
                todo=False,
            ),
            Transition(
                "scrap",
                _l("报废"),
                ("in_use", "stopped"),
                "scrapped",
                LEDGER_ROLES,
                party=_ledger_party,
                guard=_not_in_open_booking,
                confirm=_l("报废后不能恢复，确定报废选中的器具吗？"),
                style="danger",
                todo=False,
            ),
        ),
    )
)


# ---- bookings ------------------------------------------------------------------------------


def _submit_guard(booking, actor, data):
    if not booking.items:
        raise GuardFailed(_("请先选择要预约的器具"))
    for item in booking.items:
        if item.instrument.status != "in_use":
            raise GuardFailed(_("器具“%(name)s”不是在用状态，不能预约", name=item.instrument))


def _submit(booking, actor, data):
    booking.submitted_at = utcnow()
    booking.status = "submitted"
    allocate_items([i for i in booking.items if i.status == "pending"], actor)


def allocate_items(items, actor) -> int:
    """Allocate 待预约 items of submitted bookings to authorised institutions; returns how many
    found one. Items with no authorised institution stay 待预约 (retried later)."""
    system = SystemActor(actor)
    load: dict[int, int] = {}
    done = 0
    for item in items:
        institution = instrument_allocation.find_institution(item.instrument, load)
        if institution is not None:
            transition(item, "allocate", system, institution=institution)
            done += 1
    return done


def retry_unallocated(actor) -> int:
    """Called when authorisations change: try again every 待预约 item of a submitted booking."""
    items = (
        db.session.execute(
            select(BookingItem)
            .join(Booking, Booking.id == BookingItem.booking_id)
            .where(BookingItem.status == "pending", Booking.status.in_(("submitted", "answered")))
            .order_by(BookingItem.id)
        )
        .scalars()
        .all()
    )
    return allocate_items(items, actor)


def _notify_booking(booking, t, actor, comment):
    if t.action != "submit":
        return []
    per_institution: dict[int, list] = {}
    for item in booking.items:
        if item.institution is not None and item.status == "allocated":
            per_institution.setdefault(item.institution_id, [item.institution, 0])[1] += 1
    out = []
    for institution, n in per_institution.values():
        title = _("%(org)s 提交了 %(n)d 件强检器具的检定预约，请及时受理", org=booking.organization.name, n=n)
        out.extend((u, title, None) for u in _org_admins(institution))
    return out


BOOKING = register(
    Workflow(
        name="booking",
        model=Booking,
        states=BOOKING_STATUS_LABELS,
        title=lambda b: _("预约单 %(number)s", number=b),
        notify=_notify_booking,
        transitions=(
            Transition(
                "submit",
                _l("提交申请"),
                ("draft",),
                "submitted",
                LEDGER_ROLES,
                party=_ledger_party,
                guard=_submit_guard,
                effect=_submit,
                bulk=False,
                confirm=_l("提交后将分配至计量技术机构，确定提交吗？"),
            ),
            # Automatic: every allocated item has its institution's answer / a new allocation.
            Transition("feedback", _l("已反馈"), ("submitted",), "answered", SYSTEM, bulk=False),
            Transition("reopen", _l("重新待反馈"), ("answered",), "submitted", SYSTEM, bulk=False),
        ),
    )
)


def _sync_booking(booking, actor) -> None:
    """已反馈 once no item waits for an institution's answer (and at least one was answered);
    back to 已提交 when an item is allocated again."""
    states = [i.status for i in booking.items]
    system = SystemActor(actor)
    if booking.status == "submitted" and "allocated" not in states:
        if any(s in ANSWERED_ITEM_STATES for s in states):
            transition(booking, "feedback", system)
    elif booking.status == "answered" and "allocated" in states:
        transition(booking, "reopen", system)


def _then_sync(target: str, effect=None):
    def run(item, actor, data):
        # The check constraints tie fields to the state: change them together, flush once.
        with db.session.no_autoflush:
            if effect is not None:
                effect(item, actor, data)
            item.status = target  # the booking's state depends on this item's new state
        _sync_booking(item.booking, actor)

    return run


def _institution_party(item, actor) -> bool:
    return actor.organization_id is not None and item.institution_id == actor.organization_id


def _booking_party(item, actor) -> bool:
    return works_for(actor, item.booking.organization_id)


def _allocate_guard(item, actor, data):
    institution = data.get("institution")
    if item.booking.status == "draft" or institution is None or institution.kind != "metrology":
        raise GuardFailed(_("该器具不能分配"))


def _allocate(item, actor, data):
    item.institution = data["institution"]
    item.institution_id = data["institution"].id
    item.allocated_at = utcnow()


def _accept(item, actor, data):
    item.answered_at = utcnow()
    item.receipt_note = data.get("comment")


def _return(item, actor, data):
    item.answered_at = utcnow()
    item.return_reason = data["comment"]


def _result_guard(item, actor, data):
    result = data.get("result")
    certificate_no = (data.get("certificate_no") or "").strip()
    verified_on = data.get("verified_on")
    valid_until = data.get("valid_until")
    if result not in VERIFICATION_RESULT_LABELS:
        raise GuardFailed(_("请选择检定结论（合格/不合格）"))
    if not certificate_no or len(certificate_no) > 60:
        raise GuardFailed(_("请填写证书编号（不超过 60 个字符）"))
    if not isinstance(verified_on, date):
        raise GuardFailed(_("请填写检定日期"))
    if verified_on > workdays.today():
        raise GuardFailed(_("检定日期不能晚于今天"))
    if result == "qualified" and not isinstance(valid_until, date):
        raise GuardFailed(_("检定合格时必须填写新的有效期至"))
    if valid_until is not None and valid_until <= verified_on:
        raise GuardFailed(_("有效期至必须晚于检定日期"))


def _record_result(item, actor, data):
    item.result = data["result"]
    item.certificate_no = data["certificate_no"].strip()
    item.verified_on = data["verified_on"]
    item.new_valid_until = data.get("valid_until")
    item.answered_at = item.answered_at or utcnow()
    # The only way 有效期至 moves after the instrument was added.
    if item.new_valid_until is not None:
        item.instrument.valid_until = item.new_valid_until


def _notify_item(item, t, actor, comment):
    name = str(item.instrument)
    if t.action == "accept":
        title = _("您预约的器具“%(name)s”已被 %(org)s 受理", name=name, org=item.institution.name)
    elif t.action == "return":
        title = _("您预约的器具“%(name)s”被退回：%(reason)s", name=name, reason=comment)
    elif t.action == "record_result":
        title = _(
            "器具“%(name)s”检定结论：%(result)s，有效期至 %(date)s",
            name=name,
            result=VERIFICATION_RESULT_LABELS[item.result],
            date=item.new_valid_until or "-",
        )
    else:
        return []
    creator = item.booking.created_by
    return [(creator, title, None)] if creator is not None else []


BOOKING_ITEM = register(
    Workflow(
        name="booking_item",
        model=BookingItem,
        states=BOOKING_ITEM_STATUS_LABELS,
        title=lambda item: _(
            "强检器具预约：%(name)s（%(org)s）", name=item, org=item.booking.organization.name
        ),
        notify=_notify_item,
        transitions=(
            Transition(
                "allocate",
                _l("分配"),
                ("pending",),
                "allocated",
                SYSTEM,
                guard=_allocate_guard,
                effect=_then_sync("allocated", _allocate),
                bulk=False,
            ),
            Transition(
                "accept",
                _l("受理"),
                ("allocated",),
                "accepted",
                frozenset({"metrology"}),
                party=_institution_party,
                effect=_then_sync("accepted", _accept),
                style="success",
            ),
            Transition(
                "return",
                _l("退回"),
                ("allocated", "accepted"),
                "returned",
                frozenset({"metrology"}),
                party=_institution_party,
                effect=_then_sync("returned", _return),
                needs_comment=True,
                style="danger",
            ),
            Transition(
                "record_result",
                _l("录入检定结果"),
                ("accepted",),
                "verified",
                frozenset({"metrology"}),
                party=_institution_party,
                guard=_result_guard,
                effect=_then_sync("verified", _record_result),
                bulk=False,
            ),
            Transition(
                "cancel",
                _l("取消预约"),
                ("allocated",),
                "cancelled",
                LEDGER_ROLES,
                party=_booking_party,
                effect=_then_sync("cancelled"),
                confirm=_l("确定取消选中器具的预约吗？"),
                style="danger",
                todo=False,
            ),
        ),
    )
)


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
