"""统计分析 of personnel qualification: applications by project and result, and by category.
GROUP BY over the grids' row scope."""

from __future__ import annotations

from sqlalchemy import func, select

from ecqs import access
from ecqs.access import division_range
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import (
    QUALIFICATION_CATEGORY_LABELS,
    QUALIFICATION_STATUS_LABELS,
    QualificationApplication,
)
from ecqs.services.statistics import Filters, Module, Report, label, register

RESULTS = ("approved", "rejected", "pending", "correction", "received", "withdrawn")


def _conditions(filters: Filters) -> list:
    conditions = filters.period(QualificationApplication.applied_on)
    if filters.division:
        conditions.append(division_range(QualificationApplication.province_code, filters.division))
    if filters.category in QUALIFICATION_CATEGORY_LABELS:
        conditions.append(QualificationApplication.category == filters.category)
    if filters.status in QUALIFICATION_STATUS_LABELS:
        conditions.append(QualificationApplication.status == filters.status)
    return conditions


def compute(user, filters: Filters) -> list[Report]:
    conditions = _conditions(filters)
    project = (QualificationApplication.project_code, QualificationApplication.project_name)
    stmt = access.scoped(
        select(*project, QualificationApplication.status, func.count())
        .where(*conditions)
        .group_by(*project, QualificationApplication.status),
        QualificationApplication,
        user,
    )
    by_project: dict[tuple, dict[str, int]] = {}
    for code, name, status, n in db.session.execute(stmt):
        by_project.setdefault((code, name), {})[status] = n
    columns = [_("项目"), *[str(QUALIFICATION_STATUS_LABELS[s]) for s in RESULTS], _("合计")]
    rows = [
        [f"{code} {name}".strip(), *[figures.get(s, 0) for s in RESULTS], sum(figures.values())]
        for (code, name), figures in sorted(by_project.items())
    ]
    stmt = access.scoped(
        select(QualificationApplication.category, func.count())
        .where(*conditions)
        .group_by(QualificationApplication.category),
        QualificationApplication,
        user,
    )
    by_category = dict(db.session.execute(stmt).all())
    order = list(QUALIFICATION_CATEGORY_LABELS)
    return [
        Report(
            "qualification_project",
            _("人员资格申请按项目和结果"),
            columns,
            rows,
            chart="stack",
            chart_columns=tuple(range(1, len(RESULTS) + 1)),
        ),
        Report(
            "qualification_category",
            _("人员资格申请按类别"),
            [_("类别"), _("数量")],
            [
                [label(QUALIFICATION_CATEGORY_LABELS, c), by_category[c]]
                for c in sorted(by_category, key=lambda c: order.index(c) if c in order else len(order))
            ],
            chart="pie",
        ),
    ]


def choices(user) -> dict:
    return {
        "category": [(k, str(v)) for k, v in QUALIFICATION_CATEGORY_LABELS.items()],
        "status": [(k, str(v)) for k, v in QUALIFICATION_STATUS_LABELS.items()],
    }


MODULE = register(Module("qualifications", _l("人员资格统计"), compute, choices))
