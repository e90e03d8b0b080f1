"""统计分析 of production licence applications: by state, by equipment category of the items
applied for, and decisions on time or late against the statutory clock (ecqs.licences.clock).

Counts are GROUP BY over the grids' row scope. The clock needs the Chinese working-day
calendar, which SQL does not know: that table reads the decided and running applications'
dates (a few columns per application of the scope) and counts in Python."""

from __future__ import annotations

from sqlalchemy import func, select

from ecqs import access
from ecqs.access import division_range
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.licences import clock
from ecqs.licences.models import licence_application_items
from ecqs.models import (
    LICENCE_CATEGORY_LABELS,
    LICENCE_STATUS_LABELS,
    LicenceApplication,
    LicenceItem,
    Organization,
)
from ecqs.services import workdays
from ecqs.services.statistics import Filters, Module, Report, label, percent, register

DECIDED = ("granted", "refused")


def _conditions(filters: Filters) -> list:
    conditions = filters.period(LicenceApplication.submitted_at, timestamp=True)
    if filters.division:
        conditions.append(
            LicenceApplication.organization_id.in_(
                select(Organization.id).where(division_range(Organization.division_code, filters.division))
            )
        )
    if filters.category in LICENCE_CATEGORY_LABELS:
        conditions.append(LicenceApplication.category == filters.category)
    if filters.status in LICENCE_STATUS_LABELS:
        conditions.append(LicenceApplication.status == filters.status)
    return conditions


def used_days_at_decision(app) -> int | None:
    """Working days the authority used from acceptance to decision, the expert review excluded."""
    if app.accepted_at is None or app.decided_at is None:
        return None
    accepted, decided = (
        app.accepted_at.astimezone(workdays.CN).date(),
        app.decided_at.astimezone(workdays.CN).date(),
    )
    if app.engaged_at is not None and app.reviewed_at is not None:
        paused_from = app.engaged_at.astimezone(workdays.CN).date()
        resumed = app.reviewed_at.astimezone(workdays.CN).date()
        return workdays.working_days_between(accepted, paused_from) + workdays.working_days_between(
            resumed, decided
        )
    return workdays.working_days_between(accepted, decided)


def compute(user, filters: Filters) -> list[Report]:
    conditions = _conditions(filters)
    stmt = access.scoped(
        select(LicenceApplication.status, func.count())
        .where(*conditions)
        .group_by(LicenceApplication.status),
        LicenceApplication,
        user,
    )
    by_status = dict(db.session.execute(stmt).all())
    order = list(LICENCE_STATUS_LABELS)
    reports = [
        Report(
            "licence_status",
            _("许可申请按状态"),
            [_("状态"), _("数量")],
            [[label(LICENCE_STATUS_LABELS, s), by_status[s]] for s in sorted(by_status, key=order.index)],
            chart="pie",
        )
    ]
    granted = func.sum(func.coalesce((LicenceApplication.status == "granted").cast(db.Integer), 0))
    stmt = access.scoped(
        select(LicenceItem.equipment_category, func.count(func.distinct(LicenceApplication.id)), granted)
        .join(licence_application_items, licence_application_items.c.application_id == LicenceApplication.id)
        .join(LicenceItem, LicenceItem.id == licence_application_items.c.item_id)
        .where(*conditions)
        .group_by(LicenceItem.equipment_category)
        .order_by(LicenceItem.equipment_category),
        LicenceApplication,
        user,
    )
    reports.append(
        Report(
            "licence_category",
            _("许可申请按设备类别"),
            [_("设备类别"), _("申请数"), _("准予许可项次")],
            [[category, n, int(g or 0)] for category, n, g in db.session.execute(stmt)],
            chart_columns=(1, 2),
            note=_("一份申请可含多个类别的项目，按类别分别计数"),
        )
    )
    reports.append(_clock_report(user, conditions))
    return reports


def _clock_report(user, conditions) -> Report:
    stmt = access.scoped(
        select(LicenceApplication).where(
            LicenceApplication.status.in_((*DECIDED, *clock.RUNNING_STATES, "submitted")),
            LicenceApplication.accepted_at.is_not(None) | (LicenceApplication.status == "submitted"),
            *conditions,
        ),
        LicenceApplication,
        user,
    )
    today = workdays.today()
    counts = {"on_time": 0, "late": 0, "running": 0, "overdue": 0}
    for app in db.session.execute(stmt).scalars():
        if app.status in DECIDED:
            used = used_days_at_decision(app)
            if used is not None:
                counts["on_time" if used <= clock.DECISION_DAYS else "late"] += 1
        else:
            due = clock.deadline(app)
            if due is not None:
                counts["overdue" if due < today else "running"] += 1
    decided = counts["on_time"] + counts["late"]
    return Report(
        "licence_clock",
        _("法定时限：按期与超期"),
        [_("情形"), _("数量"), _("占比（%）")],
        [
            [_("按期作出决定"), counts["on_time"], percent(counts["on_time"], decided)],
            [_("超期作出决定"), counts["late"], percent(counts["late"], decided)],
            [_("办理中（未超期）"), counts["running"], ""],
            [_("办理中（已超期）"), counts["overdue"], ""],
        ],
        note=_("许可决定期限为受理后 %(n)d 个工作日，鉴定评审期间不计时", n=clock.DECISION_DAYS),
    )


def choices(user) -> dict:
    return {
        "category": [(k, str(v)) for k, v in LICENCE_CATEGORY_LABELS.items()],
        "status": [(k, str(v)) for k, v in LICENCE_STATUS_LABELS.items() if k != "draft"],
    }


MODULE = register(Module("licences", _l("生产许可统计"), compute, choices))
