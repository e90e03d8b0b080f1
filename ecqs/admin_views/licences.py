"""M2 grids and pages: the licence catalogue 许可项目目录 (admin), the enterprise's application
wizard 生产企业许可申请 and list 生产企业许可申请管理, the reviewer's 许可审批 and the assessment
institution's 鉴定评审任务 / 评审时间协商 / 评审报告."""

from __future__ import annotations

import secrets

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ecqs import access, workflows
from ecqs.admin_views.base import RoleView, choice_formatter, deny
from ecqs.admin_views.menu import CAT_LICENCE, CAT_SYSTEM
from ecqs.admin_views.xlsx_import_page import ErrorReportMixin, import_page
from ecqs.extensions import db
from ecqs.licences import clock as licence_clock
from ecqs.licences import documents as licence_documents
from ecqs.licences import feedback as licence_feedback
from ecqs.licences import form as licence_form
from ecqs.licences import item_import as licence_item_import
from ecqs.licences import operations as licence_applications
from ecqs.models import (
    LICENCE_APPROVAL_LABELS,
    LICENCE_CATEGORY_LABELS,
    LICENCE_CONCLUSION_LABELS,
    LICENCE_EQUIPMENT_CATEGORIES,
    LICENCE_STATUS_LABELS,
    LicenceApplication,
    LicenceItem,
    LicenceReviewFeedback,
    Organization,
    licence_type_label,
)
from ecqs.services import uploads, workdays, xlsx_export

# ---- 许可项目目录 ------------------------------------------------------------------------------

ITEM_LABELS = {
    "id": _l("编号"),
    "equipment_category": _l("设备类别"),
    "licence_type": _l("许可类型"),
    "item": _l("许可项目"),
    "sub_item": _l("品种"),
    "level": _l("参数级别"),
    "approval": _l("审批级别"),
    "notes": _l("备注"),
    "active": _l("启用"),
}


class LicenceItemView(ErrorReportMixin, RoleView):
    """许可项目目录: administrators maintain the catalogue in the grid and by .xlsx import."""

    roles = frozenset({"admin"})
    can_delete = False  # applications refer to items; retire an item by unticking 启用
    list_template = "licence/item_list.html"
    column_list = ("equipment_category", "licence_type", "item", "sub_item", "level", "approval", "active")
    column_details_list = (*column_list, "notes")
    column_export_list = column_details_list
    column_labels = ITEM_LABELS
    column_searchable_list = ("item", "sub_item", "equipment_category")
    column_filters = ("equipment_category", "licence_type", "approval", "level", "active")
    column_default_sort = "id"
    column_choices = {"approval": list(LICENCE_APPROVAL_LABELS.items())}
    form_columns = (
        "equipment_category",
        "licence_type",
        "item",
        "sub_item",
        "level",
        "approval",
        "notes",
        "active",
    )
    form_overrides = {
        "equipment_category": SelectField,
        "approval": SelectField,
        "notes": TextAreaField,
        "sub_item": StringField,
        "level": StringField,
    }
    form_args = {
        "equipment_category": {"choices": [(c, c) for c in LICENCE_EQUIPMENT_CATEGORIES]},
        "approval": {"choices": list(LICENCE_APPROVAL_LABELS.items())},
        "licence_type": {"validators": [DataRequired(message=_l("此项为必填项")), Length(max=20)]},
        "item": {"validators": [DataRequired(message=_l("此项为必填项")), Length(max=100)]},
        "sub_item": {"validators": [Optional(), Length(max=100)], "filters": [lambda v: v or ""]},
        "level": {"validators": [Optional(), Length(max=10)], "filters": [lambda v: v or ""]},
        "notes": {"validators": [Optional(), Length(max=2000)]},
    }
    page_size = 50

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {"approval": choice_formatter(LICENCE_APPROVAL_LABELS)}

    def on_model_change(self, form, model, is_created):
        model.sub_item = model.sub_item or ""
        model.level = model.level or ""
        with db.session.no_autoflush:
            clash = db.session.execute(
                select(LicenceItem.id).where(
                    LicenceItem.equipment_category == model.equipment_category,
                    LicenceItem.licence_type == model.licence_type,
                    LicenceItem.item == model.item,
                    LicenceItem.sub_item == model.sub_item,
                    LicenceItem.level == model.level,
                    LicenceItem.id != (model.id or 0),
                )
            ).first()
        if clash:
            raise ValidationError(
                _("目录中已有相同的许可项目（设备类别、许可类型、项目、品种、参数级别均相同）")
            )
        super().on_model_change(form, model, is_created)

    @expose("/import/", methods=("GET", "POST"))
    def import_view(self):
        return import_page(
            self,
            licence_item_import.import_items,
            template="licence/item_import.html",
            action="import",
            object_type="LicenceItem",
            max_bytes=licence_item_import.MAX_BYTES,
            summary=lambda r: (
                f"added={r.added} updated={r.updated}",
                _("导入成功：新增 %(a)d 条，更新 %(u)d 条", a=r.added, u=r.updated),
            ),
        )

    @expose("/import/template.xlsx")
    def import_template(self):
        return xlsx_export.xlsx_response(
            _("许可项目目录导入模板") + ".xlsx",
            licence_item_import.headers(),
            licence_item_import.template_rows(),
            sheet_name=_("许可项目目录"),
        )


# ---- shared helpers --------------------------------------------------------------------------

# Transitions that need more than a comment: rendered as their own forms, posted to act_view.
DATA_ACTIONS = ("accept", "request_correction", "propose_dates", "counter_propose", "submit_report", "grant")
STATE_COLOURS = {
    "draft": "secondary",
    "submitted": "primary",
    "correction": "warning",
    "accepted": "info",
    "engaged": "info",
    "scheduled": "info",
    "reviewed": "primary",
    "granted": "success",
    "refused": "danger",
    "rejected": "danger",
    "withdrawn": "dark",
}


def _posted_selection() -> dict:
    """The category, licence type and items chosen on an application's items form."""
    return {
        "category": request.form.get("category", ""),
        "licence_type": request.form.get("licence_type", ""),
        "items": request.form.getlist("items"),
    }


def status_badge(view, context, model, name):
    return Markup('<span class="badge badge-{}" data-status="{}">{}</span>').format(
        STATE_COLOURS.get(model.status, "secondary"), model.status, model.status_label
    )


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


def load_application(application_id) -> LicenceApplication:
    """One application through the scope of the current user, or 404 (and an audit entry)."""
    try:
        key = int(application_id)
    except (TypeError, ValueError):
        abort(404)
    stmt = access.scoped(
        select(LicenceApplication).where(LicenceApplication.id == key), LicenceApplication, current_user
    )
    application = db.session.execute(stmt).scalar()
    if application is None:
        deny(f"LicenceApplication:{application_id}", code=404)
    return application


def feedback_for(application) -> LicenceReviewFeedback | None:
    """The feedback form through its own scope: None for anyone who may not read it."""
    stmt = access.scoped(
        select(LicenceReviewFeedback).where(LicenceReviewFeedback.application_id == application.id),
        LicenceReviewFeedback,
        current_user,
    )
    return db.session.execute(stmt).scalar()


def may_read_feedback(application) -> bool:
    return current_user.role in ("reviewer", "admin") and feedback_for(application) is not None


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


class LicenceApplicationView(RoleView):
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
        "authority",
        "clock",
        "licence_number",
        "licence_valid_until",
    )
    column_labels = APPLICATION_LABELS
    column_searchable_list = ("number",)
    column_filters = ("status", "category", "licence_type", "submitted_at")
    column_choices = {
        "status": list(LICENCE_STATUS_LABELS.items()),
        "category": list(LICENCE_CATEGORY_LABELS.items()),
    }
    column_sortable_list = ("number", "status", "submitted_at", "category", "licence_type")
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
            "status": status_badge,
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
                attr: local_time(attr) for attr in ("submitted_at", "created_at", "accepted_at", "decided_at")
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

    # ---- workflow buttons: comment-only ones generic, the others as forms ----------------

    def available_transitions(self, obj):
        return [t for t in super().available_transitions(obj) if t.action not in DATA_ACTIONS]

    def form_transitions(self, obj):
        return {t.action: t for t in super().available_transitions(obj) if t.action in DATA_ACTIONS}

    def assessor_choices(self):
        return list(
            db.session.execute(
                select(Organization)
                .where(Organization.kind == "assessor", Organization.status == "approved")
                .order_by(Organization.name)
            ).scalars()
        )

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
            for page in licence_form.PAGES
        ]

    def feedback(self, obj):
        return feedback_for(obj) if current_user.role in ("reviewer", "admin") else None

    def may_fill_feedback(self, obj):
        return may_fill_feedback(obj)

    def today(self):
        return workdays.today()

    def conclusion_choices(self):
        return list(LICENCE_CONCLUSION_LABELS.items())

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
        elif (
            current_user.role in ("reviewer", "admin")
            and model.feedback is not None
            and may_read_feedback(model)
        ):
            links.append((self.get_url(".feedback_view", id=model.id), _("评审反馈表"), "feedback"))
        if model.status == "granted":
            links.append((self.get_url(".certificate_view", id=model.id), _("许可证书"), "certificate"))
        return Markup(" ").join(
            Markup('<a class="btn btn-sm btn-outline-primary mb-1" data-link="{}" href="{}">{}</a>').format(
                key, url, label
            )
            for url, label, key in links
        )

    # ---- transitions that carry data -----------------------------------------------------

    @expose("/act/<id>/<action_name>", methods=("POST",))
    def act_view(self, id, action_name):
        application = self.get_one(id)
        return_url = get_redirect_target() or self.get_url(".details_view", id=application.id)
        if action_name not in DATA_ACTIONS:
            abort(404)
        form = request.form
        expected_state = form.get("expected_state") or None
        saved = None
        try:
            workflows.check(application, action_name, current_user, expected_state=expected_state)
            expected_version = form.get("expected_version")
            if expected_version and expected_version != str(application.version):
                raise workflows.StaleTransition(_("该记录已被他人处理，请刷新后重试"))
            data, comment = {}, form.get("comment")
            if action_name == "accept":
                data = {
                    "assessor_org_id": form.get("assessor_org_id"),
                    "contact_name": form.get("contact_name", "")[:100],
                    "contact_phone": form.get("contact_phone", "")[:100],
                }
            elif action_name in ("propose_dates", "counter_propose"):
                data = {"start": form.get("start"), "end": form.get("end")}
            elif action_name == "submit_report":
                if form.get("conclusion") not in LICENCE_CONCLUSION_LABELS:
                    raise workflows.GuardFailed(_("请选择评审结论"))
                saved = uploads.save(request.files.get("report"), user=current_user)
                data = {"report": saved, "conclusion": form.get("conclusion")}
            elif action_name == "grant":
                data = {
                    "licence_number": form.get("licence_number", "")[:100],
                    "valid_from": form.get("valid_from") or None,
                    "valid_until": form.get("valid_until"),
                }
            workflows.transition(
                application, action_name, current_user, comment=comment, expected_state=expected_state, **data
            )
            db.session.commit()
            flash(_("操作成功"), "success")
        except (workflows.WorkflowError, uploads.UploadError) as exc:
            db.session.rollback()
            if saved is not None:
                (uploads.upload_dir() / saved.stored_name).unlink(missing_ok=True)
            flash(str(exc), "error")
        return redirect(return_url)

    # ---- pages beside the grid -----------------------------------------------------------

    @expose("/negotiate/")
    def negotiate_view(self):
        """协商鉴定评审时间: the pending proposal, confirm it or propose other dates."""
        application = self.get_one(request.args.get("id"))
        return self.render(
            "licence/negotiate.html",
            model=application,
            forms=self.form_transitions(application),
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
            if application.feedback is not None:
                flash(_("评审反馈表已提交，不能重复提交（此表仅审批人员可见）"), "warning")
            else:
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
        return self.render_print("licence/print_notice.html", application)

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
    items = model.correction_points.split("\n")
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


# ---- 生产企业许可申请: the multi-page application form -----------------------------------


class LicenceApplyView(BaseView):
    """The wizard: choose items, fill each page of the 许可申请书 (saved as a draft), print the
    current page, submit once everything is complete."""

    roles = frozenset({"enterprise"})

    def is_accessible(self) -> bool:
        user = current_user
        return user.is_authenticated and user.role in self.roles and access.business_user(user)

    def is_visible(self) -> bool:
        return self.is_accessible()

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        if current_user.role in self.roles:
            flash(_("您的单位尚未通过审核，暂不能使用业务功能"), "warning")
            return redirect(url_for("admin.index"))
        deny(f"view:{self.endpoint}")
        return None

    def _editable(self, application_id) -> LicenceApplication | None:
        application = load_application(application_id)
        if not application.can_edit(current_user):
            flash(_("当前状态为“%(state)s”，不能修改", state=application.status_label), "error")
            return None
        return application

    def _steps(self, application):
        steps = [("items", _("申请项目"), bool(application and application.items), True)]
        for p in licence_form.PAGES:
            done = application is not None and licence_form.page_complete(application, p)
            if not p.required:  # an optional page counts as done once something is written on it
                done = done and any(licence_form.values_of(application, p.key).values())
            steps.append((p.key, str(p.title), done, p.required))
        steps.append(("submit", _("提交"), False, False))
        return steps

    def _selection_context(self, application=None, form=None):
        enterprise = current_user.organization
        national = licence_applications.national_authority()
        provincial = licence_applications.provincial_authority(enterprise.province_code)
        chosen = (
            form
            if form is not None
            else {
                "category": application.category if application else "first",
                "licence_type": application.licence_type if application else "",
                "items": [str(i.id) for i in application.items] if application else [],
            }
        )
        return {
            "categories": list(LICENCE_CATEGORY_LABELS.items()),
            "types": [(t, licence_type_label(t)) for t in licence_applications.licence_types()],
            "items": licence_applications.active_items(),
            "chosen": chosen,
            "national": national,
            "provincial": provincial,
        }

    @expose("/", methods=("GET", "POST"))
    def index(self):
        """Start a new application: category, licence type and items (审批机关 shown live)."""
        posted = None
        if request.method == "POST":
            posted = _posted_selection()
            try:
                application = licence_applications.create(
                    current_user.organization,
                    current_user,
                    posted["category"],
                    posted["licence_type"],
                    posted["items"],
                    client_token=(request.form.get("client_token") or "")[:64] or None,
                )
                db.session.commit()
            except licence_applications.DuplicateSubmission as exc:
                db.session.rollback()
                flash(str(exc), "warning")
                return redirect(url_for(".page", application_id=exc.application.id, key="basic"))
            except IntegrityError:
                db.session.rollback()
                flash(_("请勿重复提交，请在“生产企业许可申请管理”中查看已创建的申请"), "warning")
                return redirect(url_for("licence_applications.index_view"))
            except licence_applications.ApplicationError as exc:
                db.session.rollback()
                flash(str(exc), "error")
            else:
                flash(
                    _(
                        "已创建申请 %(number)s，审批机关：%(authority)s。请逐页填写许可申请书。",
                        number=application.number,
                        authority=application.authority.name,
                    ),
                    "success",
                )
                return redirect(url_for(".page", application_id=application.id, key="basic"))
        open_ones = (
            db.session.execute(
                access.scoped(
                    select(LicenceApplication).where(LicenceApplication.status.in_(("draft", "correction"))),
                    LicenceApplication,
                    current_user,
                ).order_by(LicenceApplication.id.desc())
            )
            .scalars()
            .all()
        )
        return self.render(
            "licence/apply_items.html",
            application=None,
            steps=self._steps(None),
            current="items",
            open_ones=open_ones,
            client_token=secrets.token_urlsafe(24),
            **self._selection_context(form=posted),
        )

    @expose("/<int:application_id>/<key>", methods=("GET", "POST"))
    def page(self, application_id, key):
        application = self._editable(application_id)
        if application is None:
            return redirect(url_for("licence_applications.details_view", id=application_id))
        if key == "items":
            return self._items_page(application)
        if key == "submit":
            return self._submit_page(application)
        form_page = licence_form.page(key)
        if form_page is None:
            abort(404)
        errors, values = {}, licence_form.values_of(application, key)
        if request.method == "POST":
            try:
                licence_applications.save_page(application, current_user, key, request.form)
                db.session.commit()
            except licence_form.FormErrors as exc:
                db.session.rollback()
                errors, values = exc.errors, {f.name: request.form.get(f.name, "") for f in form_page.fields}
                flash(str(exc), "error")
            else:
                flash(_("“%(page)s”已保存", page=form_page.title), "success")
                return redirect(url_for(".page", application_id=application.id, key=self._next_key(key)))
        return self.render(
            "licence/apply_page.html",
            application=application,
            page=form_page,
            values=values,
            errors=errors,
            steps=self._steps(application),
            current=key,
            missing=[f.name for f in licence_form.missing_fields(application, form_page)],
        )

    def _next_key(self, key):
        """Where the navigation button asked to go after saving (default: stay)."""
        target = request.form.get("goto") or key
        valid = {"items", "submit", *licence_form.PAGE_BY_KEY}
        return target if target in valid else key

    def _items_page(self, application):
        posted = None
        if request.method == "POST":
            posted = _posted_selection()
            try:
                licence_applications.update_selection(
                    application, current_user, posted["category"], posted["licence_type"], posted["items"]
                )
                db.session.commit()
            except licence_applications.ApplicationError as exc:
                db.session.rollback()
                flash(str(exc), "error")
            else:
                flash(
                    _("申请项目已保存，审批机关：%(authority)s", authority=application.authority.name),
                    "success",
                )
                return redirect(url_for(".page", application_id=application.id, key=self._next_key("items")))
        return self.render(
            "licence/apply_items.html",
            application=application,
            steps=self._steps(application),
            current="items",
            open_ones=[],
            client_token=None,
            **self._selection_context(application, form=posted),
        )

    def _submit_page(self, application):
        action = "resubmit" if application.status == "correction" else "submit"
        if request.method == "POST":
            try:
                workflows.transition(
                    application,
                    action,
                    current_user,
                    expected_state=request.form.get("expected_state") or None,
                )
                db.session.commit()
            except workflows.WorkflowError as exc:
                db.session.rollback()
                flash(str(exc), "error")
                return redirect(url_for(".page", application_id=application.id, key="submit"))
            flash(
                _(
                    "申请 %(number)s 已提交至 %(authority)s",
                    number=application.number,
                    authority=application.authority.name,
                ),
                "success",
            )
            return redirect(url_for("licence_applications.index_view"))
        problems = licence_applications.submission_problems(application)
        try:
            authority = licence_applications.route_authority(application.organization, application.items)
        except licence_applications.ApplicationError:
            authority = None
        return self.render(
            "licence/apply_submit.html",
            application=application,
            steps=self._steps(application),
            current="submit",
            problems=problems,
            authority=authority,
            action=action,
        )


def register(admin) -> None:
    """Add the M2 views to the admin (called from the M2 line of admin_views/__init__.py)."""

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
