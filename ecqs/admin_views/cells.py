"""The cells grids and details show: formatters for choices, workflow badges, masked personal
numbers and typed values (dates, timestamps in China Standard Time, 是/否). Each label is
translated once a request and each cell names the one attribute it depends on (`value_of`)."""

from __future__ import annotations

from datetime import date, datetime

from flask_admin.model import typefmt
from markupsafe import Markup

from ecqs.admin_views import list_rows
from ecqs.i18n import gettext as _
from ecqs.services import workdays
from ecqs.services.masking import mask_id_number, mask_mobile


def masked(attr: str, kind: str):
    """A list/export formatter showing a personal number masked."""
    fn = mask_id_number if kind == "id" else mask_mobile

    def formatter(view, context, model, name):
        return fn(getattr(model, attr))

    formatter.masked = True
    return formatter


def _per_request(owner, value, build):
    """`build()` for this formatter and value, once a request: a grid repeats a few states on
    every row, and each label is a lazy translation (about forty calls to turn into text)."""
    return list_rows.request_memo("_ecqs_cell_labels", (owner, value), build)


def choice_formatter(labels: dict, attr: str | None = None):
    def formatter(view, context, model, name):
        value = getattr(model, attr or name)
        return _per_request(formatter, value, lambda: str(labels.get(value, value or "")))

    # The cell depends on this one attribute only (list_rows keeps one cell per value a page).
    formatter.value_of = lambda view, name: attr or name
    return formatter


DEFAULT_COLOURS = {"approved": "success", "rejected": "danger", "pending": "warning"}


def state_badge(labels: dict | None = None, attr: str | None = None, colours: dict | None = None):
    """The one badge formatter: a state's label in its colour. Without arguments it shows the
    view's workflow state with the labels and colours declared in the state table."""

    def formatter(view, context, model, name):
        wf = view.workflow
        field = attr or (wf.field if wf else "status")
        value = getattr(model, field)

        def badge():
            own = wf is not None and field == wf.field
            names = labels if labels is not None else (wf.states if own else {})
            palette = (
                colours if colours is not None else (wf.colours if own and wf.colours else DEFAULT_COLOURS)
            )
            return Markup('<span class="badge badge-{}" data-status="{}">{}</span>').format(
                palette.get(value, "secondary"), value or "", names.get(value, value or "")
            )

        # The same formatter may serve several views (their workflows differ): keyed by both.
        return _per_request((formatter, view), value, badge)

    def value_of(view, name):
        wf = view.workflow
        return attr or (wf.field if wf else "status")

    formatter.value_of = value_of  # the cell depends on this one attribute only
    return formatter


def _local_datetime(view, value, name=None):
    """Timestamps are stored in UTC and shown in China Standard Time, to the second."""
    if value.tzinfo is not None:
        value = value.astimezone(workdays.CN)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _iso_date(view, value, name=None):
    return value.isoformat()


def _yes_no(view, value, name=None):
    """是/否 in words: Flask-Admin's tick icon says nothing to a screen reader ("active true")."""
    return _("是") if value else _("否")


TYPE_FORMATTERS = {**typefmt.BASE_FORMATTERS, datetime: _local_datetime, date: _iso_date, bool: _yes_no}
