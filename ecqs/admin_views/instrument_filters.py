"""Grid filters of the instrument module: item, kind, division (with everything below it),
status and expiry (overdue / due within 30 days). Option lists come from the database at
request time (Flask-Admin computes filter options when the view is created, before any
database exists), see DynamicFilterMixin."""

from __future__ import annotations

from datetime import timedelta

from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_login import current_user
from sqlalchemy import and_, select

from ecqs import access
from ecqs.extensions import db
from ecqs.i18n import lazy_gettext as _l
from ecqs.instruments import scopes as instrument_scopes
from ecqs.models import (
    BOOKING_ITEM_STATUS_LABELS,
    EXPIRY_WARNING_DAYS,
    INSTRUMENT_STATUS_LABELS,
    Division,
    Instrument,
    InstrumentItem,
    InstrumentKind,
)
from ecqs.services import short_cache, workdays


def division_prefix(code: str) -> str:
    """610100 → 6101, 610000 → 61, 610113 → 610113."""
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


class _OptionsFilter(BaseSQLAFilter):
    dynamic = True

    def __init__(self, column, name):
        super().__init__(column, name, options=None)

    def options_now(self):
        raise NotImplementedError

    def operation(self):
        return _l("等于")


class ItemFilter(_OptionsFilter):
    def __init__(self, kind_column=Instrument.kind_id):
        super().__init__(kind_column, _l("器具项别"))

    def options_now(self):
        def compute():
            rows = db.session.execute(
                select(InstrumentItem.id, InstrumentItem.name).order_by(InstrumentItem.code)
            )
            return [(str(i), n) for i, n in rows]

        return short_cache.remember("filter_options", ("items",), compute)

    def clean(self, value):
        return int(value)

    def apply(self, query, value, alias=None):
        kinds = select(InstrumentKind.id).where(InstrumentKind.item_id == value)
        return query.filter(self.column.in_(kinds))


class KindFilter(_OptionsFilter):
    def __init__(self, kind_column=Instrument.kind_id):
        super().__init__(kind_column, _l("器具种别"))

    def options_now(self):
        def compute():
            rows = db.session.execute(
                select(InstrumentKind.id, InstrumentKind.name, InstrumentItem.name)
                .join(InstrumentItem)
                .order_by(InstrumentItem.code, InstrumentKind.code)
            )
            return [(str(i), f"{item} / {kind}") for i, kind, item in rows]

        return short_cache.remember("filter_options", ("kinds",), compute)

    def clean(self, value):
        return int(value)

    def apply(self, query, value, alias=None):
        return query.filter(self.column == value)


class DivisionFilter(_OptionsFilter):
    """使用地点行政区划: the chosen division and everything below it."""

    def __init__(self, column=Instrument.usage_division_code, name=_l("使用地点行政区划")):
        super().__init__(column, name)

    def operation(self):
        return _l("属于")

    def options_now(self):
        prefix = access.reviewer_province(current_user) if current_user.role == "reviewer" else ""
        org_id = instrument_scopes.instrument_org_id(current_user)
        # The key is the scope the options are computed for: a province, an own ledger, or all.
        return short_cache.remember(
            "filter_options", ("divisions", prefix, org_id), lambda: self._options(prefix, org_id)
        )

    @staticmethod
    def _options(prefix: str, org_id: int | None) -> list[tuple[str, str]]:
        stmt = select(Division.code, Division.name, Division.level).where(Division.level <= 2)
        if prefix:
            stmt = stmt.where(access.division_range(Division.code, prefix))
        if org_id:
            used = db.session.execute(
                select(Instrument.usage_division_code).where(Instrument.organization_id == org_id).distinct()
            ).scalars()
            codes = set()
            for code in used:
                codes.update({code, code[:4] + "00", code[:2] + "0000"})
            stmt = select(Division.code, Division.name, Division.level).where(Division.code.in_(codes))
        rows = db.session.execute(stmt.order_by(Division.code)).all()
        return [(code, ("　" * (level - 1)) + name) for code, name, level in rows]

    def clean(self, value):
        value = str(value).strip()
        if len(value) != 6 or not value.isdigit():
            raise ValueError(value)
        return value

    def apply(self, query, value, alias=None):
        return query.filter(access.division_range(self.column, division_prefix(value)))


class StatusFilter(BaseSQLAFilter):
    def __init__(self, column=Instrument.status, labels=INSTRUMENT_STATUS_LABELS, name=_l("状态")):
        super().__init__(column, name, options=[(k, v) for k, v in labels.items()])

    def operation(self):
        return _l("等于")

    def apply(self, query, value, alias=None):
        return query.filter(self.column == value)


class ItemStatusFilter(StatusFilter):
    def __init__(self, column):
        super().__init__(column, BOOKING_ITEM_STATUS_LABELS, _l("流程状态"))


EXPIRY_OPTIONS = [
    ("overdue", _l("已超期")),
    ("due_soon", _l("30天内到期")),
    ("valid", _l("未到期")),
    ("missing", _l("未填写")),
]


def expiry_condition(value: str, column=Instrument.valid_until):
    today = workdays.today()
    soon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    if value == "overdue":
        return column < today
    if value == "due_soon":
        return and_(column >= today, column <= soon)
    if value == "valid":
        return column > soon
    return column.is_(None)


class ExpiryFilter(BaseSQLAFilter):
    """到期提醒: overdue (red) and due within 30 days (yellow); scrapped instruments never warn."""

    def __init__(self, column=Instrument.valid_until):
        super().__init__(column, _l("有效期"), options=EXPIRY_OPTIONS)

    def operation(self):
        return _l("为")

    def clean(self, value):
        if value not in dict(EXPIRY_OPTIONS):
            raise ValueError(value)
        return value

    def apply(self, query, value, alias=None):
        condition = expiry_condition(value, self.column)
        if value in ("overdue", "due_soon"):
            condition = and_(condition, Instrument.status != "scrapped")
        return query.filter(condition)


class DynamicFilterMixin:
    """Fill the option lists of _OptionsFilter filters per request."""

    def _get_filter_groups(self):
        groups = super()._get_filter_groups()
        if not groups:
            return groups
        for items in groups.values():
            for item in items:
                flt = self._filters[item["index"]]
                if getattr(flt, "dynamic", False):
                    item["options"] = [(k, str(v)) for k, v in flt.options_now()]
        return groups
