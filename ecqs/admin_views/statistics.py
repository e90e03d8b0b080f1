"""统计分析 pages: one per module (instruments, licences, qualifications) for reviewers (their
authority's or province's rows), association staff and administrators. Each chart (Apache
ECharts, served from static/vendor) has its table beside it; all tables export to .xlsx.

Chart data travels as JSON in a data attribute: no inline script, the CSP holds."""

from __future__ import annotations

import json
from urllib.parse import quote

from flask import Response, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user

from ecqs.admin_views.base import deny
from ecqs.admin_views.menu import CAT_STATISTICS

# Importing the domains' statistics modules registers them (ecqs.services.statistics.MODULES).
from ecqs.instruments import statistics as _instruments  # noqa: F401
from ecqs.licences import statistics as _licences  # noqa: F401
from ecqs.qualifications import statistics as _qualifications  # noqa: F401
from ecqs.services import statistics

STATISTICS_ROLES = statistics.STATISTICS_ROLES


class StatisticsView(BaseView):
    roles = STATISTICS_ROLES
    module_key = ""

    def __init__(self, module_key: str, **kwargs):
        self.module_key = module_key
        super().__init__(**kwargs)

    @property
    def module(self) -> statistics.Module:
        return statistics.MODULES[self.module_key]

    def is_accessible(self) -> bool:
        user = current_user
        return user.is_authenticated and user.role in self.roles and user.org_approved

    def is_visible(self) -> bool:
        return self.is_accessible()

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        deny(f"view:{self.endpoint}")
        return None

    def _reports(self):
        filters = statistics.Filters.from_args(request.args)
        return filters, self.module.compute(current_user, filters)

    @expose("/")
    def index(self):
        filters, reports = self._reports()
        charts = [(report, json.dumps(report.chart_data(), ensure_ascii=False)) for report in reports]
        return self.render(
            "statistics/page.html",
            module=self.module,
            filters=filters,
            choices=self.module.choices(current_user),
            charts=charts,
            export_url=url_for(".export", **request.args),
        )

    @expose("/export/")
    def export(self):
        _filters, reports = self._reports()
        name = f"{self.module.title}.xlsx"
        response = Response(
            statistics.workbook(reports),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response.headers["Content-Disposition"] = (
            f"attachment; filename=statistics.xlsx; filename*=UTF-8''{quote(name, safe='')}"
        )
        return response


class MovedView(StatisticsView):
    """An old address that keeps working: 强检器具监管 → 统计 (/admin/instrument_stats/) became
    统计分析 → 强检器具; bookmarks are sent there, under the same roles. No menu entry."""

    def __init__(self, module_key: str, target: str, **kwargs):
        self.target = target
        super().__init__(module_key, **kwargs)

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self):
        return redirect(url_for(f"{self.target}.index", **request.args), code=301)

    @expose("/export/")
    def export(self):
        return redirect(url_for(f"{self.target}.export", **request.args), code=301)


def register(admin) -> None:
    for key, endpoint in (
        ("instruments", "stats_instruments"),
        ("licences", "stats_licences"),
        ("qualifications", "stats_qualifications"),
    ):
        module = statistics.MODULES[key]
        admin.add_view(
            StatisticsView(
                key,
                name=module.title,
                category=CAT_STATISTICS,
                endpoint=endpoint,
                url=f"/admin/statistics/{key}",
            )
        )
    admin.add_view(
        MovedView(
            "instruments", "stats_instruments", endpoint="instrument_stats", url="/admin/instrument_stats"
        )
    )
