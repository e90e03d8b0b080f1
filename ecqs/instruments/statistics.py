"""统计分析 of compulsory-verification instruments: the ledger by status and by division with
the overdue share, booking items by allocation result and the institutions' turnaround.

Every figure is one GROUP BY over the grids' own row scope (`access.scoped`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, func, select

from ecqs import access
from ecqs.access import division_range
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import (
    BOOKING_ITEM_STATUS_LABELS,
    EXPIRY_WARNING_DAYS,
    INSTRUMENT_STATUS_LABELS,
    BookingItem,
    Instrument,
    InstrumentItem,
    InstrumentKind,
    Organization,
)
from ecqs.services import workdays
from ecqs.services.statistics import (
    STATISTICS_ROLES,
    Filters,
    Module,
    Report,
    division_names,
    label,
    percent,
    register,
)


def _group_length(user, filters: Filters) -> int:
    """Group by province for the whole country, by city within a province, by county below."""
    prefix = filters.division or access.reviewer_province(user) or ""
    return min(6, len(prefix) + 2)


def _instrument_conditions(filters: Filters) -> list:
    conditions = filters.period(Instrument.created_at, timestamp=True)
    if filters.division:
        conditions.append(division_range(Instrument.usage_division_code, filters.division))
    if filters.category.isdigit():
        conditions.append(
            Instrument.kind_id.in_(
                select(InstrumentKind.id).where(InstrumentKind.item_id == int(filters.category))
            )
        )
    if filters.status in INSTRUMENT_STATUS_LABELS:
        conditions.append(Instrument.status == filters.status)
    return conditions


def ledger_figures(user, filters: Filters):
    """(division prefix, status, count, overdue, due within 30 days) rows: the one scan behind
    both ledger tables.

    It reads the covering index ix_instruments_division_status_valid alone: grouped by the full
    division code and status in index order, rolled up to the shown level here; the range of
    the reviewer's province is repeated in index-friendly form (the scope itself keeps the
    grids' `+column` form, which SQLite cannot search)."""
    today = workdays.today()
    live = Instrument.status != "scrapped"
    n = _group_length(user, filters)
    division = Instrument.usage_division_code
    stmt = select(
        division,
        Instrument.status,
        func.count(),
        func.sum(case(((Instrument.valid_until < today) & live, 1), else_=0)),
        func.sum(
            case(
                (
                    (Instrument.valid_until >= today)
                    & (Instrument.valid_until <= today + timedelta(days=EXPIRY_WARNING_DAYS))
                    & live,
                    1,
                ),
                else_=0,
            )
        ),
    ).where(*_instrument_conditions(filters))
    province = access.reviewer_province(user) if user.role == "reviewer" else None
    if province and not filters.division:
        stmt = stmt.where(division_range(Instrument.usage_division_code, province))
    stmt = access.scoped(stmt, Instrument, user).group_by(division, Instrument.status)
    rolled: dict[tuple, list[int]] = {}
    for code, status, count, overdue, due_soon in db.session.execute(stmt):
        figures = rolled.setdefault((code[:n], status), [0, 0, 0])
        figures[0] += count
        figures[1] += int(overdue or 0)
        figures[2] += int(due_soon or 0)
    return [(code, status, *figures) for (code, status), figures in rolled.items()]


def compute(user, filters: Filters) -> list[Report]:
    rows = ledger_figures(user, filters)
    by_status: dict[str, int] = {}
    by_division: dict[str, list[int]] = {}
    for division, status, count, overdue, due_soon in rows:
        by_status[status] = by_status.get(status, 0) + count
        figures = by_division.setdefault(division, [0, 0, 0])
        figures[0] += count
        figures[1] += int(overdue or 0)
        figures[2] += int(due_soon or 0)
    names = division_names(by_division)
    reports = [
        Report(
            "instrument_status",
            _("强检器具按状态"),
            [_("状态"), _("数量")],
            [
                [label(INSTRUMENT_STATUS_LABELS, status), by_status[status]]
                for status in sorted(by_status, key=lambda s: list(INSTRUMENT_STATUS_LABELS).index(s))
            ],
            chart="pie",
        ),
        Report(
            "instrument_division",
            _("强检器具按区划（含超期占比）"),
            [_("区划"), _("数量"), _("已超期"), _("30 天内到期"), _("超期占比（%）")],
            [
                [names.get(code, code), total, overdue, due_soon, percent(overdue, total)]
                for code, (total, overdue, due_soon) in sorted(by_division.items())
            ],
            chart="bar",
            chart_columns=(1, 2, 3),
        ),
    ]
    reports.extend(booking_reports(user, filters))
    return reports


def _days_between(later, earlier):
    if db.engine.dialect.name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return func.extract("epoch", later - earlier) / 86400.0


def _scoped_items(stmt, user):
    """Booking items joined to their instrument and scoped by the INSTRUMENT's scope.

    For the roles of the statistics pages this is the booking items' own scope (reviewer: the
    instrument is used in its province; admin: all; association: none — a test holds the two
    equal), but it costs one lookup per booking item instead of the list of every instrument
    id of the province that the booking-item scope's IN (subquery) builds."""
    if user.role not in STATISTICS_ROLES:
        return access.scoped(stmt, BookingItem, user)
    return access.scoped(stmt.join(Instrument, Instrument.id == BookingItem.instrument_id), Instrument, user)


def booking_reports(user, filters: Filters) -> list[Report]:
    conditions = filters.period(BookingItem.allocated_at, timestamp=True)
    if filters.division or filters.category.isdigit():
        conditions.extend(
            _instrument_conditions(Filters(division=filters.division, category=filters.category))
        )
    stmt = _scoped_items(
        select(BookingItem.status, func.count())
        .select_from(BookingItem)
        .where(*conditions)
        .group_by(BookingItem.status),
        user,
    )
    counts = dict(db.session.execute(stmt).all())
    order = list(BOOKING_ITEM_STATUS_LABELS)
    allocation = Report(
        "booking_allocation",
        _("预约器具按分配结果"),
        [_("结果"), _("数量")],
        [[label(BOOKING_ITEM_STATUS_LABELS, s), counts[s]] for s in sorted(counts, key=order.index)],
    )
    days = _days_between(BookingItem.answered_at, BookingItem.allocated_at)
    stmt = _scoped_items(
        select(Organization.name, func.count(), func.avg(days), func.max(days))
        .select_from(BookingItem)
        .join(Organization, Organization.id == BookingItem.institution_id)
        .where(BookingItem.answered_at.is_not(None), BookingItem.allocated_at.is_not(None), *conditions)
        .group_by(Organization.name)
        .order_by(Organization.name),
        user,
    )
    turnaround = Report(
        "institution_turnaround",
        _("检定机构办理时长"),
        [_("检定机构"), _("已办结"), _("平均天数"), _("最长天数")],
        [
            [name, n, round(float(avg or 0), 1), round(float(top or 0), 1)]
            for name, n, avg, top in db.session.execute(stmt)
        ],
        chart_columns=(2,),
        note=_("办理时长：从分配到机构反馈（受理、退回）之间的自然日"),
    )
    return [allocation, turnaround]


def choices(user) -> dict:
    items = db.session.execute(
        select(InstrumentItem.id, InstrumentItem.name).order_by(InstrumentItem.code)
    ).all()
    return {
        "category": [(str(i), name) for i, name in items],
        "status": [(k, str(v)) for k, v in INSTRUMENT_STATUS_LABELS.items()],
    }


MODULE = register(Module("instruments", _l("强检器具统计"), compute, choices))
