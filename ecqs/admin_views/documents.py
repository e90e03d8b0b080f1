"""申请材料: the catalogue grid 申请材料目录 with its .xlsx import (administrators), and the
download door of an application's files, which every application grid with documents mixes in:
a file is served only through the scope of its application (another organisation: 404)."""

from __future__ import annotations

from flask import request
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ecqs import access
from ecqs.admin_views.base import RoleView, deny
from ecqs.admin_views.cells import choice_formatter
from ecqs.admin_views.menu import CAT_SYSTEM
from ecqs.admin_views.xlsx_import_page import CatalogueImport, CatalogueImportMixin
from ecqs.documents import catalogue as document_catalogue
from ecqs.documents import rules as document_rules
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import DOCUMENT_DOMAIN_LABELS, ApplicationDocument, DocumentRequirement
from ecqs.services import audit, uploads

REQUIREMENT_LABELS = {
    "domain": _l("业务"),
    "name": _l("材料名称"),
    "applies_to": _l("适用类型"),
    "categories": _l("适用申请类别"),
    "required": _l("是否必须提交"),
    "basis": _l("依据"),
    "sort_order": _l("排序"),
    "active": _l("启用"),
}


def _all_when_empty(view, context, model, name):
    return getattr(model, name) or _("全部")


class DocumentRequirementView(CatalogueImportMixin, RoleView):
    """申请材料目录: which documents a licence or qualification application must (or may) carry."""

    catalogue_import = CatalogueImport(
        run=document_catalogue.import_requirements,
        headers=document_catalogue.headers,
        template_rows=document_catalogue.template_rows,
        object_type="DocumentRequirement",
        catalogue_name=_l("申请材料目录"),
        template_name=_l("申请材料目录导入模板"),
        heading=_l("申请材料目录 — Excel 导入"),
        help=_l(
            "先下载模板（即当前目录），按列填写后上传。业务填“生产单位许可”或“人员资格认定”；适用类型、适用申请类别多个用“、”分隔，不填表示全部。每一行都会校验；只要有一处错误，整个文件都不导入。已有材料（业务、材料名称相同）按文件更新，其余行新增。"
        ),
        template_link_id="document-requirement-template",
        max_bytes=document_catalogue.MAX_BYTES,
    )

    roles = frozenset({"admin"})
    can_delete = False  # applications refer to the documents: deactivate instead
    list_template = "documents/requirement_list.html"
    column_list = ("domain", "name", "applies_to", "categories", "required", "basis", "active")
    column_details_list = (*column_list, "sort_order")
    column_export_list = column_details_list
    column_labels = REQUIREMENT_LABELS
    column_searchable_list = ("name", "applies_to", "basis")
    column_filters = ("domain", "required", "active")
    column_default_sort = [("domain", False), ("sort_order", False)]
    column_choices = {"domain": list(DOCUMENT_DOMAIN_LABELS.items())}
    form_columns = ("domain", "name", "applies_to", "categories", "required", "basis", "sort_order", "active")
    form_overrides = {"domain": SelectField, "applies_to": StringField, "categories": StringField}
    form_args = {
        "domain": {"choices": list(DOCUMENT_DOMAIN_LABELS.items())},
        "name": {"validators": [DataRequired(message=_l("此项为必填项")), Length(max=100)]},
        "applies_to": {
            "validators": [Optional(), Length(max=200)],
            "filters": [lambda v: v or ""],
            "description": _l("许可类型或人员类型，多个用“、”分隔；不填表示全部"),
        },
        "categories": {
            "validators": [Optional(), Length(max=200)],
            "filters": [lambda v: v or ""],
            "description": _l("申请类别，多个用“、”分隔；不填表示全部"),
        },
        "basis": {"validators": [Optional(), Length(max=300)]},
    }
    page_size = 50

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "domain": choice_formatter(DOCUMENT_DOMAIN_LABELS),
            "applies_to": _all_when_empty,
            "categories": _all_when_empty,
        }

    def on_model_change(self, form, model, is_created):
        # The grid checks a row exactly as the import does (one validation).
        errors = []
        record = {
            "domain": model.domain or "",
            "name": (model.name or "").strip(),
            "applies_to": model.applies_to or "",
            "categories": model.categories or "",
            "required": "是" if model.required else "否",
            "basis": model.basis or "",
            "sort_order": str(model.sort_order or 0),
            "active": "是" if model.active else "否",
        }
        with db.session.no_autoflush:
            row = document_catalogue.validate_row(record, 0, errors)
            if row is None:
                raise ValidationError("；".join(e.message for e in errors))
            clash = db.session.execute(
                select(DocumentRequirement.id).where(
                    DocumentRequirement.domain == row["domain"],
                    DocumentRequirement.name == row["name"],
                    DocumentRequirement.id != (model.id or 0),
                )
            ).first()
        if clash:
            raise ValidationError(_("该业务已有同名的申请材料"))
        model.name, model.applies_to, model.categories = row["name"], row["applies_to"], row["categories"]
        super().on_model_change(form, model, is_created)


class ApplicationDocumentsMixin:
    """/document/<id>: one file of an application of this grid, through the application's
    scope (get_one: 404 for anyone who may not see the application), audited."""

    document_parent_attr = "licence_application_id"

    @expose("/document/<document_id>")
    def document_view(self, document_id):
        key = int(document_id) if str(document_id).isdigit() and len(str(document_id)) < 12 else None
        document = None
        if key is not None:
            stmt = select(ApplicationDocument).where(ApplicationDocument.id == key)
            stmt = access.scoped(stmt, ApplicationDocument, current_user)
            document = db.session.execute(stmt).scalar()
        if document is None or getattr(document, self.document_parent_attr) is None:
            deny(f"ApplicationDocument:{str(document_id)[:20]}", code=404)
        parent = self.get_one(str(getattr(document, self.document_parent_attr)))
        audit.record("file_download", user=current_user, obj=parent, comment=document.upload.original_name)
        db.session.commit()
        return uploads.serve(document.upload)

    def documents(self, obj):
        return document_rules.summary(obj)

    def correction_choices(self, obj):
        """The documents a 补正告知书 may ask to replace: those of this application's catalogue."""
        return document_rules.application_requirements(obj)

    def transition_inputs(self, obj, action_name) -> dict:
        inputs = super().transition_inputs(obj, action_name)
        if action_name == "request_correction":
            inputs["documents"] = request.form.getlist("documents")
        return inputs


def register(admin) -> None:
    admin.add_view(
        DocumentRequirementView(
            DocumentRequirement,
            db.session,
            name=_l("申请材料目录"),
            category=CAT_SYSTEM,
            endpoint="document_requirements",
        )
    )
