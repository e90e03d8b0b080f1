"""统计分析: the shared shape of every module's statistics page.

A module computes its figures with SQL GROUP BY over `access.scoped(...)` (the same row scope
as its grids, so a provincial reviewer counts its province only) and returns `Report`s: a
table of labelled rows whose numeric columns the page also draws with ECharts. The page shows
each chart with its table beside it and exports all tables to one .xlsx workbook."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import xlsxwriter
from sqlalchemy import select

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import Division
from ecqs.services import workdays
from ecqs.services.xlsx_export import neutralise, valid_sheet_name

# Who opens the statistics pages: reviewers (their authority's or province's rows), association
# staff and administrators.
STATISTICS_ROLES = frozenset({"reviewer", "association", "admin"})


@dataclass
class Report:
    """One table (and its chart). `rows` start with the label; `chart_columns` are the indexes
    of the numeric columns drawn (percentages and averages stay in the table only)."""

    key: str
    title: str
    columns: list[str]
    rows: list[list]
    chart: str = "bar"  # 'bar', 'pie' or 'stack' (stacked bars)
    chart_columns: tuple[int, ...] = (1,)
    note: str = ""

    def chart_data(self) -> dict:
        """What static/js/statistics.js draws: categories and one series per charted column."""
        return {
            "type": self.chart,
            "title": self.title,
            "categories": [str(row[0]) for row in self.rows],
            "series": [
                {"name": str(self.columns[i]), "data": [row[i] or 0 for row in self.rows]}
                for i in self.chart_columns
            ],
        }

    @property
    def total(self) -> int:
        return sum(int(row[1] or 0) for row in self.rows)


@dataclass
class Filters:
    """The page's filters, parsed leniently from the query string (a wrong value is ignored)."""

    date_from: date | None = None
    date_to: date | None = None
    division: str = ""  # a GB/T 2260 prefix: '61' province, '6101' city
    category: str = ""
    status: str = ""
    choices: dict = field(default_factory=dict)

    @classmethod
    def from_args(cls, args) -> Filters:
        def day(name):
            try:
                return date.fromisoformat(args.get(name, "").strip())
            except ValueError:
                return None

        division = args.get("division", "").strip()
        division = division.rstrip("0") if division.isdigit() and len(division) <= 6 else ""
        if len(division) % 2:
            division += "0"
        return cls(
            date_from=day("date_from"),
            date_to=day("date_to"),
            division=division,
            category=args.get("category", "").strip()[:40],
            status=args.get("status", "").strip()[:40],
        )

    def period(self, column, *, timestamp: bool = False):
        """Conditions on `column` for the chosen period (inclusive days, China time)."""
        conditions = []
        if self.date_from:
            start = self.date_from
            if timestamp:
                start = datetime.combine(start, time.min, tzinfo=workdays.CN)
            conditions.append(column >= start)
        if self.date_to:
            if timestamp:
                conditions.append(
                    column < datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=workdays.CN)
                )
            else:
                conditions.append(column <= self.date_to)
        return conditions


def division_names(codes) -> dict[str, str]:
    """Names of division prefixes ('61' → 陕西省, '6101' → 西安市) from the divisions table."""
    full = {code: code.ljust(6, "0") for code in codes if code}
    if not full:
        return {}
    found = dict(
        db.session.execute(select(Division.code, Division.name).where(Division.code.in_(full.values()))).all()
    )
    return {code: found.get(padded, code) for code, padded in full.items()}


def percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def workbook(reports: list[Report]) -> bytes:
    """All tables of a page as one workbook, a sheet per table (small: aggregated rows only)."""
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    used: set[str] = set()
    for report in reports:
        name = valid_sheet_name(report.title)
        while name in used:
            name = valid_sheet_name(name[:28] + f"_{len(used)}")
        used.add(name)
        ws = wb.add_worksheet(name)
        for col, header in enumerate(report.columns):
            ws.write_string(0, col, str(header), bold)
            ws.set_column(col, col, max(12, len(str(header)) * 2 + 4))
        for r, row in enumerate(report.rows, start=1):
            for c, value in enumerate(row):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    ws.write_number(r, c, value)
                elif value is not None:
                    ws.write_string(r, c, neutralise(str(value)))
        if report.note:
            ws.write_string(len(report.rows) + 2, 0, report.note)
    wb.close()
    return out.getvalue()


@dataclass
class Module:
    """A statistics page: its title, the roles that open it, the filters it offers and the
    function computing its reports for a user."""

    key: str
    title: object
    compute: Callable[[object, Filters], list[Report]]
    choices: Callable[[object], dict]  # filter name -> [(value, label)]


MODULES: dict[str, Module] = {}


def register(module: Module) -> Module:
    MODULES[module.key] = module
    return module


def label(labels: dict, value) -> str:
    return str(labels.get(value, value if value is not None else _("（无）")))
