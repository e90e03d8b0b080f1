"""Production licence grids and pages: the enterprise's 生产企业许可申请管理, the reviewer's
许可审批 and the assessment institution's 鉴定评审任务 / 评审时间协商 / 评审报告, with the
documents, the 评审反馈表 and the printable pages beside them. The wizard is licence_apply.py,
the catalogue licence_items.py; register() adds all of them."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ecqs import access, workflows
from ecqs.admin_views.base import RoleView, deny
from ecqs.admin_views.cells import state_badge
from ecqs.admin_views.documents import ApplicationDocumentsMixin
from ecqs.admin_views.licence_apply import LicenceApplyView
from ecqs.admin_views.licence_items import LicenceItemView
from ecqs.admin_views.menu import CAT_LICENCE, CAT_SYSTEM
from ecqs.documents import rules as document_rules
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.licences import clock as licence_clock
from ecqs.licences import documents as licence_documents
from ecqs.licences import feedback as licence_feedback
from ecqs.licences import form as licence_form
from ecqs.licences import rules as licence_rules
from ecqs.models import (
    LICENCE_CATEGORY_LABELS,
    LICENCE_CONCLUSION_LABELS,
    LICENCE_STATUS_LABELS,
    LicenceApplication,
    LicenceItem,
    LicenceReviewFeedback,
)
from ecqs.services import workdays

# ---- shared helpers --------------------------------------------------------------------------


def local_time(attr):
    """A timestamp column shown in China time, like the |localtime template filter."""

    def formatter(view, context, model, name):
        value = getattr(model, attr)
        return value.astimezone(workdays.CN).strftime("%Y-%m-%d %H:%M:%S") if value else ""

    return formatter


def clock_badge(view, context, model, name):
    clock = licence_clock.status(model)
    if not clock.text:
        return ""
    return Markup('<span class="badge badge-{} licence-clock" data-remaining="{}">{}</span>').format(
        clock.level, "" if clock.remaining is None else clock.remaining, clock.text
    )


def feedback_for(application) -> LicenceReviewFeedback | None:
    """The feedback form through its own scope: None for anyone who may not read it."""
    stmt = access.scoped(
        select(LicenceReviewFeedback).where(LicenceReviewFeedback.application_id == application.id),
        LicenceReviewFeedback,
        current_user,
    )
    return db.session.execute(stmt).scalar()


def may_read_feedback(application) -> bool:
    """The authority's reviewers and the applicant who wrote it (through the feedback's scope);
    never the assessment institution (此表仅审批人员可见 is about the assessors)."""
    return current_user.role in ("enterprise", "reviewer", "admin") and feedback_for(application) is not None


def may_fill_feedback(application) -> bool:
    return licence_feedback.may_fill(application, current_user)


APPLICATION_LABELS = {
    "number": _l("申请号"),
    "organization": _l("申请单位"),
    "category": _l("申请类别"),
    "licence_type": _l("许可类型"),
    "items": _l("申请项目"),
    "status": _l("申请状态"),
    "submitted_at": _l("提交时间"),
    "received_at": _l("最近提交"),
    "authority": _l("提交机构"),
    "created_at": _l("创建时间"),
    "clock": _l("办理时限"),
    "actions": _l("操作"),
    "assessor_org": _l("鉴定评审机构"),
    "assessor_contact_name": _l("评审机构联系人"),
    "assessor_contact_phone": _l("评审机构联系电话"),
    "accepted_at": _l("受理时间"),
    "correction_points": _l("补正内容"),
    "proposed": _l("待确认的评审时间"),
    "review_dates": _l("评审时间"),
    "report_upload": _l("评审报告"),
    "conclusion": _l("评审结论"),
    "report_comment": _l("评审意见"),
    "decision_reason": _l("不予受理/不予许可理由"),
    "licence_number": _l("许可证编号"),
    "licence_valid_until": _l("许可证有效期至"),
    "decided_at": _l("决定时间"),
}


class LicenceApplicationView(ApplicationDocumentsMixin, RoleView):
    """生产企业许可申请管理 (the enterprise's grid, seed 001 §1.6). Every party's details page and
    documents go through this view too, so links from the inbox work for each role."""

    roles = frozenset({"enterprise", "reviewer", "assessor", "admin"})
    menu_roles = frozenset({"enterprise"})
    state_filter: tuple[str, ...] = ()
    can_create = False
    can_edit = False
    can_delete = False
    file_fields = ("report_upload",)
    details_template = "licence/application_details.html"
    column_list = (
        "number",
        "category",
        "licence_type",
        "items",
        "status",
        "submitted_at",
        "authority",
        "received_at",  # after the manual's columns (seed 001 §1.6): the latest resubmission
        "clock",
        "actions",
    )
    column_details_list = (
        "number",
        "organization",
        "category",
        "licence_type",
        "items",
        "authority",
        "status",
        "clock",
        "created_at",
        "submitted_at",
        "received_at",
        "correction_points",
        "accepted_at",
        "assessor_org",
        "assessor_contact_name",
        "assessor_contact_phone",
        "proposed",
        "review_dates",
        "report_upload",
        "conclusion",
        "report_comment",
        "decision_reason",
        "licence_number",
        "licence_valid_until",
        "decided_at",
    )
    column_export_list = (
        "number",
        "organization",
        "category",
        "licence_type",
        "items",
        "status",
        "submitted_at",
        "received_at",
        "authority",
        "clock",
        "licence_number",
        "licence_valid_until",
    )
    column_labels = APPLICATION_LABELS
    column_searchable_list = ("number",)
    column_filters = ("status", "category", "licence_type", "submitted_at", "received_at")
    column_choices = {
        "status": list(LICENCE_STATUS_LABELS.items()),
        "category": list(LICENCE_CATEGORY_LABELS.items()),
    }
    column_sortable_list = ("number", "status", "submitted_at", "received_at", "category", "licence_type")
    column_default_sort = ("id", True)
    # No automatic joinedload of `items` (a collection): the streamed export uses yield_per.
    column_auto_select_related = False
    column_select_related_list = (LicenceApplication.organization, LicenceApplication.authority)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        common = {
            "category": lambda v, c, m, n: m.category_label,
            "licence_type": lambda v, c, m, n: m.licence_type_label,
            "items": lambda v, c, m, n: m.items_label,
            "status": state_badge(),
            "authority": lambda v, c, m, n: m.authority.name if m.authority else "",
            "organization": lambda v, c, m, n: m.organization.name,
            "clock": clock_badge,
            "assessor_org": lambda v, c, m, n: m.assessor_org.name if m.assessor_org else "",
            "conclusion": lambda v, c, m, n: str(LICENCE_CONCLUSION_LABELS.get(m.conclusion, "")),
            "proposed": _proposed,
            "review_dates": _review_dates,
            "correction_points": _points,
            "report_upload": self.file_link("report_upload"),
            **{
                attr: local_time(attr)
                for attr in ("submitted_at", "received_at", "created_at", "accepted_at", "decided_at")
            },
        }
        self.column_formatters = dict(common, actions=self._row_actions)
        self.column_formatters_detail = common
        self.column_formatters_export = {
            "category": common["category"],
            "licence_type": common["licence_type"],
            "items": common["items"],
            "status": lambda v, c, m, n: m.status_label,
            "authority": common["authority"],
            "organization": common["organization"],
            "clock": lambda v, c, m, n: licence_clock.status(m).text,
        }

    # ---- access ---------------------------------------------------------------------------

    def is_visible(self) -> bool:
        return self.is_accessible() and current_user.role in self.menu_roles

    def get_query(self):
        query = super().get_query()
        return query.filter(LicenceApplication.status.in_(self.state_filter)) if self.state_filter else query

    def get_count_query(self):
        query = super().get_count_query()
        return query.filter(LicenceApplication.status.in_(self.state_filter)) if self.state_filter else query

    # ---- workflow buttons: the details page lays some out as the manual's forms -----------
    # (licence/application_details.html); each reads its inputs from its transition's fields and
    # posts to the generic transition_view.

    def clock(self, obj):
        return licence_clock.status(obj)

    def action_label(self, action):
        t = self.workflow.by_action.get(action) if action else None
        return t.label if t is not None else ""

    def page_values(self, obj):
        return [
            (
                page,
                [
                    (f, licence_form.display(f, licence_form.values_of(obj, page.key).get(f.name)))
                    for f in page.fields
                ],
            )
            for page in licence_form.FIELD_PAGES
        ]

    def feedback(self, obj):
        return feedback_for(obj) if current_user.role in ("reviewer", "admin") else None

    def may_fill_feedback(self, obj):
        return may_fill_feedback(obj)

    def may_read_feedback(self, obj):
        return obj.feedback is not None and may_read_feedback(obj)

    def today(self):
        return workdays.today()

    def report_refusal(self, obj):
        return licence_rules.report_refusal(obj, workdays.today())

    def _row_actions(self, view, context, model, name):
        links = [(self.get_url(".details_view", id=model.id), _("查看"), "details")]
        if model.can_edit(current_user):
            links.append(
                (url_for("licence_apply.page", application_id=model.id, key="items"), _("填写"), "edit")
            )
        if model.correction_points:
            links.append((self.get_url(".notice_view", id=model.id), _("补正告知书"), "notice"))
        if model.accepted_at:
            links.append((self.get_url(".decision_view", id=model.id), _("受理决定书"), "decision"))
        if model.status == "engaged" and current_user.role in ("enterprise", "assessor"):
            links.append((self.get_url(".negotiate_view", id=model.id), _("协商鉴定评审时间"), "negotiate"))
        if may_fill_feedback(model):
            links.append((self.get_url(".feedback_view", id=model.id), _("评审反馈表"), "feedback"))
        elif model.feedback is not None and may_read_feedback(model):
            links.append((self.get_url(".feedback_view", id=model.id), _("评审反馈表"), "feedback"))
        if model.status == "granted":
            links.append((self.get_url(".certificate_view", id=model.id), _("许可证书"), "certificate"))
        return Markup(" ").join(
            Markup('<a class="btn btn-sm btn-outline-primary mb-1" data-link="{}" href="{}">{}</a>').format(
                key, url, label
            )
            for url, label, key in links
        )

    # ---- pages beside the grid -----------------------------------------------------------

    @expose("/negotiate/")
    def negotiate_view(self):
        """协商鉴定评审时间: the pending proposal, confirm it or propose other dates."""
        application = self.get_one(request.args.get("id"))
        return self.render(
            "licence/negotiate.html",
            model=application,
            forms={t.action: t for t in self.available_transitions(application) if t.fields},
            confirm=workflows.can(application, "confirm_dates", current_user),
            today=workdays.today(),
            return_url=self.get_url(".index_view"),
        )

    @expose("/feedback/", methods=("GET", "POST"))
    def feedback_view(self):
        """评审反馈表: the applicant fills it once; reviewers of the authority read it; the
        assessment institution never reaches it."""
        application = self.get_one(request.args.get("id"))
        if current_user.role not in ("enterprise", "reviewer", "admin"):
            deny(f"LicenceReviewFeedback:{application.id}")
        if current_user.role != "enterprise":
            existing = feedback_for(application)
            if existing is None:
                deny(f"LicenceReviewFeedback:{application.id}", code=404)
            return self.render_feedback(application, existing, None)
        if not may_fill_feedback(application):
            existing = feedback_for(application)
            if existing is not None:
                if request.method == "POST":
                    flash(_("评审反馈表已提交，不能重复提交"), "warning")
                    return redirect(self.get_url(".feedback_view", id=application.id))
                return self.render_feedback(application, existing, None)
            flash(_("评审完成后方可填写评审反馈表"), "error")
            return redirect(self.get_url(".details_view", id=application.id))
        form = licence_feedback.FeedbackForm()
        if request.method == "GET":
            licence_feedback.prefill(form, application)
        if form.validate_on_submit():
            try:
                licence_feedback.save(application, current_user, form)
                db.session.commit()
            except (licence_feedback.FeedbackError, IntegrityError) as exc:
                db.session.rollback()
                flash(
                    str(exc)
                    if isinstance(exc, licence_feedback.FeedbackError)
                    else _("评审反馈表已提交，不能重复提交"),
                    "error",
                )
                return redirect(self.get_url(".details_view", id=application.id))
            flash(_("评审反馈表已提交"), "success")
            return redirect(self.get_url(".index_view"))
        if request.method == "POST":
            flash(_("请修改标红的内容后再提交"), "error")
        return self.render_feedback(application, None, form)

    def render_feedback(self, application, feedback, form):
        return self.render(
            "licence/feedback.html",
            model=application,
            feedback=feedback,
            form=form,
            title=licence_feedback.TITLE,
            notes=licence_feedback.NOTES,
            questions=licence_feedback.QUESTIONS,
            satisfaction=licence_feedback.SATISFACTION,
        )

    @expose("/notice/")
    def notice_view(self):
        application = self.get_one(request.args.get("id"))
        if not application.correction_points:
            abort(404)
        return self.render_print(
            "licence/print_notice.html",
            application,
            points=document_rules.correction_list(application.correction_points),
        )

    @expose("/decision/")
    def decision_view(self):
        application = self.get_one(request.args.get("id"))
        if not application.acceptance_token:
            abort(404)
        url = licence_documents.verify_url(application.acceptance_token)
        return self.render_print(
            "licence/print_decision.html", application, verify_url=url, qr=licence_documents.qr_data_uri(url)
        )

    @expose("/certificate/")
    def certificate_view(self):
        application = self.get_one(request.args.get("id"))
        if not application.certificate_token:
            abort(404)
        url = licence_documents.verify_url(application.certificate_token)
        return self.render_print(
            "licence/print_certificate.html",
            application,
            verify_url=url,
            qr=licence_documents.qr_data_uri(url),
        )

    @expose("/print/<id>/<key>")
    def print_page_view(self, id, key):
        """打印当前页: one page of the 许可申请书 as a clean printable page."""
        application = self.get_one(id)
        if key == "items":
            return self.render_print("licence/print_page.html", application, page=None, rows=None)
        form_page = licence_form.page(key)
        if form_page is None:
            abort(404)
        values = licence_form.values_of(application, key)
        rows = [(f, licence_form.display(f, values.get(f.name))) for f in form_page.fields]
        return self.render_print("licence/print_page.html", application, page=form_page, rows=rows)

    def render_print(self, template, application, **kwargs):
        return self.render(
            template, application=application, back=self.get_url(".details_view", id=application.id), **kwargs
        )


def _proposed(view, context, model, name):
    if model.proposed_by is None or model.proposed_start is None:
        return ""
    who = _("鉴定评审机构") if model.proposed_by == "assessor" else _("申请单位")
    return _(
        "%(start)s 至 %(end)s（%(who)s提出，待对方确认）",
        start=model.proposed_start,
        end=model.proposed_end,
        who=who,
    )


def _review_dates(view, context, model, name):
    if model.review_start is None:
        return ""
    return _("%(start)s 至 %(end)s", start=model.review_start, end=model.review_end)


def _points(view, context, model, name):
    if not model.correction_points:
        return ""
    items = document_rules.correction_list(model.correction_points)
    return Markup("<ol class='mb-0 pl-3'>{}</ol>").format(
        Markup("").join(Markup("<li>{}</li>").format(p) for p in items)
    )


class LicenceReviewView(LicenceApplicationView):
    """许可审批: applications addressed to the reviewer's authority."""

    roles = frozenset({"reviewer", "admin"})
    menu_roles = roles
    primary_for_model = False
    column_list = (
        "number",
        "organization",
        "category",
        "licence_type",
        "items",
        "status",
        "submitted_at",
        "received_at",
        "clock",
        "actions",
    )
    column_default_sort = ("submitted_at", True)


class AssessorTaskView(LicenceApplicationView):
    """鉴定评审任务: applications the assessment institution is engaged for."""

    roles = frozenset({"assessor"})
    menu_roles = roles
    primary_for_model = False
    column_list = (
        "number",
        "organization",
        "licence_type",
        "items",
        "status",
        "proposed",
        "review_dates",
        "actions",
    )
    column_export_list = ("number", "organization", "licence_type", "items", "status", "review_dates")
    column_labels = dict(APPLICATION_LABELS, authority=_l("审批机关"))


class AssessorNegotiationView(AssessorTaskView):
    """评审时间协商: engaged applications whose review dates are still being agreed."""

    state_filter = ("engaged",)


class AssessorReportView(AssessorTaskView):
    """评审报告: reviews to report on, and the reports already submitted."""

    state_filter = ("scheduled", "reviewed", "granted", "refused")
    column_list = (
        "number",
        "organization",
        "licence_type",
        "items",
        "status",
        "review_dates",
        "report_upload",
        "conclusion",
        "actions",
    )


def register(admin) -> None:
    """Add the production licence views to the admin."""

    s = db.session
    admin.add_view(
        LicenceApplyView(name=_l("生产企业许可申请"), category=CAT_LICENCE, endpoint="licence_apply")
    )
    admin.add_view(
        LicenceApplicationView(
            LicenceApplication,
            s,
            name=_l("生产企业许可申请管理"),
            category=CAT_LICENCE,
            endpoint="licence_applications",
        )
    )
    admin.add_view(LicenceReviewView(LicenceApplication, s, name=_l("许可审批"), endpoint="licence_review"))
    admin.add_view(AssessorTaskView(LicenceApplication, s, name=_l("鉴定评审任务"), endpoint="licence_tasks"))
    admin.add_view(
        AssessorNegotiationView(
            LicenceApplication, s, name=_l("评审时间协商"), endpoint="licence_negotiation"
        )
    )
    admin.add_view(AssessorReportView(LicenceApplication, s, name=_l("评审报告"), endpoint="licence_reports"))
    admin.add_view(
        LicenceItemView(
            LicenceItem, s, name=_l("许可项目目录"), category=CAT_SYSTEM, endpoint="licence_items"
        )
    )
