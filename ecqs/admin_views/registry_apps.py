"""M4 part 2, the unit's publicity applications (seed 004 §3.3, §4): 注册申报管理 → 新建注册申报单,
执业公示申报单 (print, upload + SMS code), 已驳回申报单; 注册人员管理 → 公示人员实名验证; and
association staff's 执业公示审核 and 人工核验. Records are created and changed through
ecqs.registry.application_operations and the engine; register() adds the views."""

from __future__ import annotations

import math

from flask import flash, redirect, request
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import FileField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ecqs.admin_views.base import RoleView
from ecqs.admin_views.cells import choice_formatter, masked, state_badge
from ecqs.admin_views.menu import CAT_REGISTRY_REVIEW
from ecqs.admin_views.registry import STAFF, UNIT, deadline_badge, file_or_flash
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import (
    APPLICATION_KIND_LABELS,
    THREE_FACTOR_LABELS,
    PublicityApplication,
    RealNameVerification,
    utcnow,
)
from ecqs.registry import application_operations as ops
from ecqs.registry import eligibility, rules
from ecqs.registry.operations import RegistryError
from ecqs.services import three_factor, workdays
from ecqs.services.masking import mask_id_number

CAT_APPLY = _l("注册申报管理")
CAT_PEOPLE = _l("注册人员管理")
RESULT_LABELS = {
    "awaiting_upload": _l("未审核"),
    "submitted": _l("未审核"),
    "approved": _l("通过"),
    "rejected": _l("驳回"),
    "expired": _l("逾期作废"),
}
UPLOAD_HINT = _l("请于一周内打印申报单，签字、盖章后，拍照上传至申报单，提交审核。过期将需要重新申请。")
PUBLICITY_REQUEST = _l(
    "本单位申请对上述人员及其执业项目在中国特种设备检验协会执业公示系统中予以公示，"
    "公示内容以审核通过的信息为准，身份证号部分隐藏。"
)
CONSENT = _l(
    "本单位承诺：申报信息真实、准确，申报单经执业人本人、单位授权人签字并加盖单位公章；"
    "执业人同意本单位为其办理执业公示。"
)


def countdown_text(model) -> str:
    """倒计时: days (or hours on the last day) left to upload; '-' once submitted or ended."""
    if model.status != "awaiting_upload":
        return "-"
    left = (model.deadline - utcnow()).total_seconds()
    if left <= 0:
        return _("已逾期")
    if left < 86400:
        return _("%(n)d小时", n=math.ceil(left / 3600))
    return _("%(n)d天", n=math.ceil(left / 86400))


def countdown(view, context, model, name):
    text = countdown_text(model)
    if model.status == "awaiting_upload" and (model.deadline - utcnow()).total_seconds() < 86400:
        return Markup('<span class="badge badge-warning" data-countdown="1">{}</span>').format(text)
    return Markup('<span data-countdown="1">{}</span>').format(text)


def status_with_hint(view, context, model, name):
    badge = state_badge()(view, context, model, name)
    if model.status == "awaiting_upload":
        return Markup('{}<div class="small text-muted">{}</div>').format(badge, UPLOAD_HINT)
    if model.status == "rejected" and model.reject_reason:
        return Markup('{}<div class="small text-danger">{}</div>').format(badge, model.reject_reason)
    return badge


def items_table(view, context, model, name):
    rows = [
        Markup("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>").format(
            item.project_code or "-",
            item.project_name or "-",
            item.level or "-",
            item.certificate_number or "-",
            item.certificate_valid_until.isoformat() if item.certificate_valid_until else "-",
        )
        for item in model.items
    ]
    return Markup(
        '<table class="table table-sm table-bordered mb-0" id="application-items"><thead><tr>'
        "<th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>"
    ).format(_("项目代号"), _("项目名称"), _("级别"), _("证书编号"), _("证书有效期至"), Markup("").join(rows))


APPLICATION_LABELS = {
    "number": _l("申报单号"),
    "person_name": _l("申报人姓名"),
    "id_number": _l("申报人身份证"),
    "mobile": _l("申报人电话"),
    "kind": _l("注册类型"),
    "created_at": _l("申报日期"),
    "countdown": _l("倒计时"),
    "result": _l("审核结果"),
    "status": _l("审核状态"),
    "organization": _l("申请单位"),
    "previous_organization": _l("原单位"),
    "items": _l("申报资质项目"),
    "three_factor": _l("三要素验证"),
    "form_upload": _l("申报单图片"),
    "resignation_upload": _l("离职证明"),
    "deadline": _l("上传截止时间"),
    "submitted_at": _l("提交时间"),
    "review_deadline": _l("审核期限"),
    "decided_at": _l("审核时间"),
    "reject_reason": _l("驳回原因"),
}


class _ApplicationBase(RoleView):
    can_create = False
    can_edit = False
    can_delete = False
    file_fields = ("form_upload", "resignation_upload")
    column_labels = APPLICATION_LABELS
    column_filters = ("kind", "status", "created_at")
    column_choices = {"kind": list(APPLICATION_KIND_LABELS.items())}
    column_searchable_list = ("number", "person_name", "id_number")
    column_default_sort = ("created_at", True)
    column_list = (
        "number",
        "person_name",
        "id_number",
        "mobile",
        "kind",
        "created_at",
        "countdown",
        "result",
        "status",
    )
    column_export_list = column_list
    column_details_list = (
        "number",
        "organization",
        "kind",
        "person_name",
        "id_number",
        "mobile",
        "three_factor",
        "previous_organization",
        "items",
        "created_at",
        "deadline",
        "form_upload",
        "resignation_upload",
        "status",
        "submitted_at",
        "decided_at",
        "reject_reason",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "id_number": masked("id_number", "id"),
            "mobile": masked("mobile", "mobile"),
            "kind": choice_formatter(APPLICATION_KIND_LABELS),
            "countdown": countdown,
            "result": choice_formatter(RESULT_LABELS, "status"),
            "status": status_with_hint,
            "review_deadline": deadline_badge(),
        }
        self.column_formatters_detail = {
            "kind": choice_formatter(APPLICATION_KIND_LABELS),
            "three_factor": choice_formatter(THREE_FACTOR_LABELS),
            "items": items_table,
            "status": status_with_hint,
            "form_upload": self.file_link("form_upload"),
            "resignation_upload": self.file_link("resignation_upload"),
        }
        self.column_formatters_export = {
            "kind": choice_formatter(APPLICATION_KIND_LABELS),
            "countdown": lambda v, c, m, n: countdown_text(m),
            "result": choice_formatter(RESULT_LABELS, "status"),
            "status": lambda v, c, m, n: v.workflow.state_label(m.status),
        }

    def _expire_on_access(self):
        ops.expire_for_unit(None if current_user.role in STAFF else current_user.organization_id)

    @expose("/")
    def index_view(self):
        self._expire_on_access()
        return super().index_view()

    @expose("/details/")
    def details_view(self):
        self._expire_on_access()
        return super().details_view()

    def available_transitions(self, obj):
        # 提交审核 happens on the upload page, after the practitioner's SMS code.
        return [t for t in super().available_transitions(obj) if t.action != "submit"]


class PublicityApplicationView(_ApplicationBase):
    """执业公示申报单: the unit's applications; print the form, upload it with the SMS code."""

    roles = UNIT
    primary_for_model = False
    list_template = "registry/application_list.html"
    fast_list_rows = False  # the template adds 打印/上传 to the row buttons
    details_template = "registry/application_details.html"

    def is_accessible(self):
        return super().is_accessible() and rules.is_unit_admin(current_user)

    @expose("/print/<int:id>")
    def print_view(self, id):
        return self._print_page(
            id, "registry/application_print.html", lambda application: {"consent": CONSENT}
        )

    @expose("/publicity_print/<int:id>")
    def publicity_print_view(self, id):
        """打印拟公示申请表: what the publicity will show of the application, to sign and stamp;
        the same rows, states and void mark as 打印申报单 (print_view)."""
        return self._print_page(
            id,
            "registry/application_publicity_print.html",
            lambda application: {
                # Masked as the public query (registry.public.public_row) will publish it.
                "id_number": mask_id_number(application.id_number),
                "request_text": PUBLICITY_REQUEST,
            },
        )

    def _print_page(self, id, template: str, extra):
        """A printable form of one of this unit's applications (the view's own scope), marked
        void once its week has run out; `extra(application)` adds the form's own values."""
        application = self.get_one(str(id))
        ops.expire_if_overdue(application)
        db.session.commit()
        return self.render(
            template,
            application=application,
            org=application.organization,
            kind=APPLICATION_KIND_LABELS[application.kind],
            void=application.status == "expired",
            back=self.get_url(".index_view"),
            **extra(application),
        )

    def _upload_context(self, application, **extra):
        return {
            "application": application,
            "kind": APPLICATION_KIND_LABELS[application.kind],
            "three_factor_label": THREE_FACTOR_LABELS[application.three_factor],
            "verifier": three_factor.verifier().description,
            "can_correct": application.three_factor == "mismatch" and application.mobile_corrections < 1,
            "needs_resignation": application.kind == "change" and application.resignation_upload_id is None,
            **extra,
        }

    @expose("/upload/<int:id>", methods=("GET", "POST"))
    def upload_view(self, id):
        application = self.get_one(str(id))
        if ops.expire_if_overdue(application):
            db.session.commit()
        if request.method == "POST":
            try:
                ops.submit(
                    application,
                    current_user,
                    request.files.get("form_file"),
                    request.form.get("code"),
                    resignation=request.files.get("resignation"),
                    expected_version=request.form.get("expected_version"),
                )
                db.session.commit()
                flash(_("申报单已上传，已提交审核"), "success")
                return redirect(self.get_url(".index_view"))
            except ops.CodeRefused as exc:
                db.session.commit()  # the counted try of a wrong code, nothing else
                flash(str(exc), "error")
            except RegistryError as exc:
                db.session.rollback()
                flash(str(exc), "error")
        return self.render("registry/application_upload.html", **self._upload_context(application))

    @expose("/code/<int:id>", methods=("POST",))
    def code_view(self, id):
        application = self.get_one(str(id))
        try:
            sent = ops.send_code(application, current_user)
            db.session.commit()
            if sent:
                flash(_("短信验证码已发送至执业人手机，24 小时内有效"), "success")
            else:
                flash(_("实名三要素验证未通过，请核对执业人手机号"), "error")
        except RegistryError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        return redirect(self.get_url(".upload_view", id=id))

    @expose("/mobile/<int:id>", methods=("POST",))
    def mobile_view(self, id):
        application = self.get_one(str(id))
        try:
            outcome = ops.correct_mobile(application, current_user, request.form.get("mobile"))
            db.session.commit()
            if outcome.passed:
                flash(_("手机号已修改，实名验证通过"), "success")
            else:
                flash(
                    _("修改后的手机号仍未通过实名验证，请到“公示人员实名验证”申请人工核验"),
                    "error",
                )
        except RegistryError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        return redirect(self.get_url(".upload_view", id=id))


class RejectedApplicationView(PublicityApplicationView):
    """已驳回申报单: the unit's rejected applications with the reason."""

    list_template = "admin/ecqs_list.html"
    column_list = ("number", "person_name", "id_number", "kind", "created_at", "decided_at", "reject_reason")
    column_export_list = column_list

    def get_query(self):
        return super().get_query().filter(PublicityApplication.status == "rejected")

    def get_count_query(self):
        return super().get_count_query().filter(PublicityApplication.status == "rejected")


class PublicityReviewView(_ApplicationBase):
    """执业公示审核: association staff approve (publish) or reject uploaded applications."""

    roles = STAFF
    column_list = (
        "number",
        "organization",
        "person_name",
        "id_number",
        "kind",
        "submitted_at",
        "review_deadline",
        "status",
    )
    column_export_list = column_list
    column_searchable_list = ("number", "person_name", "id_number")


# ---- 新建注册申报单 ------------------------------------------------------------------------------


class NewApplicationView(BaseView):
    """新建注册申报单 (seed 004 §3.3.1-3): 人员检索 → the type or the eligibility table → create;
    追加 lists the unit's people with new items, created in one batch after the consent."""

    roles = UNIT
    require_approved_org = True
    inaccessible_callback = RoleView.inaccessible_callback

    def is_accessible(self):
        return (
            current_user.is_authenticated
            and current_user.role in self.roles
            and rules.is_unit_admin(current_user)
        )

    def is_visible(self):
        return self.is_accessible()

    @expose("/")
    def index(self):
        name = (request.args.get("name") or "").strip()
        id_number = (request.args.get("id_number") or "").strip()
        result, error = None, None
        if name or id_number:
            try:
                result = ops.search(current_user, name, id_number)
            except RegistryError as exc:
                error = str(exc)
        additions = eligibility.addition_candidates(current_user.organization)
        return self.render(
            "registry/application_new.html",
            name=name,
            id_number=id_number,
            result=result,
            error=error,
            additions=additions,
            addition_items=sum(len(a.certificates) for a in additions),
            kind_labels=APPLICATION_KIND_LABELS,
            consent=CONSENT,
            today=workdays.today(),
        )

    @expose("/create", methods=("POST",))
    def create(self):
        name, id_number = request.form.get("name"), request.form.get("id_number")
        if request.form.get("consent") != "1":
            flash(_("请确认承诺条款后再创建申报单"), "error")
            return redirect(self.get_url(".index", name=name, id_number=id_number))
        row = file_or_flash(
            ops.create_application,
            current_user,
            name,
            id_number,
            # The item checkboxes narrow the items; a post without them applies for every item.
            project_ids=request.form.getlist("project_ids") if request.form.get("items_shown") else None,
            resignation=request.files.get("resignation"),
        )
        if not row:
            return redirect(self.get_url(".index", name=name, id_number=id_number))
        flash(_("申报单 %(number)s 已创建，请在 7 天内打印、签字盖章并上传", number=row.number), "success")
        return redirect(self.get_url("publicity_applications.details_view", id=row.id))

    @expose("/additions", methods=("POST",))
    def additions(self):
        rows = file_or_flash(
            ops.create_additions,
            current_user,
            request.form.getlist("id_numbers"),
            request.form.get("consent") == "1",
        )
        if rows:
            flash(_("已创建 %(n)d 份追加申报单，请在 7 天内逐份打印、签字盖章并上传", n=len(rows)), "success")
            return redirect(self.get_url("publicity_applications.index_view"))
        return redirect(self.get_url(".index"))


# ---- 公示人员实名验证 / 人工核验 --------------------------------------------------------------------


class VerificationForm(FlaskForm):
    person_name = StringField(_l("公示人员"), [DataRequired(message=_l("请填写人员姓名")), Length(max=50)])
    id_number = StringField(_l("身份证号"), [DataRequired(message=_l("请填写身份证号"))])
    mobile = StringField(_l("手机号"), [DataRequired(message=_l("请填写手机号"))])
    proof = FileField(_l("证明材料（身份证、手机号实名登记证明等）"))
    remarks = TextAreaField(_l("说明"), [Optional(), Length(max=500)])


VERIFICATION_LABELS = {
    "person_name": _l("姓名"),
    "id_number": _l("身份证号"),
    "mobile": _l("手机号"),
    "status": _l("验证结果"),
    "organization": _l("申请单位"),
    "application": _l("申报单号"),
    "remarks": _l("说明"),
    "proof_upload": _l("证明材料"),
    "created_at": _l("验证时间"),
    "submitted_at": _l("申请时间"),
    "deadline": _l("审核期限"),
    "decided_at": _l("核验时间"),
    "reject_reason": _l("不通过原因"),
}


class _VerificationBase(RoleView):
    can_edit = False
    can_delete = False
    file_fields = ("proof_upload",)
    column_labels = VERIFICATION_LABELS
    column_filters = ("status", "created_at")
    column_searchable_list = ("person_name", "id_number", "mobile")
    column_default_sort = ("created_at", True)
    column_details_list = (
        "organization",
        "application",
        "person_name",
        "id_number",
        "mobile",
        "remarks",
        "proof_upload",
        "status",
        "created_at",
        "submitted_at",
        "decided_at",
        "reject_reason",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "id_number": masked("id_number", "id"),
            "mobile": masked("mobile", "mobile"),
            "status": state_badge(),
            "deadline": deadline_badge("submitted_at"),
            "proof_upload": self.file_link("proof_upload"),
        }
        self.column_formatters_detail = {
            "status": state_badge(),
            "proof_upload": self.file_link("proof_upload"),
        }


class RealNameVerificationView(_VerificationBase):
    """公示人员实名验证: the unit's three-factor mismatches and manual verification requests."""

    roles = UNIT
    primary_for_model = False
    column_list = ("person_name", "id_number", "mobile", "created_at", "status")
    column_export_list = column_list

    @property
    def can_create(self):
        return rules.is_unit_admin(current_user)

    def create_form(self, obj=None):
        return VerificationForm(request.form if request.method == "POST" else None)

    def create_model(self, form):
        proof = request.files.get("proof")
        return file_or_flash(
            ops.file_verification,
            current_user,
            form.person_name.data,
            form.id_number.data,
            form.mobile.data,
            proof=proof if proof is not None and proof.filename else None,
            remarks=form.remarks.data,
        )


class ManualVerificationReviewView(_VerificationBase):
    """人工核验: association staff decide the units' manual verification requests."""

    roles = STAFF
    can_create = False
    column_list = ("organization", "person_name", "id_number", "mobile", "submitted_at", "deadline", "status")
    column_export_list = column_list


def register(admin) -> None:
    s = db.session
    admin.add_view(
        NewApplicationView(name=_l("新建注册申报单"), category=CAT_APPLY, endpoint="publicity_new")
    )
    admin.add_view(
        PublicityApplicationView(
            PublicityApplication,
            s,
            name=_l("执业公示申报单"),
            category=CAT_APPLY,
            endpoint="publicity_applications",
        )
    )
    admin.add_view(
        RejectedApplicationView(
            PublicityApplication,
            s,
            name=_l("已驳回申报单"),
            category=CAT_APPLY,
            endpoint="publicity_rejected",
        )
    )
    admin.add_view(
        RealNameVerificationView(
            RealNameVerification,
            s,
            name=_l("公示人员实名验证"),
            category=CAT_PEOPLE,
            endpoint="real_name_checks",
        )
    )
    admin.add_view(
        PublicityReviewView(
            PublicityApplication,
            s,
            name=_l("执业公示审核"),
            category=CAT_REGISTRY_REVIEW,
            endpoint="publicity_review",
        )
    )
    admin.add_view(
        ManualVerificationReviewView(
            RealNameVerification,
            s,
            name=_l("人工核验"),
            category=CAT_REGISTRY_REVIEW,
            endpoint="real_name_review",
        )
    )
