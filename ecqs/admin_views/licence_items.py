"""许可项目目录: the licence catalogue grid and its .xlsx import (administrators)."""

from __future__ import annotations

from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ecqs.admin_views.base import RoleView
from ecqs.admin_views.cells import choice_formatter
from ecqs.admin_views.xlsx_import_page import CatalogueImport, CatalogueImportMixin
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.licences import item_import as licence_item_import
from ecqs.models import LICENCE_APPROVAL_LABELS, LICENCE_EQUIPMENT_CATEGORIES, LicenceItem

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


class LicenceItemView(CatalogueImportMixin, RoleView):
    """许可项目目录: administrators maintain the catalogue in the grid and by .xlsx import."""

    catalogue_import = CatalogueImport(
        run=licence_item_import.import_items,
        headers=licence_item_import.headers,
        template_rows=licence_item_import.template_rows,
        object_type="LicenceItem",
        catalogue_name=_l("许可项目目录"),
        template_name=_l("许可项目目录导入模板"),
        heading=_l("许可项目目录 — Excel 导入"),
        help=_l(
            "先下载模板（即当前目录），按列填写后上传。每一行都会校验；只要有一处错误，整个文件都不导入。已有项目（设备类别、许可类型、许可项目、品种、参数级别相同）更新审批级别、备注与启用状态，其余行新增。"
        ),
        template_link_id="licence-item-template",
        max_bytes=licence_item_import.MAX_BYTES,
    )

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
