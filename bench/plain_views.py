"""The comparison: plain Flask-Admin ModelViews of the same model, with the same scope filter,
same columns and page size, Flask-Admin's own count(*) and its built-in (tablib) xlsx export."""

from __future__ import annotations

from datetime import date

from flask_admin.contrib.sqla import ModelView
from flask_login import current_user

from ecqs import access
from ecqs.admin_views.instruments import EXPORT_COLUMNS, INSTRUMENT_LABELS, InstrumentLedgerView
from ecqs.models import Instrument

# The same columns as the product's ledger grid (强检器具台账).
LEDGER_COLUMNS = InstrumentLedgerView.column_list


class PlainLedgerView(ModelView):
    column_list = LEDGER_COLUMNS
    column_labels = INSTRUMENT_LABELS
    column_default_sort = ("id", True)
    can_export = True
    export_types = ["xlsx"]
    column_export_list = EXPORT_COLUMNS
    page_size = 20

    def is_accessible(self):
        return current_user.is_authenticated

    def _scope(self, query):
        return query.filter(Instrument.organization_id == current_user.organization_id)

    def get_query(self):
        return self._scope(super().get_query())

    def get_count_query(self):
        return self._scope(super().get_count_query())


class PlainReviewerView(PlainLedgerView):
    """The provincial scope, with Flask-Admin's own filters on 有效期至 and 状态."""

    column_list = (
        "organization",
        "name",
        "kind",
        "serial_no",
        "usage_division",
        "usage_place",
        "valid_until",
        "status",
    )
    column_filters = ("valid_until", "status")

    def _scope(self, query):
        prefix = access.reviewer_province(current_user)
        return query.filter(access.division_range(Instrument.usage_division_code, prefix))


def overdue_args(view) -> dict:
    """URL arguments of the plain view for 'valid_until < today' and 'status != scrapped'."""
    wanted = {
        ("DateSmallerFilter", "valid_until"): date.today().isoformat(),
        ("FilterNotEqual", "status"): "scrapped",
    }
    args = {}
    for index, flt in enumerate(view._filters):
        value = wanted.get((type(flt).__name__, getattr(flt.column, "key", "")))
        if value is not None:
            args[f"flt{len(args)}_{view.get_filter_arg(index, flt)}"] = value
    return args


def register(app):
    from ecqs.extensions import db

    admin = app.extensions["admin"][0]
    ledger = PlainLedgerView(Instrument, db.session, name="plain ledger", endpoint="bench_plain_ledger")
    reviewer = PlainReviewerView(
        Instrument, db.session, name="plain reviewer", endpoint="bench_plain_reviewer"
    )
    admin.add_view(ledger)
    admin.add_view(reviewer)
    return ledger, reviewer
