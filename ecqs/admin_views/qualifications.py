"""M3 grids and pages: 资格认定申请 (the person's two-step application, seed 000 §1.5),
检验、检测人员资格认定申请管理 (seed 000 §1.6 grid), 人员资格审批 (reviewers), 我的证书,
人员资格证书, and 人员项目目录 with its .xlsx import (administrators)."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, request, session, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ecqs import access, workflows
from ecqs.admin_views.base import RoleView
from ecqs.admin_views.cells import choice_formatter, masked, state_badge
from ecqs.admin_views.documents import ApplicationDocumentsMixin
from ecqs.admin_views.menu import CAT_PERSON, CAT_SYSTEM
from ecqs.admin_views.xlsx_import_page import ErrorReportMixin, import_page
from ecqs.documents import operations as document_operations
from ecqs.documents import rules as document_rules
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import (
    APPROVAL_LEVEL_LABELS,
    CERTIFICATE_STATUS_LABELS,
    PERSONNEL_TYPES,
    QUALIFICATION_CATEGORY_LABELS,
    QUALIFICATION_STATUS_LABELS,
    PersonnelProject,
    QualificationApplication,
    QualificationCertificate,
)
from ecqs.qualifications import catalogue as personnel_catalogue
from ecqs.qualifications import documents as certificate_documents
from ecqs.qualifications import operations as qualification_operations
from ecqs.qualifications import rules as qualifications
from ecqs.services import uploads, workdays, xlsx_export
from ecqs.services.masking import mask_id_number


def _dash(attr: str):
    def formatter(view, context, model, name):
        return getattr(model, attr) or "-"

    return formatter


class _MenuRoles:
    """A view reachable by `roles` but listed in the menu only for `menu_roles`."""

    menu_roles: frozenset[str] = frozenset()

    def is_visible(self):
        return self.is_accessible() and current_user.role in self.menu_roles


# --------------------------------------------------------------------------------------------
# 人员项目目录 (administrators)
# --------------------------------------------------------------------------------------------


class PersonnelProjectView(ErrorReportMixin, RoleView):
    """人员项目目录: the catalogue grid; .xlsx template download and all-or-nothing import."""

    roles = frozenset({"admin"})
    can_delete = False  # applications and certificates refer to projects: deactivate instead
    list_template = "qualification/project_list.html"
    column_list = ("personnel_type", "code", "name", "level", "approval_level", "active", "notes")
    column_export_list = column_list
    column_labels = {
        "personnel_type": _l("人员类型"),
        "code": _l("项目代号"),
        "name": _l("项目名称"),
        "level": _l("级别"),
        "approval_level": _l("审批层级"),
        "active": _l("启用"),
        "notes": _l("备注"),
    }
    column_searchable_list = ("code", "name")
    column_filters = ("personnel_type", "approval_level", "active")
    column_default_sort = [("personnel_type", False), ("code", False)]
    column_choices = {"approval_level": list(APPROVAL_LEVEL_LABELS.items())}
    form_columns = ("personnel_type", "code", "name", "level", "approval_level", "notes", "active")
    form_overrides = {"personnel_type": SelectField, "approval_level": SelectField}
    form_args = {
        "personnel_type": {
            "choices": [(t, t) for t in PERSONNEL_TYPES],
            "validators": [DataRequired(message=_l("请选择人员类型"))],
        },
        "approval_level": {
            "choices": [("", _l("未确定")), *APPROVAL_LEVEL_LABELS.items()],
            "validators": [Optional()],
        },
        "code": {"validators": [Optional(), Length(max=30)]},
        "name": {"validators": [Optional(), Length(max=100)]},
        "level": {"validators": [Optional(), Length(max=20)]},
        "notes": {"validators": [Optional(), Length(max=500)]},
    }
    page_size = 50

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "code": _dash("code"),
            "name": _dash("name"),
            "approval_level": lambda v, c, m, n: (
                str(APPROVAL_LEVEL_LABELS[m.approval_level]) if m.approval_level else _("未确定")
            ),
        }

    def on_model_change(self, form, model, is_created):
        errors: list = []
        values = personnel_catalogue.validate_row(
            {
                "personnel_type": model.personnel_type,
                "code": model.code,
                "name": model.name,
                "level": model.level,
                "approval": model.approval_level,
                "notes": model.notes,
            },
            0,
            errors,
        )
        if values is None:
            raise ValidationError("；".join(f"{e.column}：{e.message}" for e in errors))
        with db.session.no_autoflush:
            existing = personnel_catalogue.find_existing(values)
        if existing is not None and existing is not model:
            raise ValidationError(_("目录中已有该项目：%(project)s", project=str(existing)))
        for name in ("personnel_type", "code", "name", "level", "approval_level", "notes"):
            setattr(model, name, values[name])
        super().on_model_change(form, model, is_created)

    @expose("/import/", methods=("GET", "POST"))
    def import_view(self):
        return import_page(
            self,
            personnel_catalogue.import_xlsx,
            template="qualification/project_import.html",
            action="import",
            object_type="PersonnelProject",
            summary=lambda r: (
                f"added={r.added} updated={r.updated}",
                _(
                    "导入成功：新增 %(added)d 项，更新 %(updated)d 项，未变化 %(same)d 项",
                    added=r.added,
                    updated=r.updated,
                    same=r.unchanged,
                ),
            ),
            headers=personnel_catalogue.headers(),
        )

    @expose("/import/template/")
    def import_template(self):
        return xlsx_export.xlsx_response(
            f"人员项目目录导入模板_{datetime.now():%Y%m%d}.xlsx",
            personnel_catalogue.headers(),
            personnel_catalogue.template_rows(),
            sheet_name=str(_("人员项目目录")),
        )


# --------------------------------------------------------------------------------------------
# 资格认定申请: choose the project → fill in and submit (seed 000 §1.5)
# --------------------------------------------------------------------------------------------


class ApplicationForm(FlaskForm):
    project_id = HiddenField()
    province = HiddenField()
    category = RadioField(
        _l("申请类别"),
        choices=list(QUALIFICATION_CATEGORY_LABELS.items()),
        validators=[DataRequired(message=_l("请选择申请类别"))],
    )
    work_unit = StringField(_l("工作单位"), validators=[Optional(), Length(max=120)])
    remarks = TextAreaField(
        _l("申请说明"),
        validators=[Optional(), Length(max=500)],
        description=_l("“变更”申请须写明变更事项"),
    )


DRAFT_KEY = "qualification_draft"  # the application being filled in, until step 3 submits it
MAX_DRAFT_FILES = 20  # all documents together: the draft lives in the session cookie


class QualificationApplyView(BaseView):
    """资格认定申请: the person's two steps. Creation goes through workflows only."""

    roles = frozenset({"person"})

    require_approved_org = False  # persons belong to no organisation
    inaccessible_callback = RoleView.inaccessible_callback

    def is_accessible(self):
        return current_user.is_authenticated and current_user.role in self.roles

    def is_visible(self):
        return self.is_accessible()

    def _projects(self):
        stmt = access.scoped(select(PersonnelProject), PersonnelProject, current_user).where(
            PersonnelProject.active.is_(True)
        )
        stmt = stmt.order_by(
            PersonnelProject.personnel_type.desc(), PersonnelProject.code, PersonnelProject.id
        )
        return list(db.session.execute(stmt).scalars())

    def _project(self, raw) -> PersonnelProject | None:
        try:
            pid = int(raw)
        except (TypeError, ValueError):
            return None
        stmt = access.scoped(select(PersonnelProject), PersonnelProject, current_user).where(
            PersonnelProject.id == pid
        )
        return db.session.execute(stmt).scalar()

    @expose("/")
    def index(self):
        default_province = qualifications.province_from_id_number(current_user.id_number)
        return self.render(
            "qualification/apply_choose.html",
            projects=self._projects(),
            provinces=qualifications.provinces(),
            province=request.args.get("province") or default_province,
            selected=request.args.get("project_id", type=int),
            approval_labels=APPROVAL_LEVEL_LABELS,
        )

    @expose("/fill/", methods=("GET", "POST"))
    def fill(self):
        source = request.form if request.method == "POST" else request.args
        project = self._project(source.get("project_id"))
        if project is None:
            flash(_("请先选择要申请的项目"), "error")
            return redirect(self.get_url(".index"))
        province_code = source.get("province") or qualifications.province_from_id_number(
            current_user.id_number
        )
        try:
            qualification_operations.check_project(project)
        except workflows.WorkflowError as exc:
            flash(str(exc), "error")
            return redirect(self.get_url(".index"))
        try:
            province = qualification_operations.check_province(project, province_code)
        except workflows.WorkflowError as exc:
            flash(str(exc), "error")
            return redirect(self.get_url(".index", project_id=project.id))
        authority = qualifications.find_authority(project.approval_level, province_code)
        form = ApplicationForm(
            formdata=request.form if request.method == "POST" else None,
            project_id=project.id,
            province=province_code or "",
        )
        error = None
        if request.method == "POST" and form.validate() and authority is None:
            try:
                qualification_operations.check_authority(project, province_code)
            except workflows.WorkflowError as exc:
                error = str(exc)
        elif request.method == "POST" and form.validate():
            # The documents step comes next; the files already uploaded for the same project stay.
            previous = session.get(DRAFT_KEY) or {}
            kept = previous.get("documents", {}) if previous.get("project_id") == project.id else {}
            session[DRAFT_KEY] = {
                "project_id": project.id,
                "province": province_code or "",
                "category": form.category.data,
                "work_unit": form.work_unit.data or "",
                "remarks": form.remarks.data or "",
                "documents": kept,
            }
            return redirect(self.get_url(".documents"))
        elif request.method == "POST":
            error = _("请检查填写的内容")
        elif (draft := session.get(DRAFT_KEY)) and draft.get("project_id") == project.id:
            form.category.data = form.category.data or draft.get("category")
            form.work_unit.data = form.work_unit.data or draft.get("work_unit")
            form.remarks.data = form.remarks.data or draft.get("remarks")
        held = qualifications.current_certificate(current_user, project.id, workdays.today())
        return self.render(
            "qualification/apply_fill.html",
            form=form,
            project=project,
            province=province,
            authority=authority,
            held=held,
            error=error,
            approval_labels=APPROVAL_LEVEL_LABELS,
            applied_on=workdays.today(),
        )

    @expose("/documents/", methods=("GET", "POST"))
    def documents(self):
        """第三步：上传申请材料并提交. The files wait (uploads.store(), no database row) in the
        draft of the signed session until the application is created with them."""
        draft = session.get(DRAFT_KEY) or {}
        project = self._project(draft.get("project_id"))
        if project is None or draft.get("category") not in QUALIFICATION_CATEGORY_LABELS:
            flash(_("请先选择申请项目并填写申报信息"), "error")
            return redirect(self.get_url(".index"))
        needed = document_rules.requirements("qualification", project.personnel_type, draft["category"])
        held = draft.setdefault("documents", {})
        error = None
        if request.method == "POST":
            action = request.form.get("action")
            if action in ("upload", "remove"):
                message, category = _change_draft_documents(action, needed, held)
                session[DRAFT_KEY] = draft
                flash(message, category)
                return redirect(self.get_url(".documents"))
            try:
                files = {
                    int(rid): [uploads.reopen(s, n) for s, n in kept] for rid, kept in held.items() if kept
                }
                application = qualification_operations.submit_qualification_application(
                    current_user,
                    project,
                    draft["category"],
                    province_code=draft.get("province") or None,
                    work_unit=draft.get("work_unit"),
                    remarks=draft.get("remarks"),
                    documents=files,
                )
                db.session.commit()
            except (workflows.WorkflowError, uploads.UploadError) as exc:
                db.session.rollback()
                error = str(exc)
            else:
                session.pop(DRAFT_KEY, None)
                flash(
                    _("申请已提交，提交机构：%(authority)s。", authority=application.authority.name),
                    "success",
                )
                return redirect(url_for("my_qualification_applications.details_view", id=application.id))
        present = [int(rid) for rid, kept in held.items() if kept]
        return self.render(
            "qualification/apply_documents.html",
            project=project,
            draft=draft,
            category_label=QUALIFICATION_CATEGORY_LABELS[draft["category"]],
            authority=qualifications.find_authority(project.approval_level, draft.get("province") or None),
            requirements=needed,
            files={r.id: held.get(str(r.id), []) for r in needed},
            missing=document_rules.missing(needed, present),
            unsaved=True,
            removable=True,
            error=error,
        )


def _change_draft_documents(action, needed, held) -> tuple[str, str]:
    """Add uploaded files to, or take one off, the documents of the draft; (message, category)."""
    rid = request.form.get("requirement_id", "")
    requirement = next((r for r in needed if str(r.id) == rid), None)
    if requirement is None:
        return _("所选材料不属于本申请，请刷新页面后重试"), "error"
    kept = held.setdefault(rid, [])
    if action == "remove":
        index = request.form.get("index", type=int)
        if index is None or not 0 <= index < len(kept):
            return _("该文件不存在或已删除"), "error"
        stored, _name = kept.pop(index)
        if uploads.STORED_NAME_RE.fullmatch(stored):
            (uploads.upload_dir() / stored).unlink(missing_ok=True)
        return _("文件已删除"), "success"
    files = [f for f in request.files.getlist(f"files_{rid}") if f.filename]
    if not files:
        return _("请选择要上传的文件"), "error"
    if len(kept) + len(files) > document_operations.MAX_FILES_PER_DOCUMENT:
        return _(
            "每项材料最多 %(n)d 个文件（%(name)s）",
            n=document_operations.MAX_FILES_PER_DOCUMENT,
            name=requirement.name,
        ), "error"
    if sum(len(v) for v in held.values()) + len(files) > MAX_DRAFT_FILES:
        return _("申请材料最多共 %(n)d 个文件", n=MAX_DRAFT_FILES), "error"
    try:
        metas = [uploads.store(f) for f in files]
    except uploads.UploadError as exc:
        return _("“%(name)s”：%(error)s", name=requirement.name, error=str(exc)), "error"
    kept.extend([m["stored_name"], m["original_name"][:80]] for m in metas)
    return _("申请材料已上传"), "success"


# --------------------------------------------------------------------------------------------
# Applications: the person's grid and the reviewers' grid
# --------------------------------------------------------------------------------------------

APPLICATION_LABELS = {
    "id": _l("编号"),
    "application_year": _l("申请年度"),
    "personnel_type": _l("人员类型"),
    "project_code": _l("项目代号"),
    "project_name": _l("项目名称"),
    "project_level": _l("级别"),
    "category": _l("申请类别"),
    "status": _l("申请状态"),
    "authority": _l("提交机构"),
    "authority.name": _l("提交机构"),
    "applied_on": _l("申请日期"),
    "accepted_on": _l("受理日期"),
    "decided_on": _l("办结日期"),
    "applicant_name": _l("申请人"),
    "applicant_id_number": _l("身份证号"),
    "work_unit": _l("工作单位"),
    "province": _l("所在省份"),
    "approval_level": _l("审批层级"),
    "base_certificate": _l("原证书编号"),
    "certificate": _l("颁发证书编号"),
    "remarks": _l("申请说明"),
    "reject_reason": _l("不予批准原因"),
    "correction_points": _l("补正内容"),
}
SEED_GRID = (
    "application_year",
    "personnel_type",
    "project_code",
    "project_name",
    "category",
    "status",
    "authority.name",
    "applied_on",
    "accepted_on",
)


class QualificationApplicationView(_MenuRoles, ApplicationDocumentsMixin, RoleView):
    """人员资格审批: applications addressed to the reviewer's authority (admin: all, read-only).
    Also the details page behind every inbox link, so the applicant may open it too."""

    document_parent_attr = "qualification_application_id"

    roles = frozenset({"person", "reviewer", "admin"})
    menu_roles = frozenset({"reviewer", "admin"})
    can_create = False
    can_edit = False
    can_delete = False
    details_template = "qualification/application_details.html"
    column_list = ("applicant_name", *SEED_GRID)
    column_details_list = (
        "applicant_name",
        "applicant_id_number",
        "work_unit",
        "province",
        "application_year",
        "personnel_type",
        "project_code",
        "project_name",
        "project_level",
        "approval_level",
        "category",
        "base_certificate",
        "remarks",
        "status",
        "authority.name",
        "applied_on",
        "accepted_on",
        "decided_on",
        "correction_points",
        "reject_reason",
        "certificate",
    )
    column_export_list = (
        "applicant_name",
        "applicant_id_number",
        *SEED_GRID,
        "decided_on",
        "reject_reason",
        "certificate",
    )
    column_labels = APPLICATION_LABELS
    column_searchable_list = ("applicant_name", "project_code", "project_name")
    column_filters = (
        "status",
        "category",
        "application_year",
        "personnel_type",
        "project_code",
        "applied_on",
    )
    column_choices = {
        "status": list(QUALIFICATION_STATUS_LABELS.items()),
        "category": list(QUALIFICATION_CATEGORY_LABELS.items()),
        "approval_level": list(APPROVAL_LEVEL_LABELS.items()),
    }
    column_default_sort = ("id", True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        common = {
            "status": state_badge(),
            "category": choice_formatter(QUALIFICATION_CATEGORY_LABELS),
            "project_code": _dash("project_code"),
            "project_name": _dash("project_name"),
            "approval_level": choice_formatter(APPROVAL_LEVEL_LABELS),
            "applicant_id_number": masked("applicant_id_number", "id"),
            "base_certificate": self._certificate_link("base_certificate"),
            "certificate": self._certificate_link("certificate"),
            "correction_points": _correction_points,
        }
        self.column_formatters = dict(common)
        # The details page is seen only by the applicant and the addressed authority: full ID.
        self.column_formatters_detail = {k: v for k, v in common.items() if k != "applicant_id_number"}
        self.column_formatters_export = {
            "status": choice_formatter(QUALIFICATION_STATUS_LABELS),
            "category": choice_formatter(QUALIFICATION_CATEGORY_LABELS),
            "applicant_id_number": masked("applicant_id_number", "id"),
            "certificate": lambda v, c, m, n: m.certificate.number if m.certificate else "",
        }

    @staticmethod
    def _certificate_link(attr):
        def formatter(view, context, model, name):
            cert = getattr(model, attr)
            if cert is None:
                return ""
            endpoint = "my_certificates" if current_user.role == "person" else "qualification_certificates"
            if not access.is_visible(cert, current_user):
                return cert.number
            url = url_for(f"{endpoint}.details_view", id=cert.id)
            return Markup('<a href="{}" id="certificate-link-{}">{}</a>').format(url, attr, cert.number)

        return formatter

    @expose("/correct/", methods=("GET", "POST"))
    def correct_view(self):
        """补正申请材料: while 待补正 the applicant replaces the documents the notice names (and
        may add or remove others); resubmitting is the workflow's 补正后重新提交 on the details page."""
        application = self.get_one(request.args.get("id"))
        details = self.get_url(".details_view", id=application.id)
        if application.status != "correction" or application.applicant_id != current_user.id:
            flash(_("当前状态为“%(state)s”，不能修改申请材料", state=self.state_label(application)), "error")
            return redirect(details)
        if request.method == "POST":
            try:
                if request.form.get("action") == "upload":
                    requirement_id = request.form.get("requirement_id")
                    files = request.files.getlist(f"files_{requirement_id}")
                    document_operations.attach(application, requirement_id, files, current_user)
                    flash(_("申请材料已上传"), "success")
                else:
                    document_operations.remove(application, request.form.get("document_id"), current_user)
                    flash(_("文件已删除（仍保留在办理记录中）"), "success")
                db.session.commit()
            except document_operations.DocumentError as exc:
                db.session.rollback()
                flash(str(exc), "error")
            return redirect(self.get_url(".correct_view", id=application.id))
        needed = document_rules.application_requirements(application)
        current = document_rules.current_documents(application)
        return self.render(
            "qualification/correct_documents.html",
            model=application,
            details=details,
            requirements=needed,
            files={r.id: [d for d in current if d.requirement_id == r.id] for r in needed},
            missing=document_rules.missing(needed, (d.requirement_id for d in current)),
            to_replace=document_rules.correction_pending(application),
            max_files=document_operations.MAX_FILES_PER_DOCUMENT,
            document_endpoint=self.endpoint + ".document_view",
            removable=True,
        )

    @expose("/notice/")
    def notice_view(self):
        """补正告知书 as a printable A4 page, for the applicant and the reviewing authority (the
        application's scope: anyone else 404), once the authority asked for a correction."""
        application = self.get_one(request.args.get("id"))
        if not application.correction_points:
            abort(404)  # no notice was issued: nothing to print
        return self.render(
            "qualification/print_notice.html",
            application=application,
            points=document_rules.correction_list(application.correction_points),
            category=QUALIFICATION_CATEGORY_LABELS[application.category],
            back=self.get_url(".details_view", id=application.id),
        )

    def certificate_print_url(self, model) -> str | None:
        """打印资格证书 of an approved application, through the certificate's own scope."""
        cert = model.certificate
        if cert is None or not access.is_visible(cert, current_user):
            return None
        endpoint = "my_certificates" if current_user.role == "person" else "qualification_certificates"
        return url_for(f"{endpoint}.print_view", id=cert.id)

    def approve_defaults(self, model) -> dict:
        """Prefill of the approval form: today, and for a 变更 the old certificate's expiry."""
        base = model.base_certificate
        return {
            "issued_on": workdays.today().isoformat(),
            "valid_until": base.valid_until.isoformat()
            if base is not None and model.category == "change"
            else "",
            "number": "",
        }

    def deadline(self, model):
        wf = self.workflow
        return wf.deadline(model) if wf and wf.deadline else None

    def transition_done(self, obj, action_name) -> str:
        if action_name == "approve":
            return _("已审核通过，证书编号：%(number)s", number=obj.certificate.number)
        return super().transition_done(obj, action_name)


def _correction_points(view, context, model, name):
    if not model.correction_points:
        return ""
    return Markup("<ol class='mb-0 pl-3' id='correction-points'>{}</ol>").format(
        Markup("").join(
            Markup("<li>{}</li>").format(p) for p in document_rules.correction_list(model.correction_points)
        )
    )


class MyQualificationApplicationView(QualificationApplicationView):
    """检验、检测人员资格认定申请管理: the person's own applications, as in seed 000 §1.6."""

    roles = frozenset({"person"})
    menu_roles = frozenset({"person"})
    primary_for_model = False
    list_template = "qualification/my_application_list.html"
    column_list = SEED_GRID
    column_export_list = (*SEED_GRID, "decided_on", "reject_reason", "certificate")
    column_searchable_list = ("project_code", "project_name")
    column_filters = ("status", "category", "application_year")


# --------------------------------------------------------------------------------------------
# Certificates
# --------------------------------------------------------------------------------------------

CERTIFICATE_LABELS = {
    "number": _l("证书编号"),
    "holder_name": _l("持证人"),
    "holder_id_number": _l("身份证号"),
    "personnel_type": _l("人员类型"),
    "project_code": _l("项目代号"),
    "project_name": _l("项目名称"),
    "level": _l("级别"),
    "issued_on": _l("发证日期"),
    "valid_until": _l("有效期至"),
    "authority": _l("发证机关"),
    "authority.name": _l("发证机关"),
    "status": _l("证书状态"),
    "application": _l("申请记录"),
}


def _certificate_status(view, context, model, name):
    # One predicate for the grid, the printed page and the public verification page.
    if qualifications.certificate_standing(model, workdays.today()) == "expired":
        return Markup('<span class="badge badge-danger" data-status="expired">{}</span>').format(_("已过期"))
    return _state_badge(view, context, model, name)


_state_badge = state_badge()


def _certificate_status_text(view, context, model, name):
    if qualifications.certificate_standing(model, workdays.today()) == "expired":
        return _("已过期")
    return str(CERTIFICATE_STATUS_LABELS.get(model.status, model.status))


class CertificateView(_MenuRoles, RoleView):
    """人员资格证书: certificates issued by the reviewer's authority (admin: all)."""

    roles = frozenset({"person", "reviewer", "admin"})
    menu_roles = frozenset({"reviewer", "admin"})
    can_create = False
    can_edit = False
    can_delete = False
    details_template = "qualification/certificate_details.html"
    column_list = (
        "number",
        "holder_name",
        "holder_id_number",
        "personnel_type",
        "project_code",
        "project_name",
        "level",
        "issued_on",
        "valid_until",
        "authority.name",
        "status",
    )
    column_details_list = column_list
    column_export_list = column_list
    column_labels = CERTIFICATE_LABELS
    column_searchable_list = ("number", "holder_name", "holder_id_number", "project_code")
    column_filters = ("status", "personnel_type", "project_code", "issued_on", "valid_until")
    column_choices = {"status": list(CERTIFICATE_STATUS_LABELS.items())}
    column_default_sort = ("id", True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "status": _certificate_status,
            "holder_id_number": masked("holder_id_number", "id"),
            "project_code": _dash("project_code"),
            "project_name": _dash("project_name"),
        }
        self.column_formatters_detail = dict(self.column_formatters)
        self.column_formatters_export = {
            "status": _certificate_status_text,
            "holder_id_number": masked("holder_id_number", "id"),
        }

    @expose("/print/")
    def print_view(self):
        """资格证书 as a printable A4 page with the QR code of its public verification page; the
        resident ID in full for the holder and staff only (rules.shows_full_id_number)."""
        certificate = self.get_one(request.args.get("id", ""))
        url = certificate_documents.verify_url(certificate)
        standing, message = certificate_documents.verdict(certificate)
        full = qualifications.shows_full_id_number(current_user, certificate)
        return self.render(
            "qualification/print_certificate.html",
            certificate=certificate,
            id_number=certificate.holder_id_number if full else mask_id_number(certificate.holder_id_number),
            standing=standing,
            message=message,
            verify_url=url,
            qr=certificate_documents.qr_data_uri(url),
            back=self.get_url(".details_view", id=certificate.id),
        )


class MyCertificateView(CertificateView):
    """我的证书: certificates issued to the signed-in person."""

    roles = frozenset({"person"})
    menu_roles = frozenset({"person"})
    primary_for_model = False
    details_template = "qualification/my_certificate_details.html"
    # The staff grid's columns without the holder (the person is the holder).
    column_list = tuple(
        c for c in CertificateView.column_list if c not in ("holder_name", "holder_id_number")
    )
    column_details_list = ("holder_name", *column_list)
    column_export_list = column_list
    column_searchable_list = ("number", "project_code")
    column_filters = ("status", "project_code")


def register(admin) -> None:
    """Add the M3 views with the menu labels of seed 000 and SPEC's menu table."""
    s = db.session
    admin.add_view(
        QualificationApplyView(name=_l("资格认定申请"), category=CAT_PERSON, endpoint="qualification_apply")
    )
    admin.add_view(
        MyQualificationApplicationView(
            QualificationApplication,
            s,
            name=_l("检验、检测人员资格认定申请管理"),
            category=CAT_PERSON,
            endpoint="my_qualification_applications",
        )
    )
    admin.add_view(
        MyCertificateView(QualificationCertificate, s, name=_l("我的证书"), endpoint="my_certificates")
    )
    admin.add_view(
        QualificationApplicationView(
            QualificationApplication, s, name=_l("人员资格审批"), endpoint="qualification_applications"
        )
    )
    admin.add_view(
        CertificateView(
            QualificationCertificate, s, name=_l("人员资格证书"), endpoint="qualification_certificates"
        )
    )
    admin.add_view(
        PersonnelProjectView(
            PersonnelProject, s, name=_l("人员项目目录"), category=CAT_SYSTEM, endpoint="personnel_projects"
        )
    )
