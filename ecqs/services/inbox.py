"""待办事项: every record on which this user can act now, across modules, derived from the
workflow table and the scope; oldest deadline first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from werkzeug.routing import BuildError

from ecqs import access, workflows
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.licences import clock
from ecqs.licences.feedback import FEEDBACK_STATES
from ecqs.models import (
    EXPIRY_WARNING_DAYS,
    UNIT_QUALIFICATION_TYPES,
    BookingItem,
    Instrument,
    LicenceApplication,
    LicenceReviewFeedback,
    QualificationCertificate,
    UnitQualificationRequest,
)
from ecqs.services import workdays

PER_WORKFLOW_LIMIT = 200


@dataclass
class InboxItem:
    title: str
    state: str
    actions: list[str]
    deadline: date | None
    url: str | None
    overdue: bool
    sort_key: tuple


# Where a record's page is, is the admin's knowledge: it registers a resolver when it is set up
# (admin_views.init_admin), so this service never imports a view.
DETAILS_URL = "ecqs.inbox.details_url"


def set_details_url(app, resolver: Callable[[object], str | None]) -> None:
    """Register how the inbox links a record to its page (obj -> URL or None) for this app."""
    app.extensions[DETAILS_URL] = resolver


def _details_url(obj) -> str | None:
    resolver = current_app.extensions.get(DETAILS_URL)
    return resolver(obj) if resolver is not None else None


def items_for(user) -> list[InboxItem]:
    """The user's to-do list. Uses the same scope as the grids and the same `can` as buttons."""
    result: list[InboxItem] = []
    today = workdays.today()
    for model, wf in workflows.WORKFLOWS.items():
        mine = [t for t in wf.transitions if user.role in t.roles and t.todo]
        if not mine:
            continue
        states = sorted({s for t in mine for s in t.sources})
        column = getattr(model, wf.field)
        stmt = access.scoped(select(model).where(column.in_(states)), model, user)
        stmt = stmt.order_by(model.__mapper__.primary_key[0]).limit(PER_WORKFLOW_LIMIT)
        for obj in db.session.execute(stmt).scalars():
            actions = [str(t.label) for t in workflows.available(obj, user) if t.todo]
            if not actions:
                continue
            deadline = wf.deadline(obj) if wf.deadline else None
            result.append(
                InboxItem(
                    title=str(wf.title(obj)),
                    state=wf.state_label(getattr(obj, wf.field)),
                    actions=actions,
                    deadline=deadline,
                    url=_details_url(obj),
                    overdue=deadline is not None and deadline < today,
                    sort_key=(deadline or date.max, wf.name, obj.id),
                )
            )
    result.sort(key=lambda item: item.sort_key)
    return result


# ---- what is due without a workflow step -----------------------------------------------------
# Reminders beside the workflow items: counts with a link to the filtered grid where many rows
# are due (a ledger), one line per record where few are (a licence, a certificate, a form).
# Options such as 撤回 of one's own application are never listed: only what must be done.

LICENCE_EXPIRY_DAYS = 90
REVIEWER_WARNING_WORKDAYS = 3
DUE_LIMIT = 50


def _url(endpoint: str, **values) -> str | None:
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _filter_arg(endpoint: str, column_key: str) -> str | None:
    """The url argument ('flt0_4') of the grid's filter on `column_key`, found on the view."""
    for admin in current_app.extensions.get("admin") or []:
        for view in admin._views:
            if getattr(view, "endpoint", None) != endpoint:
                continue
            for index, flt in enumerate(getattr(view, "_filters", None) or ()):
                if getattr(getattr(flt, "column", None), "key", None) == column_key:
                    return f"flt0_{index}"
    return None


def _reminder(title, state, action, url, sort_day, deadline=None, overdue=False, kind="") -> InboxItem:
    return InboxItem(
        title=str(title),
        state=str(state),
        actions=[str(action)],
        deadline=deadline,
        url=url,
        overdue=overdue,
        sort_key=(sort_day or date.max, f"due:{kind}", 0),
    )


def _expiring(model, valid_until, live, user, today: date):
    """The user's `live` rows of `model` whose `valid_until` falls within 90 days, soonest first."""
    stmt = (
        access.scoped(
            select(model).where(
                live, valid_until.between(today, today + timedelta(days=LICENCE_EXPIRY_DAYS))
            ),
            model,
            user,
        )
        .order_by(valid_until)
        .limit(DUE_LIMIT)
    )
    return db.session.execute(stmt).scalars()


def instruments_due(user, today: date) -> list[InboxItem]:
    """An enterprise's instruments overdue for verification, and due within 30 days: a count
    each, linking to the ledger filtered on 有效期."""
    if user.role not in ("enterprise", "person"):
        return []
    live = Instrument.status != "scrapped"
    arg = _filter_arg("instruments", "valid_until")
    result = []
    for kind, condition, text in (
        ("overdue", Instrument.valid_until < today, _("%(n)d 台强检器具已超过有效期，请尽快申请检定")),
        (
            "due_soon",
            Instrument.valid_until.between(today, today + timedelta(days=EXPIRY_WARNING_DAYS)),
            _("%(n)d 台强检器具 30 天内到期，请及时申请检定"),
        ),
    ):
        stmt = access.scoped(
            select(func.count(), func.min(Instrument.valid_until)).where(condition, live), Instrument, user
        )
        n, first = db.session.execute(stmt).one()
        if n:
            url = _url("instruments.index_view", **({arg: kind} if arg else {}))
            state = _("已超期") if kind == "overdue" else _("即将到期")
            result.append(
                _reminder(text % {"n": n}, state, _("申请检定"), url, first, first, kind == "overdue", kind)
            )
    return result


def licences_expiring(user, today: date) -> list[InboxItem]:
    """An enterprise's production licences expiring within 90 days (换证 is due)."""
    if user.role != "enterprise":
        return []
    rows = _expiring(
        LicenceApplication,
        LicenceApplication.licence_valid_until,
        LicenceApplication.status == "granted",
        user,
        today,
    )
    return [
        _reminder(
            _(
                "许可证 %(number)s 将于 %(day)s 到期",
                number=app.licence_number,
                day=app.licence_valid_until.isoformat(),
            ),
            _("即将到期"),
            _("申请换证"),
            _url("licence_applications.details_view", id=app.id),
            app.licence_valid_until,
            app.licence_valid_until,
            kind="licence",
        )
        for app in rows
    ]


def certificates_expiring(user, today: date) -> list[InboxItem]:
    """A person's qualification certificates expiring within 90 days."""
    if user.role != "person":
        return []
    rows = _expiring(
        QualificationCertificate,
        QualificationCertificate.valid_until,
        QualificationCertificate.status == "valid",
        user,
        today,
    )
    return [
        _reminder(
            _("资格证书 %(number)s 将于 %(day)s 到期", number=cert.number, day=cert.valid_until.isoformat()),
            _("即将到期"),
            _("申请换证"),
            _url("my_certificates.details_view", id=cert.id),
            cert.valid_until,
            cert.valid_until,
            kind="certificate",
        )
        for cert in rows
    ]


def feedback_to_fill(user, today: date) -> list[InboxItem]:
    """评审反馈表 the applicant has not filled yet once the expert review is over."""
    if user.role != "enterprise":
        return []
    filled = select(LicenceReviewFeedback.application_id)
    stmt = (
        access.scoped(
            select(LicenceApplication).where(
                LicenceApplication.status.in_(FEEDBACK_STATES), LicenceApplication.id.not_in(filled)
            ),
            LicenceApplication,
            user,
        )
        .order_by(LicenceApplication.id)
        .limit(DUE_LIMIT)
    )
    result = []
    for app in db.session.execute(stmt).scalars():
        if not app.is_applicant(user):
            continue
        since = app.reviewed_at.astimezone(workdays.CN).date() if app.reviewed_at else None
        result.append(
            _reminder(
                _("许可申请 %(number)s：请填写特种设备鉴定评审工作反馈表", number=app.number),
                _("待填写"),
                _("填写评审反馈表"),
                _url("licence_applications.feedback_view", id=app.id),
                since,
                kind="feedback",
            )
        )
    return result


def reviewer_deadlines(user, today: date) -> list[InboxItem]:
    """A reviewer's licence applications whose statutory deadline is within 3 working days or
    past: one line with the count and the nearest deadline (each is also a workflow item)."""
    if user.role != "reviewer":
        return []
    stmt = access.scoped(
        select(LicenceApplication).where(LicenceApplication.status.in_(("submitted", *clock.RUNNING_STATES))),
        LicenceApplication,
        user,
    )
    urgent = []
    for app in db.session.execute(stmt).scalars():
        due = clock.deadline(app)
        if due is not None and workdays.working_days_between(today, due) <= REVIEWER_WARNING_WORKDAYS:
            urgent.append(due)
    if not urgent:
        return []
    nearest = min(urgent)
    late = sum(1 for due in urgent if due < today)
    return [
        _reminder(
            _(
                "%(n)d 件许可申请法定期限 3 个工作日内到期或已超期（其中已超期 %(late)d 件）",
                n=len(urgent),
                late=late,
            ),
            _("临近期限"),
            _("审批"),
            _url("licence_review.index_view"),
            nearest,
            nearest,
            nearest < today,
            kind="reviewer",
        )
    ]


def results_waiting(user, today: date) -> list[InboxItem]:
    """A metrology institution's accepted booking items waiting for a verification result: one
    line with the count, oldest acceptance first."""
    if user.role != "metrology":
        return []
    stmt = access.scoped(
        select(func.count(), func.min(BookingItem.answered_at)).where(BookingItem.status == "accepted"),
        BookingItem,
        user,
    )
    n, oldest = db.session.execute(stmt).one()
    if not n:
        return []
    since = oldest.astimezone(workdays.CN).date() if oldest else None
    return [
        _reminder(
            _("%(n)d 台器具已受理，待录入检定结果", n=n),
            _("已受理"),
            _("录入检定结果"),
            _url("verification_results.index_view"),
            since,
            kind="results",
        )
    ]


def unit_qualifications_expiring(user, today: date) -> list[InboxItem]:
    """An inspection unit's recorded qualifications (单位资质) expired or expiring within 30 days
    (seed 004 §3.2.5 flags them 30 days ahead), unless a later one of the same type is recorded
    or waiting for review: a new qualification request is due."""
    if user.role != "unit":
        return []
    later = aliased(UnitQualificationRequest)
    renewed = (
        select(later.id)
        .where(
            later.organization_id == UnitQualificationRequest.organization_id,
            later.qual_type == UnitQualificationRequest.qual_type,
            later.valid_until > UnitQualificationRequest.valid_until,
            later.status.in_(("pending", "approved")),
        )
        .exists()
    )
    stmt = (
        access.scoped(
            select(UnitQualificationRequest).where(
                UnitQualificationRequest.status == "approved",
                UnitQualificationRequest.valid_until <= today + timedelta(days=EXPIRY_WARNING_DAYS),
                ~renewed,
            ),
            UnitQualificationRequest,
            user,
        )
        .order_by(UnitQualificationRequest.valid_until)
        .limit(DUE_LIMIT)
    )
    return [
        _reminder(
            _(
                "单位资质 %(type)s（%(number)s）将于 %(day)s 到期，请及时申请新的资质",
                type=UNIT_QUALIFICATION_TYPES.get(row.qual_type, row.qual_type),
                number=row.certificate_number,
                day=row.valid_until.isoformat(),
            ),
            _("已过期") if row.valid_until < today else _("即将到期"),
            _("申请资质"),
            _url("unit_qualifications.details_view", id=row.id),
            row.valid_until,
            row.valid_until,
            row.valid_until < today,
            kind="unit_qualification",
        )
        for row in db.session.execute(stmt).scalars()
    ]


DUE_SOURCES = (
    instruments_due,
    licences_expiring,
    certificates_expiring,
    feedback_to_fill,
    reviewer_deadlines,
    results_waiting,
    unit_qualifications_expiring,
)


def due_items(user) -> list[InboxItem]:
    """What is due for this user without a workflow step of its own (see DUE_SOURCES)."""
    today = workdays.today()
    return [item for source in DUE_SOURCES for item in source(user, today)]


def everything_for(user) -> list[InboxItem]:
    """The home page's 待办事项: workflow items and due reminders, nearest deadline first."""
    return sorted(items_for(user) + due_items(user), key=lambda item: item.sort_key)
