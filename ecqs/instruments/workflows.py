"""State tables of the instruments domain: instrument status (在用/停用/报废), bookings and
booking items (allocation, acceptance, result)."""

from __future__ import annotations

import weakref
from datetime import date

from sqlalchemy import select

from ecqs.accounts.workflows import org_admins
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.instruments import allocation as instrument_allocation
from ecqs.instruments import rules
from ecqs.instruments.scopes import LEDGER_ROLES, works_for
from ecqs.models import (
    BOOKING_ITEM_STATUS_LABELS,
    BOOKING_STATUS_LABELS,
    INSTRUMENT_STATUS_LABELS,
    OPEN_ITEM_STATES,
    VERIFICATION_RESULT_LABELS,
    Booking,
    BookingItem,
    Instrument,
    utcnow,
)
from ecqs.services import workdays
from ecqs.workflows import (
    SYSTEM,
    Field,
    GuardFailed,
    SystemActor,
    Then,
    Transition,
    Workflow,
    register,
    transition,
)

# An institution's answer to an allocated item: 受理, 检定结果 or 退回. The enterprise's own
# 取消预约 is no answer (issue 11).
ANSWERED_ITEM_STATES = ("accepted", "verified", "returned")


def booking_answered(states) -> bool:
    """已反馈: no allocated item still waits, and at least one has its institution's answer
    (items the enterprise cancelled or that found no institution do not count)."""
    states = list(states)
    return "allocated" not in states and any(s in ANSWERED_ITEM_STATES for s in states)


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
        colours={"in_use": "success", "stopped": "warning", "scrapped": "secondary"},
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


def _submit_guard(booking, actor, data):
    if not booking.items:
        raise GuardFailed(_("请先选择要预约的器具"))
    for item in booking.items:
        if item.instrument.status != "in_use":
            raise GuardFailed(_("器具“%(name)s”不是在用状态，不能预约", name=item.instrument))


def _submit(booking, actor, data):
    # The plan is made here, before the state is set, so that the submit notification can name
    # the institutions; the `after` hook turns it into one allocate transition per item.
    _plans[booking] = allocation_plan([i for i in booking.items if i.status == "pending"])
    booking.submitted_at = utcnow()


# booking -> [(item, institution)] between the submit effect and its after hook.
_plans: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def allocation_plan(items) -> list[tuple]:
    """(item, institution) for each 待预约 item that an authorised institution can take; the
    load is balanced across the items in memory. Items with none stay 待预约 (retried later)."""
    load: dict[int, int] = {}
    candidates: dict = {}
    plan = []
    for item in items:
        institution = instrument_allocation.find_institution(item.instrument, load, candidates)
        if institution is not None:
            plan.append((item, institution))
    return plan


def _allocate_planned(booking, actor, data):
    system = SystemActor(actor)
    return [
        Then(item, "allocate", system, data={"institution": institution})
        for item, institution in _plans.pop(booking, ())
    ]


def allocate_items(items, actor) -> int:
    """Allocate 待预约 items of submitted bookings to authorised institutions; returns how many
    found one. Items with no authorised institution stay 待预约 (retried later)."""
    system = SystemActor(actor)
    plan = allocation_plan(items)
    for item, institution in plan:
        transition(item, "allocate", system, institution=institution)
    return len(plan)


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


def _notify_submitted(booking, actor, comment):
    """One notice per institution, naming how many items of this booking it is to handle."""
    per_institution: dict[int, list] = {}
    for _item, institution in _plans.get(booking, ()):
        per_institution.setdefault(institution.id, [institution, 0])[1] += 1
    out = []
    for institution, n in per_institution.values():
        title = _("%(org)s 提交了 %(n)d 件强检器具的检定预约，请及时受理", org=booking.organization.name, n=n)
        out.extend((u, title, None) for u in org_admins(institution))
    return out


BOOKING = register(
    Workflow(
        name="booking",
        model=Booking,
        states=BOOKING_STATUS_LABELS,
        title=lambda b: _("预约单 %(number)s", number=b),
        colours={"draft": "secondary", "submitted": "primary", "answered": "success"},
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
                notify=_notify_submitted,
                after=_allocate_planned,
            ),
            # Automatic: every allocated item has its institution's answer / a new allocation.
            Transition("feedback", _l("已反馈"), ("submitted",), "answered", SYSTEM, bulk=False),
            Transition("reopen", _l("重新待反馈"), ("answered",), "submitted", SYSTEM, bulk=False),
        ),
    )
)


def _sync_booking(item, actor, data) -> list[Then]:
    """The booking follows its items: 已反馈 once every allocated item has its institution's
    answer (`booking_answered`); back to 已提交 when an item is allocated again."""
    booking = item.booking
    states = [i.status for i in booking.items]
    system = SystemActor(actor)
    if booking.status == "submitted":
        if booking_answered(states):
            return [Then(booking, "feedback", system)]
    elif booking.status == "answered" and "allocated" in states:
        return [Then(booking, "reopen", system)]
    return []


def _institution_party(item, actor) -> bool:
    return actor.organization_id is not None and item.institution_id == actor.organization_id


def _booking_party(item, actor) -> bool:
    return works_for(actor, item.booking.organization_id)


def _allocate_guard(item, actor, data):
    institution = data.get("institution")
    instrument = item.instrument
    if (
        item.booking.status == "draft"
        or institution is None
        or not rules.is_authorised(institution, instrument.kind_id, instrument.usage_division_code)
    ):
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
    # Check constraints tie the result to the state the engine sets next: no flush in between.
    with db.session.no_autoflush:
        item.result = data["result"]
        item.certificate_no = data["certificate_no"].strip()
        item.verified_on = data["verified_on"]
        item.new_valid_until = data.get("valid_until")
        item.answered_at = item.answered_at or utcnow()
        # The only way 有效期至 moves after the instrument was added.
        if item.new_valid_until is not None:
            item.instrument.valid_until = item.new_valid_until


def _to_booker(title_of):
    """Notify whoever created the booking, with the title this transition writes."""

    def notify(item, actor, comment):
        creator = item.booking.created_by
        return [(creator, title_of(item, comment), None)] if creator is not None else []

    return notify


def _accepted_title(item, comment):
    return _("您预约的器具“%(name)s”已被 %(org)s 受理", name=str(item.instrument), org=item.institution.name)


def _returned_title(item, comment):
    return _("您预约的器具“%(name)s”被退回：%(reason)s", name=str(item.instrument), reason=comment)


def _result_title(item, comment):
    return _(
        "器具“%(name)s”检定结论：%(result)s，有效期至 %(date)s",
        name=str(item.instrument),
        result=VERIFICATION_RESULT_LABELS[item.result],
        date=item.new_valid_until or "-",
    )


def _result_choices(item, actor):
    return list(VERIFICATION_RESULT_LABELS.items())


RESULT_FIELDS = (
    Field("result", _l("检定结论"), kind="choice", choices=_result_choices),
    Field("certificate_no", _l("证书编号"), max_length=60),
    Field("verified_on", _l("检定日期"), kind="date"),
    Field("valid_until", _l("有效期至"), kind="date", required=False),
)


BOOKING_ITEM = register(
    Workflow(
        name="booking_item",
        model=BookingItem,
        states=BOOKING_ITEM_STATUS_LABELS,
        title=lambda item: _(
            "强检器具预约：%(name)s（%(org)s）", name=item, org=item.booking.organization.name
        ),
        colours={
            "pending": "secondary",
            "allocated": "warning",
            "accepted": "info",
            "verified": "success",
            "returned": "danger",
            "cancelled": "dark",
        },
        transitions=(
            Transition(
                "allocate",
                _l("分配"),
                ("pending",),
                "allocated",
                SYSTEM,
                guard=_allocate_guard,
                effect=_allocate,
                after=_sync_booking,
                bulk=False,
            ),
            Transition(
                "accept",
                _l("受理"),
                ("allocated",),
                "accepted",
                frozenset({"metrology"}),
                party=_institution_party,
                effect=_accept,
                after=_sync_booking,
                notify=_to_booker(_accepted_title),
                style="success",
            ),
            Transition(
                "return",
                _l("退回"),
                ("allocated", "accepted"),
                "returned",
                frozenset({"metrology"}),
                party=_institution_party,
                effect=_return,
                after=_sync_booking,
                notify=_to_booker(_returned_title),
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
                fields=RESULT_FIELDS,
                effect=_record_result,
                after=_sync_booking,
                notify=_to_booker(_result_title),
                bulk=False,
            ),
            Transition(
                "cancel",
                _l("取消预约"),
                ("allocated",),
                "cancelled",
                LEDGER_ROLES,
                party=_booking_party,
                after=_sync_booking,
                confirm=_l("确定取消选中器具的预约吗？"),
                style="danger",
                todo=False,
            ),
        ),
    )
)
