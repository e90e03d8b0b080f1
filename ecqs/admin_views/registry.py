"""M4 part 1 grids (seed 004 §3.2): 单位信息管理, 单位账号管理, 二级单位管理, 单位信息变更 and
单位资质管理 for the unit's accounts; 单位注册审核, 单位变更审核 and 单位资质审核 for association
staff. Creating a record goes through ecqs.registry.operations; decisions through the engine."""

from __future__ import annotations

from flask import flash, request
from flask_admin.form import rules as form_rules
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    DateField,
    FileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from ecqs.admin_views.accounts import ORG_LABELS, SubAccountView
from ecqs.admin_views.base import RoleView
from ecqs.admin_views.cells import choice_formatter, masked, state_badge
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import (
    CHANGE_FIELD_LABELS,
    CHANGE_KIND_LABELS,
    MEMBER_TYPE_LABELS,
    ORG_STATUS_LABELS,
    REGISTRY_STATUS_LABELS,
    UNIT_QUALIFICATION_TYPES,
    Organization,
)
from ecqs.registry import operations, rules
from ecqs.services import validators

UNIT = frozenset({"unit"})
STAFF = frozenset({"association", "admin"})


def file_or_flash(operation, *args, **kwargs):
    """Create a registry record through ``operation`` and commit; a RegistryError is flashed and
    rolled back, and create_model answers False as Flask-Admin expects."""
    try:
        row = operation(*args, **kwargs)
        db.session.commit()
    except operations.RegistryError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return False
    return row


def deadline_badge(submitted_attr: str = "submitted_at"):
    """审核期限: the third working day after submission; overdue pending rows in red."""

    def formatter(view, context, model, name):
        deadline = rules.review_deadline(getattr(model, submitted_attr))
        if deadline is None:
            return ""
        if rules.is_overdue(deadline, model.status == "pending"):
            return Markup('<span class="badge badge-danger" data-overdue="1">{} {}</span>').format(
                deadline.isoformat(), _("已逾期")
            )
        return deadline.isoformat()

    return formatter


def expiry_badge(view, context, model, name):
    flag = rules.expiry_flag(model.valid_until) if model.status == "approved" else None
    text = model.valid_until.isoformat() if model.valid_until else ""
    if flag == "expired":
        return Markup('<span class="badge badge-danger" data-expiry="expired">{} {}</span>').format(
            text, _("已过期")
        )
    if flag == "expiring":
        return Markup('<span class="badge badge-warning" data-expiry="expiring">{} {}</span>').format(
            text, _("30 天内到期")
        )
    return text


# ---- 单位信息管理 ---------------------------------------------------------------------------

INVOICE_FIELDS = ("taxpayer_id", "taxpayer_name", "tax_address", "tax_phone", "bank_name", "bank_account")


def _strip(value):
    """Empty answers are stored as NULL, others without surrounding spaces."""
    return (value.strip() or None) if isinstance(value, str) else value


class UnitInfoView(RoleView):
    """单位信息管理: the unit's own record. Contact details that need no review are edited here;
    name, legal person, USCC, address, postcode and authorised contact only by a change request."""

    roles = UNIT
    primary_for_model = False
    can_create = False
    can_delete = False
    can_export = False
    file_fields = ("licence_upload",)
    column_list = ("name", "uscc", "legal_rep_name", "division", "contact_name", "status")
    column_details_list = (
        "name",
        "uscc",
        "member_type",
        "legal_rep_name",
        "cert_type",
        "cert_level",
        "cert_industry",
        "division",
        "address",
        "postcode",
        "phone",
        "email",
        "contact_name",
        "contact_mobile",
        "contact_position",
        "licence_upload",
        *INVOICE_FIELDS,
        "status",
        "approved_at",
    )
    column_labels = {
        **ORG_LABELS,
        "uscc": _l("机构代码"),
        "legal_rep_name": _l("单位法人"),
        "division": _l("省市区划"),
        "address": _l("单位地址"),
        "postcode": _l("单位邮编"),
        "contact_name": _l("执业公示授权联系人"),
        "contact_mobile": _l("联系人手机"),
        "email": _l("联系人邮箱"),
        "cert_type": _l("机构类型"),
        "contact_position": _l("联系人职务"),
        "member_type": _l("会员性质"),
        "taxpayer_id": _l("纳税人识别号"),
        "taxpayer_name": _l("纳税人名称"),
        "tax_address": _l("税务登记地址"),
        "tax_phone": _l("税务登记电话"),
        "bank_name": _l("开户银行"),
        "bank_account": _l("银行账号"),
    }
    # What the unit edits itself (seed 004 §3.2.1); name, legal person, USCC, address, postcode
    # and the authorised contact change only through 单位信息变更.
    form_columns = ("member_type", "phone", "email", "contact_position", *INVOICE_FIELDS)
    form_edit_rules = (
        form_rules.Header(_l("基本信息")),
        "member_type",
        "phone",
        "email",
        "contact_position",
        form_rules.Header(_l("开票信息")),
        *INVOICE_FIELDS,
    )
    form_choices = {"member_type": list(MEMBER_TYPE_LABELS.items())}
    form_args = {
        "member_type": {"validators": [DataRequired(_l("请选择会员性质"))]},
        "phone": {"validators": [Optional(), validators.phone_field], "filters": [_strip]},
        "email": {"validators": [Optional(), Email(message=_l("邮箱格式不正确"))], "filters": [_strip]},
        "contact_position": {"validators": [Optional(), Length(max=30)], "filters": [_strip]},
        "taxpayer_id": {"validators": [Optional(), validators.taxpayer_id_field], "filters": [_strip]},
        "taxpayer_name": {"validators": [Optional(), Length(max=120)], "filters": [_strip]},
        "tax_address": {"validators": [Optional(), Length(max=200)], "filters": [_strip]},
        "tax_phone": {"validators": [Optional(), validators.phone_field], "filters": [_strip]},
        "bank_name": {"validators": [Optional(), Length(max=100)], "filters": [_strip]},
        "bank_account": {"validators": [Optional(), validators.bank_account_field], "filters": [_strip]},
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "status": state_badge(ORG_STATUS_LABELS),
            "licence_upload": self.file_link("licence_upload"),
        }
        self.column_formatters_detail = {
            "status": state_badge(ORG_STATUS_LABELS),
            "member_type": choice_formatter(MEMBER_TYPE_LABELS),
            "contact_mobile": masked("contact_mobile", "mobile"),
            "licence_upload": self.file_link("licence_upload"),
        }

    def get_query(self):
        return super().get_query().filter(Organization.id == current_user.organization_id)

    def get_count_query(self):
        return super().get_count_query().filter(Organization.id == current_user.organization_id)

    @property
    def can_edit(self):
        return rules.is_unit_admin(current_user)

    def on_model_change(self, form, model, is_created):
        if not rules.is_unit_admin(current_user):
            raise operations.RegistryError(_("只有单位管理员账号可以修改单位信息"))
        super().on_model_change(form, model, is_created)

    def handle_view_exception(self, exc):
        if isinstance(exc, operations.RegistryError):
            flash(str(exc), "error")
            return True
        return super().handle_view_exception(exc)


class UnitAccountView(SubAccountView):
    """单位账号管理 (seed 004 §3.2.2): only the unit's admin account."""

    roles = UNIT

    def is_accessible(self):
        return super().is_accessible() and rules.is_unit_admin(current_user)


# ---- 二级单位管理 ---------------------------------------------------------------------------


class BranchForm(FlaskForm):
    name = StringField(_l("单位名称"), [DataRequired(message=_l("请填写单位名称")), Length(max=120)])
    uscc = StringField(_l("组织机构代码"), [Optional()])
    address = StringField(_l("单位地址"), [Optional(), Length(max=200)])
    phone = StringField(_l("单位电话"), [Optional(), Length(max=30)])
    contact_name = StringField(_l("联系人"), [Optional(), Length(max=50)])
    contact_mobile = StringField(_l("联系人手机号"), [Optional(), validators.mobile_field])


class BranchView(RoleView):
    """二级单位管理 (seed 004 §3.2.3): the admin account's branches; their practitioners count
    under the parent unit."""

    roles = UNIT
    primary_for_model = False
    can_delete = False
    column_list = ("name", "cert_type", "uscc", "address", "contact_name", "approved_at")
    column_details_list = (
        "name",
        "uscc",
        "cert_type",
        "division",
        "address",
        "phone",
        "contact_name",
        "contact_mobile",
        "parent",
    )
    column_export_list = column_list
    column_labels = {
        **ORG_LABELS,
        "uscc": _l("组织机构代码"),
        "cert_type": _l("机构类别"),
        "approved_at": _l("创建时间"),
    }
    form_columns = ("name", "address", "phone", "contact_name", "contact_mobile")
    form_args = {
        "name": {"validators": [DataRequired(message=_l("请填写单位名称")), Length(max=120)]},
        "contact_mobile": {"validators": [Optional(), validators.mobile_field]},
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {"contact_mobile": masked("contact_mobile", "mobile")}
        self.column_formatters_detail = {"contact_mobile": masked("contact_mobile", "mobile")}

    def is_accessible(self):
        return super().is_accessible() and rules.is_unit_admin(current_user)

    def get_query(self):
        return super().get_query().filter(Organization.parent_id == current_user.organization_id)

    def get_count_query(self):
        return super().get_count_query().filter(Organization.parent_id == current_user.organization_id)

    def create_form(self, obj=None):
        return BranchForm(request.form if request.method == "POST" else None)

    def create_model(self, form):
        return file_or_flash(
            operations.create_branch,
            current_user,
            form.name.data,
            uscc=form.uscc.data,
            address=form.address.data,
            phone=form.phone.data,
            contact_name=form.contact_name.data,
            contact_mobile=form.contact_mobile.data,
            cert_type=current_user.organization.cert_type,
        )


# ---- 单位信息变更 ---------------------------------------------------------------------------


def comparison(view, context, model, name):
    """当前信息为 / 希望变更为, side by side; a split compares with the new unit."""
    rows = []
    for field, label in CHANGE_FIELD_LABELS.items():
        old = (model.current_values or {}).get(field) or ""
        new = (model.requested_values or {}).get(field) or ""
        changed = old != new
        rows.append(
            Markup("<tr{}><th>{}</th><td>{}</td><td>{}</td></tr>").format(
                Markup(' class="table-warning" data-changed="1"') if changed else "", label, old, new
            )
        )
    new_heading = _("拆分出的新单位") if model.kind == "split" else _("希望变更为")
    return Markup(
        '<table class="table table-sm table-bordered mb-0" id="change-comparison"><thead><tr><th></th>'
        "<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>"
    ).format(_("当前信息为"), new_heading, Markup("").join(rows))


CHANGE_LABELS = {
    "number": _l("变更申请单号"),
    "organization": _l("单位名称"),
    "organization.uscc": _l("机构代码"),
    "kind": _l("变更原因"),
    "comparison": _l("变更内容"),
    "partner": _l("被合并单位"),
    "created_unit": _l("拆分出的新单位"),
    "reason": _l("变更说明"),
    "proof_upload": _l("证明资料"),
    "status": _l("审核状态"),
    "reject_reason": _l("驳回原因"),
    "submitted_at": _l("申请时间"),
    "deadline": _l("审核期限"),
    "decided_at": _l("审核时间"),
}


class ChangeRequestForm(FlaskForm):
    kind = RadioField(_l("变更原因"), choices=list(CHANGE_KIND_LABELS.items()), default="info")
    name = StringField(CHANGE_FIELD_LABELS["name"], [Optional(), Length(max=120)])
    legal_rep_name = StringField(CHANGE_FIELD_LABELS["legal_rep_name"], [Optional(), Length(max=50)])
    uscc = StringField(CHANGE_FIELD_LABELS["uscc"], [Optional()])
    address = StringField(CHANGE_FIELD_LABELS["address"], [Optional(), Length(max=200)])
    postcode = StringField(CHANGE_FIELD_LABELS["postcode"], [Optional()])
    contact_name = StringField(CHANGE_FIELD_LABELS["contact_name"], [Optional(), Length(max=50)])
    contact_mobile = StringField(CHANGE_FIELD_LABELS["contact_mobile"], [Optional()])
    partner_uscc = StringField(_l("被合并单位的统一社会信用代码（单位合并）"), [Optional()])
    split_branch_ids = SelectMultipleField(
        _l("随新单位拆分出的二级单位（单位拆分）"), coerce=int, validate_choice=False
    )
    reason = TextAreaField(_l("变更说明"), [Optional(), Length(max=500)])
    proof = FileField(_l("证明资料"))


class _ChangeRequestBase(RoleView):
    can_edit = False
    can_delete = False
    file_fields = ("proof_upload",)
    column_labels = CHANGE_LABELS
    column_filters = ("kind", "status", "submitted_at")
    column_choices = {
        "kind": list(CHANGE_KIND_LABELS.items()),
        "status": list(REGISTRY_STATUS_LABELS.items()),
    }
    column_default_sort = ("submitted_at", True)
    column_details_list = (
        "number",
        "organization",
        "kind",
        "comparison",
        "partner",
        "created_unit",
        "reason",
        "proof_upload",
        "status",
        "reject_reason",
        "submitted_at",
        "deadline",
        "decided_at",
    )
    column_export_list = (
        "number",
        "organization",
        "kind",
        "status",
        "reject_reason",
        "submitted_at",
        "decided_at",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "status": state_badge(),
            "kind": choice_formatter(CHANGE_KIND_LABELS),
            "deadline": deadline_badge(),
            "proof_upload": self.file_link("proof_upload"),
        }
        self.column_formatters_detail = {**self.column_formatters, "comparison": comparison}


class UnitChangeRequestView(_ChangeRequestBase):
    """单位信息变更 (seed 004 §3.2.4): the unit's history of change requests and 新建变更申请."""

    roles = UNIT
    primary_for_model = False
    column_list = ("number", "kind", "status", "submitted_at", "decided_at", "reject_reason")

    @property
    def can_create(self):
        return rules.is_unit_admin(current_user)

    def create_form(self, obj=None):
        org = current_user.organization
        form = ChangeRequestForm(request.form if request.method == "POST" else None)
        if request.method != "POST" and org is not None:
            for field, value in rules.current_values(org).items():
                getattr(form, field).data = value
        form.split_branch_ids.choices = [
            (b.id, b.name)
            for b in db.session.execute(
                db.select(Organization).where(Organization.parent_id == current_user.organization_id)
            ).scalars()
        ]
        return form

    def create_model(self, form):
        return file_or_flash(
            operations.file_change_request,
            current_user,
            form.kind.data,
            {name: getattr(form, name).data for name in CHANGE_FIELD_LABELS},
            proof=request.files.get("proof"),
            partner_uscc=form.partner_uscc.data,
            split_branch_ids=form.split_branch_ids.data,
            reason=form.reason.data,
        )


class ChangeReviewView(_ChangeRequestBase):
    """单位变更审核: association staff approve (the change applies at once) or reject."""

    roles = STAFF
    can_create = False
    column_list = ("number", "organization", "kind", "status", "submitted_at", "deadline", "decided_at")
    column_searchable_list = ("number",)


# ---- 单位资质管理 ---------------------------------------------------------------------------


QUALIFICATION_LABELS = {
    "number": _l("申请单号"),
    "organization": _l("单位名称"),
    "organization.uscc": _l("组织机构代码"),
    "qual_type": _l("申请资质"),
    "certificate_number": _l("核准证号"),
    "issued_on": _l("发证日期"),
    "valid_until": _l("有效日期"),
    "certificate_upload": _l("资质证书"),
    "remarks": _l("备注"),
    "status": _l("审核状态"),
    "reject_reason": _l("驳回原因"),
    "submitted_at": _l("申请日期"),
    "deadline": _l("审核期限"),
    "decided_at": _l("审核时间"),
}


class QualificationRequestForm(FlaskForm):
    qual_type = SelectField(_l("申请资质"), choices=list(UNIT_QUALIFICATION_TYPES.items()))
    certificate_number = StringField(
        _l("核准证号"), [DataRequired(message=_l("请填写核准证号")), Length(max=60)]
    )
    issued_on = DateField(_l("发证日期"), [DataRequired(message=_l("请输入正确的日期"))])
    valid_until = DateField(_l("有效日期"), [DataRequired(message=_l("请输入正确的日期"))])
    certificate = FileField(_l("资质证书图片"))
    remarks = TextAreaField(_l("备注"), [Optional(), Length(max=500)])


class _QualificationBase(RoleView):
    can_edit = False
    can_delete = False
    file_fields = ("certificate_upload",)
    column_labels = QUALIFICATION_LABELS
    column_filters = ("status", "qual_type", "valid_until", "submitted_at")
    column_choices = {
        "qual_type": list(UNIT_QUALIFICATION_TYPES.items()),
        "status": list(REGISTRY_STATUS_LABELS.items()),
    }
    column_default_sort = ("submitted_at", True)
    column_details_list = (
        "number",
        "organization",
        "qual_type",
        "certificate_number",
        "issued_on",
        "valid_until",
        "certificate_upload",
        "remarks",
        "status",
        "reject_reason",
        "submitted_at",
        "deadline",
        "decided_at",
    )
    column_export_list = (
        "number",
        "organization",
        "qual_type",
        "certificate_number",
        "issued_on",
        "valid_until",
        "status",
        "submitted_at",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "status": state_badge(),
            "qual_type": choice_formatter(UNIT_QUALIFICATION_TYPES),
            "valid_until": expiry_badge,
            "deadline": deadline_badge(),
            "certificate_upload": self.file_link("certificate_upload"),
        }
        self.column_formatters_detail = dict(self.column_formatters)
        self.column_formatters_export = {
            "qual_type": choice_formatter(UNIT_QUALIFICATION_TYPES),
            "valid_until": lambda v, c, m, n: m.valid_until,
        }


class UnitQualificationView(_QualificationBase):
    """单位资质管理 (seed 004 §3.2.5): 新增资质申请 and the review status of each."""

    roles = UNIT
    primary_for_model = False
    column_list = (
        "number",
        "qual_type",
        "certificate_number",
        "issued_on",
        "valid_until",
        "submitted_at",
        "status",
    )

    @property
    def can_create(self):
        return rules.is_unit_admin(current_user)

    def create_form(self, obj=None):
        return QualificationRequestForm(request.form if request.method == "POST" else None)

    def create_model(self, form):
        return file_or_flash(
            operations.file_qualification_request,
            current_user,
            form.qual_type.data,
            form.certificate_number.data,
            form.issued_on.data,
            form.valid_until.data,
            certificate=request.files.get("certificate"),
            remarks=form.remarks.data,
        )


class QualificationReviewView(_QualificationBase):
    """单位资质审核: association staff."""

    roles = STAFF
    can_create = False
    column_list = (
        "number",
        "organization",
        "qual_type",
        "certificate_number",
        "valid_until",
        "submitted_at",
        "deadline",
        "status",
    )
    column_searchable_list = ("number", "certificate_number")


# ---- 单位注册审核 ---------------------------------------------------------------------------
