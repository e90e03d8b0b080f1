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
    candidates: dict = {}
    done = 0
    for item in items:
        institution = instrument_allocation.find_institution(item.instrument, load, candidates)
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

import secrets  # noqa: E402
from datetime import timedelta  # noqa: E402

from . import licence_applications, licence_clock  # noqa: E402
from .models import (  # noqa: E402
    LICENCE_CONCLUSION_LABELS,
    LICENCE_STATUS_LABELS,
    LicenceApplication,
    Upload,
)

LICENCE_MAX_REVIEW_DAYS = 30  # a proposed review may last at most this many calendar days


def _licence_applicant(app, actor) -> bool:
    return app.is_applicant(actor)


def _licence_reviewer(app, actor) -> bool:
    return app.is_addressed_to(actor)


def _licence_assessor(app, actor) -> bool:
    return app.is_engaged_assessor(actor)


def _licence_may_confirm(app, actor) -> bool:
    # The side that did not make the pending proposal confirms it. Outside the negotiation the
    # parties stay parties, so that a late second click hears "already handled" instead.
    if app.status != "engaged":
        return app.is_applicant(actor) or app.is_engaged_assessor(actor)
    if app.proposed_by == "assessor":
        return app.is_applicant(actor)
    if app.proposed_by == "enterprise":
        return app.is_engaged_assessor(actor)
    return False


def _licence_may_counter(app, actor) -> bool:
    return app.is_applicant(actor) and (app.status != "engaged" or app.proposed_by == "assessor")


def _as_date(value, label) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise GuardFailed(_("请正确填写%(label)s（YYYY-MM-DD）", label=label)) from None


def _licence_submit_guard(app, actor, data):
    problems = licence_applications.submission_problems(app)
    if problems:
        raise GuardFailed(_("不能提交：%(problems)s", problems="；".join(problems)))


def _licence_submit(app, actor, data):
    now = utcnow()
    app.authority = licence_applications.route_authority(app.organization, app.items)
    app.submitted_at = app.submitted_at or now
    app.received_at = now


def _licence_withdraw(app, actor, data):
    app.withdrawn_at = utcnow()


def _licence_correction_points(data) -> list[str]:
    points = data.get("points") or (data.get("comment") or "").splitlines()
    return [p.strip() for p in points if p and p.strip()]


def _licence_correction_guard(app, actor, data):
    points = _licence_correction_points(data)
    if not points:
        raise GuardFailed(_("请逐条填写需要补正的内容（每行一条）"))
    if len(points) > 50 or any(len(p) > 500 for p in points):
        raise GuardFailed(_("补正内容最多 50 条，每条不超过 500 个字"))


def _licence_request_correction(app, actor, data):
    app.correction_points = "\n".join(_licence_correction_points(data))
    app.correction_requested_at = utcnow()


def _licence_decide_with_reason(app, actor, data):
    app.decision_reason = data["comment"]
    app.decided_at = utcnow()


def _licence_accept_guard(app, actor, data):
    raw = data.get("assessor_org_id")
    try:
        org = db.session.get(Organization, int(raw)) if raw not in (None, "") else None
    except (TypeError, ValueError):
        org = None
    if org is None or org.kind != "assessor" or not org.is_approved:
        raise GuardFailed(_("请选择受委托的鉴定评审机构"))
    name = (data.get("contact_name") or org.contact_name or "").strip()
    phone = (data.get("contact_phone") or org.phone or org.contact_mobile or "").strip()
    if not name or not phone:
        raise GuardFailed(_("请填写鉴定评审机构的联系人和联系电话"))
    if len(name) > 50 or len(phone) > 30:
        raise GuardFailed(_("联系人不超过 50 个字，联系电话不超过 30 个字"))
    data["_assessor"], data["_contact_name"], data["_contact_phone"] = org, name, phone


def _licence_accept(app, actor, data):
    app.accepted_at = utcnow()
    app.acceptance_token = secrets.token_urlsafe(32)
    app.assessor_org = data["_assessor"]
    app.assessor_contact_name = data["_contact_name"]
    app.assessor_contact_phone = data["_contact_phone"]
    licence_clock.start(app, workdays.today())


def _licence_engage(app, actor, data):
    app.engaged_at = utcnow()
    licence_clock.pause(app, workdays.today())


def _licence_dates_guard(app, actor, data):
    start = _as_date(data.get("start"), _("评审开始日期"))
    end = _as_date(data.get("end") or data.get("start"), _("评审结束日期"))
    if start < workdays.today():
        raise GuardFailed(_("评审开始日期 %(day)s 已经过去，请选择今天或以后的日期", day=start.isoformat()))
    if end < start:
        raise GuardFailed(_("评审结束日期不能早于开始日期"))
    if end - start > timedelta(days=LICENCE_MAX_REVIEW_DAYS):
        raise GuardFailed(_("一次评审最长 %(n)d 天", n=LICENCE_MAX_REVIEW_DAYS))
    if app.proposed_start == start and app.proposed_end == end and app.proposed_by == _licence_side(actor):
        raise GuardFailed(_("您已提出过相同的评审时间，请等待对方确认"))
    data["_start"], data["_end"] = start, end


def _licence_side(actor) -> str:
    return "assessor" if actor.role == "assessor" else "enterprise"


def _licence_propose(app, actor, data):
    app.proposed_start, app.proposed_end = data["_start"], data["_end"]
    app.proposed_by = _licence_side(actor)


def _licence_confirm_guard(app, actor, data):
    if app.proposed_start is None:
        raise GuardFailed(_("尚无待确认的评审时间"))
    if app.proposed_start < workdays.today():
        raise GuardFailed(_("所提评审开始日期已经过去，请重新协商评审时间"))


def _licence_confirm(app, actor, data):
    app.review_start, app.review_end = app.proposed_start, app.proposed_end
    app.proposed_by = None


def _licence_report_guard(app, actor, data):
    report = data.get("report")
    if not isinstance(report, Upload):
        raise GuardFailed(_("请上传评审报告"))
    if data.get("conclusion") not in LICENCE_CONCLUSION_LABELS:
        raise GuardFailed(_("请选择评审结论"))


def _licence_report(app, actor, data):
    app.report_upload = data["report"]
    app.conclusion = data["conclusion"]
    app.report_comment = data.get("comment")
    app.reviewed_at = utcnow()
    licence_clock.resume(app, workdays.today())


def _licence_grant_guard(app, actor, data):
    if app.conclusion != "pass":
        raise GuardFailed(_("评审结论为“不符合许可条件”，不能准予许可"))
    number = (data.get("licence_number") or "").strip()
    if not number or len(number) > 40:
        raise GuardFailed(_("请填写许可证编号（不超过 40 个字）"))
    clash = db.session.execute(
        db.select(LicenceApplication.id).where(
            LicenceApplication.licence_number == number, LicenceApplication.id != app.id
        )
    ).first()
    if clash:
        raise GuardFailed(_("许可证编号“%(number)s”已被使用", number=number))
    valid_from = _as_date(data.get("valid_from") or workdays.today(), _("发证日期"))
    valid_until = _as_date(data.get("valid_until"), _("有效期至"))
    if valid_until <= valid_from or valid_until <= workdays.today():
        raise GuardFailed(_("有效期至必须晚于发证日期和今天"))
    data["_number"], data["_from"], data["_until"] = number, valid_from, valid_until


def _licence_grant(app, actor, data):
    app.licence_number = data["_number"]
    app.licence_valid_from = data["_from"]
    app.licence_valid_until = data["_until"]
    app.certificate_token = secrets.token_urlsafe(32)
    app.decided_at = utcnow()
    app.clock_started_on = None


def _licence_enterprise_users(app) -> list[User]:
    users = [u for u in app.organization.users if u.active and u.is_org_admin]
    if app.created_by is not None and app.created_by.active and app.created_by not in users:
        users.append(app.created_by)
    return users


def _licence_org_users(org) -> list[User]:
    return [u for u in org.users if u.active] if org is not None else []


def _licence_notify(app, t, actor, comment):
    number = app.number
    if t.action in ("submit", "resubmit"):
        title = _("新的生产许可申请 %(number)s 待受理", number=number)
        return [(u, title, None) for u in _licence_org_users(app.authority)]
    decisions = {
        "request_correction": _("您的许可申请 %(number)s 需要补正，请查看补正告知书", number=number),
        "reject": _("您的许可申请 %(number)s 不予受理：%(reason)s", number=number, reason=comment),
        "accept": _(
            "您的许可申请 %(number)s 已受理（初审通过），请查看受理决定书并约请鉴定评审机构", number=number
        ),
        "grant": _(
            "您的许可申请 %(number)s 准予许可，许可证编号 %(licence)s",
            number=number,
            licence=app.licence_number,
        ),
        "refuse": _("您的许可申请 %(number)s 不予许可：%(reason)s", number=number, reason=comment),
    }
    if t.action in decisions:
        title = decisions[t.action]
        return [(u, title, title) for u in _licence_enterprise_users(app)]
    if t.action == "engage":
        title = _("许可申请 %(number)s 已约请贵机构进行鉴定评审，请提出评审时间", number=number)
        return [(u, title, None) for u in _licence_org_users(app.assessor_org)]
    if t.action == "propose_dates":
        title = _("鉴定评审机构提出了评审时间，请确认或另提时间（%(number)s）", number=number)
        return [(u, title, None) for u in _licence_enterprise_users(app)]
    if t.action == "counter_propose":
        title = _("申请单位另提了评审时间，请确认（%(number)s）", number=number)
        return [(u, title, None) for u in _licence_org_users(app.assessor_org)]
    if t.action == "confirm_dates":
        title = _(
            "许可申请 %(number)s 的评审时间已确认：%(start)s 至 %(end)s",
            number=number,
            start=app.review_start.isoformat(),
            end=app.review_end.isoformat(),
        )
        users = _licence_enterprise_users(app) + _licence_org_users(app.assessor_org)
        return [(u, title, None) for u in users if u.id != actor.id]
    if t.action == "submit_report":
        title = _("许可申请 %(number)s 评审完成，请填写评审反馈表", number=number)
        staff = _("许可申请 %(number)s 评审完成，待作出许可决定", number=number)
        return [(u, title, None) for u in _licence_enterprise_users(app)] + [
            (u, staff, None) for u in _licence_org_users(app.authority)
        ]
    if t.action == "withdraw" and app.submitted_at is not None:
        title = _("许可申请 %(number)s 已被申请单位撤回", number=number)
        return [(u, title, None) for u in _licence_org_users(app.authority)]
    return []


_APPLICANT = frozenset({"enterprise"})
_REVIEWER = frozenset({"reviewer"})
_ASSESSOR = frozenset({"assessor"})

LICENCE_APPLICATION = register(
    Workflow(
        name="licence_application",
        model=LicenceApplication,
        states=LICENCE_STATUS_LABELS,
        title=lambda app: _(
            "生产许可申请 %(number)s（%(org)s）", number=app.number, org=app.organization.name
        ),
        notify=_licence_notify,
        deadline=licence_clock.deadline,
        transitions=(
            Transition(
                "submit",
                _l("提交申请"),
                ("draft",),
                "submitted",
                _APPLICANT,
                party=_licence_applicant,
                guard=_licence_submit_guard,
                effect=_licence_submit,
                confirm=_l("提交后不能再修改，确定提交吗？"),
                bulk=False,
            ),
            Transition(
                "resubmit",
                _l("补正后重新提交"),
                ("correction",),
                "submitted",
                _APPLICANT,
                party=_licence_applicant,
                guard=_licence_submit_guard,
                effect=_licence_submit,
                bulk=False,
            ),
            Transition(
                "withdraw",
                _l("撤回"),
                ("draft", "submitted", "correction"),
                "withdrawn",
                _APPLICANT,
                party=_licence_applicant,
                effect=_licence_withdraw,
                confirm=_l("撤回后本申请结束，确定撤回吗？"),
                bulk=False,
                style="danger",
            ),
            Transition(
                "request_correction",
                _l("补正告知"),
                ("submitted",),
                "correction",
                _REVIEWER,
                party=_licence_reviewer,
                guard=_licence_correction_guard,
                effect=_licence_request_correction,
                needs_comment=True,
                bulk=False,
                style="warning",
            ),
            Transition(
                "reject",
                _l("不予受理"),
                ("submitted",),
                "rejected",
                _REVIEWER,
                party=_licence_reviewer,
                effect=_licence_decide_with_reason,
                needs_comment=True,
                bulk=False,
                style="danger",
            ),
            Transition(
                "accept",
                _l("初审通过（受理）"),
                ("submitted",),
                "accepted",
                _REVIEWER,
                party=_licence_reviewer,
                guard=_licence_accept_guard,
                effect=_licence_accept,
                bulk=False,
                style="success",
            ),
            Transition(
                "engage",
                _l("约请鉴定评审机构"),
                ("accepted",),
                "engaged",
                _APPLICANT,
                party=_licence_applicant,
                effect=_licence_engage,
                bulk=False,
            ),
            Transition(
                "propose_dates",
                _l("提出评审时间"),
                ("engaged",),
                "engaged",
                _ASSESSOR,
                party=_licence_assessor,
                guard=_licence_dates_guard,
                effect=_licence_propose,
                bulk=False,
            ),
            Transition(
                "counter_propose",
                _l("另提评审时间"),
                ("engaged",),
                "engaged",
                _APPLICANT,
                party=_licence_may_counter,
                guard=_licence_dates_guard,
                effect=_licence_propose,
                bulk=False,
                style="secondary",
            ),
            Transition(
                "confirm_dates",
                _l("确认评审时间"),
                ("engaged",),
                "scheduled",
                frozenset({"enterprise", "assessor"}),
                party=_licence_may_confirm,
                guard=_licence_confirm_guard,
                effect=_licence_confirm,
                bulk=False,
                style="success",
            ),
            Transition(
                "submit_report",
                _l("提交评审报告"),
                ("scheduled",),
                "reviewed",
                _ASSESSOR,
                party=_licence_assessor,
                guard=_licence_report_guard,
                effect=_licence_report,
                bulk=False,
            ),
            Transition(
                "grant",
                _l("准予许可"),
                ("reviewed",),
                "granted",
                _REVIEWER,
                party=_licence_reviewer,
                guard=_licence_grant_guard,
                effect=_licence_grant,
                bulk=False,
                style="success",
            ),
            Transition(
                "refuse",
                _l("不予许可"),
                ("reviewed",),
                "refused",
                _REVIEWER,
                party=_licence_reviewer,
                effect=_licence_decide_with_reason,
                needs_comment=True,
                bulk=False,
                style="danger",
            ),
        ),
    )
)


# --------------------------------------------------------------------------------------------
# M3 workflows (personnel qualification applications)
# --------------------------------------------------------------------------------------------

# (M3 workflow tables go here)

from sqlalchemy.exc import IntegrityError  # noqa: E402  (M3 imports kept in the M3 section: parallel merges)

from . import qualifications  # noqa: E402
from .models import (  # noqa: E402
    CERTIFICATE_BASED_CATEGORIES,
    QUALIFICATION_CATEGORY_LABELS,
    QUALIFICATION_STATUS_LABELS,
    Division,
    PersonnelProject,
    QualificationApplication,
    QualificationCertificate,
)


def _qualification_applicant(app: QualificationApplication, actor: User) -> bool:
    return actor.id == app.applicant_id


def _qualification_authority(app: QualificationApplication, actor: User) -> bool:
    # Only reviewers of the authority the application is addressed to.
    return actor.organization_id is not None and actor.organization_id == app.authority_id


def _authority_reviewers(org: Organization) -> list[User]:
    return [u for u in org.users if u.role == "reviewer" and u.active]


def submit_qualification_application(
    person: User,
    project: PersonnelProject | None,
    category: str,
    province_code: str | None = None,
    work_unit: str | None = None,
    remarks: str | None = None,
) -> QualificationApplication:
    """Start a personnel qualification application in 待受理, addressed to the authority of the
    project's approval level (SAMR, or the bureau of the person's province).

    Refusals raise a WorkflowError with a Chinese message and add nothing. Flushes, does not
    commit; the reviewers of the authority get an in-app notice."""
    if person is None or person.role != "person":
        raise NotPermitted(_("只有个人用户可以提交资格认定申请"))
    if not person.real_name or not person.id_number:
        raise GuardFailed(_("请先在个人信息中完善姓名和身份证号后再申请"))
    if project is None or not project.active:
        raise GuardFailed(_("所选项目不存在或已停用，请重新选择"))
    if not project.approval_level:
        raise GuardFailed(_("该项目的审批层级尚未确定，暂不能申请，请联系系统管理员"))
    if category not in QUALIFICATION_CATEGORY_LABELS:
        raise GuardFailed(_("请选择申请类别"))
    work_unit = (work_unit or "").strip() or None
    remarks = (remarks or "").strip() or None
    if work_unit and len(work_unit) > 120:
        raise GuardFailed(_("工作单位不能超过 120 个字"))
    if remarks and len(remarks) > 500:
        raise GuardFailed(_("申请说明不能超过 500 个字"))
    if category == "change" and not remarks:
        raise GuardFailed(_("“变更”申请须在申请说明中写明变更事项"))

    province_code = province_code or qualifications.province_from_id_number(person.id_number)
    if province_code:
        province = db.session.get(Division, province_code)
        if province is None or province.level != 1:
            raise GuardFailed(_("所选省份不正确，请重新选择"))
    if project.approval_level == "provincial" and not province_code:
        raise GuardFailed(_("省级审批的项目须选择所在省份"))
    authority = qualifications.find_authority(project.approval_level, province_code)
    if authority is None:
        if project.approval_level == "national":
            raise GuardFailed(_("未找到国家级审批机关，请联系系统管理员"))
        raise GuardFailed(
            _(
                "未找到 %(province)s 的审批机关，暂不能提交，请联系系统管理员",
                province=db.session.get(Division, province_code).name,
            )
        )

    open_one = db.session.execute(
        db.select(QualificationApplication).where(
            QualificationApplication.applicant_id == person.id,
            QualificationApplication.project_id == project.id,
            QualificationApplication.status.in_(("pending", "received")),
        )
    ).scalar()
    if open_one is not None:
        raise GuardFailed(
            _(
                "您已有该项目正在办理的申请（%(state)s），不能重复提交",
                state=QUALIFICATION_STATUS_LABELS[open_one.status],
            )
        )
    today = workdays.today()
    held = qualifications.current_certificate(person, project.id, today)
    category_label = QUALIFICATION_CATEGORY_LABELS[category]
    if category in CERTIFICATE_BASED_CATEGORIES and held is None:
        raise GuardFailed(
            _(
                "申请“%(category)s”须持有该项目（%(project)s）的有效资格证书，未找到您的有效证书；"
                "首次申请请选择“取证”",
                category=category_label,
                project=str(project),
            )
        )
    if category == "initial" and held is not None:
        raise GuardFailed(
            _(
                "您已持有该项目的有效资格证书（编号 %(number)s），请选择考试换证、审核换证或变更",
                number=held.number,
            )
        )

    application = QualificationApplication(
        applicant_id=person.id,
        applicant_name=person.real_name,
        applicant_id_number=person.id_number,
        work_unit=work_unit,
        province_code=province_code,
        project_id=project.id,
        personnel_type=project.personnel_type,
        project_code=project.code,
        project_name=project.name,
        project_level=project.level,
        approval_level=project.approval_level,
        application_year=today.year,
        category=category,
        authority_id=authority.id,
        base_certificate_id=held.id if category in CERTIFICATE_BASED_CATEGORIES else None,
        remarks=remarks,
        applied_on=today,
    )
    try:
        # The partial unique index refuses a second open application (double click, two tabs).
        with db.session.begin_nested():
            db.session.add(application)
    except IntegrityError:
        raise GuardFailed(_("您已有该项目正在办理的申请，不能重复提交")) from None
    audit.record(
        "record_created",
        user=person,
        obj=application,
        comment=_(
            "提交资格认定申请：%(category)s，%(project)s，提交机构：%(authority)s",
            category=category_label,
            project=application.project_label,
            authority=authority.name,
        ),
    )
    title = _(
        "%(name)s提交了资格认定申请（%(project)s，%(category)s）",
        name=person.real_name,
        project=application.project_label,
        category=category_label,
    )
    for reviewer in _authority_reviewers(authority):
        notify.notify_user(reviewer, title)
    return application


def _parse_date(value, label) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise GuardFailed(_("%(label)s格式不正确，应为 YYYY-MM-DD", label=label)) from None


def _receive_qualification(app, actor, data):
    app.accepted_on = workdays.today()


def _approve_qualification_guard(app, actor, data):
    today = workdays.today()
    issued_on = _parse_date(data.get("issued_on"), _("发证日期")) or today
    valid_until = _parse_date(data.get("valid_until"), _("有效期至"))
    if valid_until is None:
        raise GuardFailed(_("审核通过须填写证书有效期至"))
    if issued_on > today:
        raise GuardFailed(_("发证日期不能晚于今天"))
    if valid_until <= issued_on:
        raise GuardFailed(_("有效期至必须晚于发证日期"))
    number = (data.get("number") or "").strip()
    if number:
        if len(number) > 40 or any(ch.isspace() for ch in number):
            raise GuardFailed(_("证书编号不能超过 40 个字符，且不能包含空格"))
        if qualifications.certificate_number_taken(number):
            raise GuardFailed(_("证书编号“%(number)s”已存在，请更换", number=number))
    base = app.base_certificate
    if base is not None and base.status == "revoked":
        raise GuardFailed(_("原资格证书（编号 %(number)s）已被撤销，不能换证或变更", number=base.number))
    data.update(issued_on=issued_on, valid_until=valid_until, number=number or None)


def _issue_qualification_certificate(app, actor, data):
    """已审核: issue the certificate; a renewal or change replaces the certificate it was based on."""
    number = data["number"] or qualifications.next_certificate_number(app.authority, data["issued_on"].year)
    certificate = QualificationCertificate(
        number=number,
        holder_id=app.applicant_id,
        holder_name=app.applicant_name,
        holder_id_number=app.applicant_id_number,
        project_id=app.project_id,
        personnel_type=app.personnel_type,
        project_code=app.project_code,
        project_name=app.project_name,
        level=app.project_level,
        issued_on=data["issued_on"],
        valid_until=data["valid_until"],
        authority_id=app.authority_id,
        status="valid",
    )
    db.session.add(certificate)
    app.certificate = certificate
    base = app.base_certificate
    if base is not None and base.status == "valid":
        base.status = "superseded"
    app.decided_on = workdays.today()


def _reject_qualification(app, actor, data):
    app.reject_reason = data["comment"]
    app.decided_on = workdays.today()


def _notify_qualification(app, t, actor, comment):
    project = app.project_label
    if t.action == "receive":
        title = _("您的资格认定申请（%(project)s）材料已接收", project=project)
    elif t.action == "approve":
        cert = app.certificate
        title = _(
            "您的资格认定申请（%(project)s）已审核通过，证书编号 %(number)s，有效期至 %(until)s",
            project=project,
            number=cert.number,
            until=cert.valid_until.isoformat(),
        )
    elif t.action == "reject":
        title = _("您的资格认定申请（%(project)s）不予批准：%(reason)s", project=project, reason=comment)
    elif t.action == "withdraw":
        title = _("%(name)s撤回了资格认定申请（%(project)s）", name=app.applicant_name, project=project)
        return [(u, title, None) for u in _authority_reviewers(app.authority)]
    else:
        return []
    return [(app.applicant, title, title)]


def _qualification_deadline(app) -> date | None:
    # Administrative Licensing Law: accept or refuse within 5 working days (art. 32), decide
    # within 20 working days of acceptance (art. 42); art. 82 counts working days.
    if app.status == "pending" and app.applied_on:
        return workdays.add_working_days(app.applied_on, 5)
    if app.status == "received" and app.accepted_on:
        return workdays.add_working_days(app.accepted_on, 20)
    return None


QUALIFICATION_APPLICATION = register(
    Workflow(
        name="qualification_application",
        model=QualificationApplication,
        states=QUALIFICATION_STATUS_LABELS,
        title=lambda app: _(
            "人员资格认定申请：%(name)s %(project)s", name=app.applicant_name, project=app.project_label
        ),
        notify=_notify_qualification,
        deadline=_qualification_deadline,
        transitions=(
            Transition(
                "receive",
                _l("接收材料"),
                ("pending",),
                "received",
                frozenset({"reviewer"}),
                party=_qualification_authority,
                effect=_receive_qualification,
                confirm=_l("确定已接收申请材料吗？受理日期将记为今天。"),
                style="primary",
            ),
            Transition(
                "approve",
                _l("审核通过"),
                ("received",),
                "approved",
                frozenset({"reviewer"}),
                party=_qualification_authority,
                guard=_approve_qualification_guard,
                effect=_issue_qualification_certificate,
                confirm=_l("确定审核通过并颁发资格证书吗？"),
                bulk=False,
                style="success",
            ),
            Transition(
                "reject",
                _l("不予批准"),
                ("received",),
                "rejected",
                frozenset({"reviewer"}),
                party=_qualification_authority,
                effect=_reject_qualification,
                needs_comment=True,
                style="danger",
            ),
            Transition(
                "withdraw",
                _l("撤回"),
                ("pending",),
                "withdrawn",
                frozenset({"person"}),
                party=_qualification_applicant,
                confirm=_l("确定撤回该申请吗？撤回后如需办理须重新申请。"),
                style="secondary",
            ),
        ),
    )
)


def due_label(deadline: date | datetime | None) -> str | None:
    if deadline is None:
        return None
    return deadline.isoformat() if isinstance(deadline, date) else deadline.date().isoformat()
