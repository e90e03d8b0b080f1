"""M0 grids: organisations (review), users, sub-accounts, enterprise links, divisions, SMS
outbox, notices, notifications and the audit log."""

from __future__ import annotations

from flask import flash, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import LazyString
from flask_login import current_user
from markupsafe import Markup
from wtforms import Form, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp, ValidationError

from ecqs import workflows
from ecqs.accounts import operations as accounts_operations
from ecqs.accounts import workflows as accounts_workflows
from ecqs.admin_views.base import RoleView, deny, endpoint_for_model
from ecqs.admin_views.cells import choice_formatter, masked, state_badge
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import (
    ENTERPRISE_TYPE_LABELS,
    LEGAL_FORM_LABELS,
    LINK_STATUS_LABELS,
    ORG_KIND_LABELS,
    ORG_STATUS_LABELS,
    ROLE_LABELS,
    User,
)
from ecqs.services import audit, sms, validators
from ecqs.services.masking import mask_mobile

ORG_LABELS = {
    "id": _l("编号"),
    "dissolved": _l("破产解散"),
    "kind": _l("单位类别"),
    "name": _l("单位名称"),
    "uscc": _l("统一社会信用代码"),
    "legal_form": _l("企业性质"),
    "enterprise_type": _l("企业类型"),
    "division": _l("所在地"),
    "division_code": _l("行政区划代码"),
    "address": _l("详细地址"),
    "postcode": _l("邮编"),
    "phone": _l("单位电话"),
    "email": _l("邮箱"),
    "legal_rep_name": _l("法定代表人"),
    "legal_rep_id_number": _l("法定代表人身份证号"),
    "contact_name": _l("联系人"),
    "contact_id_number": _l("联系人身份证号"),
    "contact_mobile": _l("联系人手机号"),
    "licence_upload": _l("营业执照"),
    "cert_type": _l("认证类型"),
    "cert_level": _l("级别"),
    "cert_industry": _l("行业"),
    "authority_level": _l("审批层级"),
    "parent": _l("上级单位"),
    "status": _l("审核状态"),
    "reject_reason": _l("驳回原因"),
    "submitted_at": _l("提交时间"),
    "approved_at": _l("审核通过时间"),
}


def _organization_detail_formatters(view) -> dict:
    """An organisation's details page, the staff grid's and the organisation's own alike."""
    return {
        "status": state_badge(ORG_STATUS_LABELS),
        "kind": choice_formatter(ORG_KIND_LABELS),
        "legal_form": choice_formatter(LEGAL_FORM_LABELS),
        "enterprise_type": choice_formatter(ENTERPRISE_TYPE_LABELS),
        "licence_upload": view.file_link("licence_upload"),
    }


class OrganizationView(RoleView):
    """单位/机构管理 and 单位注册审核."""

    roles = frozenset({"admin", "association"})
    can_create = False
    can_delete = False
    can_edit = True
    file_fields = ("licence_upload",)
    column_list = (
        "name",
        "kind",
        "uscc",
        "division",
        "contact_name",
        "contact_mobile",
        "status",
        "submitted_at",
    )
    column_details_list = (
        "name",
        "kind",
        "uscc",
        "legal_form",
        "enterprise_type",
        "division",
        "address",
        "phone",
        "legal_rep_name",
        "legal_rep_id_number",
        "contact_name",
        "contact_id_number",
        "contact_mobile",
        "licence_upload",
        "cert_type",
        "cert_level",
        "cert_industry",
        "status",
        "reject_reason",
        "submitted_at",
        "approved_at",
        "dissolved",
    )
    column_export_list = column_details_list
    column_labels = ORG_LABELS
    column_searchable_list = ("name", "uscc")
    column_filters = ("status", "kind", "submitted_at")
    column_default_sort = ("submitted_at", True)
    column_choices = {
        "kind": list(ORG_KIND_LABELS.items()),
        "status": list(ORG_STATUS_LABELS.items()),
        "legal_form": list(LEGAL_FORM_LABELS.items()),
        "enterprise_type": list(ENTERPRISE_TYPE_LABELS.items()),
    }
    form_columns = (
        "name",
        "address",
        "postcode",
        "phone",
        "email",
        "contact_name",
        "contact_mobile",
        "dissolved",
    )
    form_args = {
        "dissolved": {
            "description": _l("单位已破产或解散：其执业人员变更注册到新单位时，不受“在原单位满 1 年”的限制")
        }
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "status": state_badge(ORG_STATUS_LABELS),
            "kind": choice_formatter(ORG_KIND_LABELS),
            "legal_form": choice_formatter(LEGAL_FORM_LABELS),
            "enterprise_type": choice_formatter(ENTERPRISE_TYPE_LABELS),
            "contact_mobile": masked("contact_mobile", "mobile"),
            "legal_rep_id_number": masked("legal_rep_id_number", "id"),
            "contact_id_number": masked("contact_id_number", "id"),
            "licence_upload": self.file_link("licence_upload"),
        }
        self.column_formatters_detail = _organization_detail_formatters(self)


# Institutions read 我的机构信息, enterprises and units 我的企业信息 (one view, one URL).
INSTITUTION_ROLES = frozenset({"metrology", "assessor"})


def _my_organization_title() -> str:
    if current_user and getattr(current_user, "role", None) in INSTITUTION_ROLES:
        return _("我的机构信息")
    return _("我的企业信息")


MY_ORGANIZATION_TITLE = LazyString(_my_organization_title)


class ContactForm(Form):
    contact_name = StringField(_l("联系人"), [DataRequired(message=_l("请填写联系人")), Length(max=50)])
    phone = StringField(
        _l("联系电话"),
        [
            DataRequired(message=_l("请填写联系电话")),
            Regexp(r"^[0-9\-]{7,20}$", message=_l("电话号码格式不正确")),
        ],
    )
    address = StringField(_l("详细地址"), [DataRequired(message=_l("请填写详细地址")), Length(max=200)])


class MyOrganizationView(RoleView):
    """我的企业信息 / 我的机构信息: an organisation user's own organisation, read-only but
    resubmittable; its administrator keeps the contact person, phone and address current."""

    roles = frozenset({"enterprise", "metrology", "assessor", "unit"})
    details_template = "admin/my_organization_details.html"
    require_approved_org = False
    primary_for_model = False
    can_create = False
    can_edit = False
    can_delete = False
    can_export = False
    file_fields = ("licence_upload",)
    column_list = ("name", "uscc", "division", "status", "reject_reason", "submitted_at")
    column_details_list = OrganizationView.column_details_list
    column_labels = ORG_LABELS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "status": state_badge(ORG_STATUS_LABELS),
            "licence_upload": self.file_link("licence_upload"),
        }
        self.column_formatters_detail = _organization_detail_formatters(self)

    def may_edit_contact(self, org) -> bool:
        return bool(current_user.is_org_admin and org.id == current_user.organization_id)

    @expose("/contact/", methods=("GET", "POST"))
    def contact_view(self):
        """修改联系信息: contact person, phone and address of the user's own organisation."""
        org = self.get_one(request.args.get("id", ""))
        if not self.may_edit_contact(org):
            deny(f"contact:{org.id}", obj=org)
        form = ContactForm(request.form if request.method == "POST" else None, obj=org)
        if request.method == "POST":
            if form.validate():
                accounts_operations.update_contact(
                    org,
                    current_user,
                    contact_name=form.contact_name.data,
                    phone=form.phone.data,
                    address=form.address.data,
                )
                db.session.commit()
                flash(_("联系信息已保存"), "success")
                return redirect(self.get_url(".details_view", id=org.id))
            flash(_("请修改标红的内容后再提交"), "error")
        return self.render("admin/my_organization_contact.html", form=form, model=org)


USER_LABELS = {
    "username": _l("用户名"),
    "role": _l("角色"),
    "organization": _l("所属单位"),
    "is_org_admin": _l("单位管理员账号"),
    "real_name": _l("姓名"),
    "id_number": _l("身份证号"),
    "mobile": _l("手机号"),
    "email": _l("邮箱"),
    "active": _l("启用"),
    "locked_until": _l("锁定至"),
    "created_at": _l("创建时间"),
    "last_login_at": _l("最近登录"),
    "password": _l("密码"),
    "password_confirm": _l("确认密码"),
}


def switch_accounts(users, action: str) -> None:
    """停用 / 启用 through the ACCOUNT workflow (its audit); accounts already in the target
    state are left alone, as before; a refusal is shown per account."""
    target = accounts_workflows.ACCOUNT.get(action).target
    for user in users:
        if user.account_status == target:
            continue
        try:
            workflows.transition(user, action, current_user)
        except workflows.WorkflowError as exc:
            flash(f"{user}: {exc}", "error")
    db.session.commit()


class _AccountFormMixin:
    # The account grids switch accounts with their own 停用/启用 actions (through the ACCOUNT
    # workflow); the record page keeps showing no 办理 card.
    workflow = None
    """Create form with password + policy; the hash is never a form field."""

    form_excluded_columns = (
        "password_hash",
        "failed_logins",
        "locked_until",
        "password_changed_at",
        "created_at",
        "last_login_at",
        "created_by_id",
        "session_token",
    )

    def _password_fields(self, form_class, required: bool):
        policy = validators.password_field("username")
        checks = [DataRequired(message=_l("请输入密码")), policy] if required else [Optional(), policy]
        form_class.password = PasswordField(_l("密码"), checks)
        form_class.password_confirm = PasswordField(
            _l("确认密码"), [EqualTo("password", message=_l("两次输入的密码不一致"))]
        )
        return form_class

    def get_create_form(self):
        return self._password_fields(super().get_create_form(), required=True)

    def get_edit_form(self):
        return self._password_fields(super().get_edit_form(), required=False)

    def _check_unique(self, form, model):
        # no_autoflush: the half-built account must not be flushed by the query below.
        with db.session.no_autoflush:
            for attr, label in (("username", _("用户名")), ("mobile", _("手机号"))):
                value = getattr(model, attr)
                if not value:
                    continue
                clash = db.session.execute(
                    db.select(User.id).where(getattr(User, attr) == value, User.id != (model.id or 0))
                ).first()
                if clash:
                    raise ValidationError(_("%(label)s“%(value)s”已被使用", label=label, value=value))


class UserView(_AccountFormMixin, RoleView):
    """用户管理 (administrators)."""

    roles = frozenset({"admin"})
    can_delete = False
    column_list = (
        "username",
        "role",
        "organization",
        "real_name",
        "mobile",
        "active",
        "locked_until",
        "last_login_at",
    )
    column_details_list = (*column_list, "id_number", "email", "is_org_admin", "created_at")
    column_export_list = column_details_list
    column_labels = USER_LABELS
    column_searchable_list = ("username", "real_name", "mobile")
    column_filters = ("role", "active")
    column_choices = {"role": list(ROLE_LABELS.items())}
    form_columns = (
        "username",
        "role",
        "organization",
        "is_org_admin",
        "real_name",
        "id_number",
        "mobile",
        "email",
        "active",
    )
    form_args = {
        "username": {"validators": [DataRequired(), validators.username_field]},
        "mobile": {"validators": [Optional(), validators.mobile_field]},
        "id_number": {"validators": [Optional(), validators.id_number_field]},
        "email": {"validators": [Optional(), Email(message=_l("邮箱格式不正确"))]},
        # Choices at class level: the form is built inside __init__, later assignments are lost.
        "role": {"choices": list(ROLE_LABELS.items())},
    }
    form_overrides = {"role": SelectField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "role": choice_formatter(ROLE_LABELS),
            "mobile": masked("mobile", "mobile"),
            "id_number": masked("id_number", "id"),
        }

    def on_model_change(self, form, model, is_created):
        self._check_unique(form, model)
        if form.password.data:
            model.set_password(form.password.data)
        super().on_model_change(form, model, is_created)

    @action("disable", _l("停用账号"), _l("确定停用选中的账号吗？"))
    def action_disable(self, ids):
        switch_accounts(self.scoped_rows(ids), "disable")
        flash(_("已停用所选账号"), "success")

    @action("enable", _l("启用账号"))
    def action_enable(self, ids):
        switch_accounts(self.scoped_rows(ids), "enable")
        flash(_("已启用所选账号"), "success")


class SubAccountView(_AccountFormMixin, RoleView):
    """子账号: only an organisation's admin account creates and disables them (inspection units
    have their own 单位账号管理, admin_views/registry.py)."""

    roles = frozenset({"enterprise", "metrology", "assessor"})
    primary_for_model = False
    can_delete = False
    can_export = True
    column_list = ("username", "real_name", "mobile", "is_org_admin", "active", "created_at", "last_login_at")
    column_details_list = (
        "username",
        "organization",
        "real_name",
        "id_number",
        "mobile",
        "email",
        "is_org_admin",
        "active",
        "locked_until",
        "created_at",
        "last_login_at",
    )
    column_export_list = column_list
    column_labels = USER_LABELS
    form_columns = ("username", "real_name", "mobile", "email")
    form_args = {
        "username": {"validators": [DataRequired(), validators.username_field]},
        "real_name": {"validators": [DataRequired(), Length(max=50)]},
        "mobile": {"validators": [DataRequired(), validators.mobile_field]},
        "email": {"validators": [Optional(), Email(message=_l("邮箱格式不正确"))]},
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {"mobile": masked("mobile", "mobile")}
        self.column_formatters_detail = {
            "mobile": masked("mobile", "mobile"),
            "id_number": masked("id_number", "id"),
        }

    def is_accessible(self):
        return super().is_accessible() and current_user.is_org_admin

    def edit_refusal(self, obj):
        # The organisation's admin account is not edited here (edit_view refuses it): no pencil.
        if obj.is_org_admin:
            return _("单位管理员账号请通过“修改密码”维护")
        return None

    @property
    def can_create(self):
        return current_user.is_authenticated and current_user.can_manage_subaccounts()

    @property
    def can_edit(self):
        return self.can_create

    def on_model_change(self, form, model, is_created):
        self._check_unique(form, model)
        if is_created:
            model.role = current_user.role
            model.organization_id = current_user.organization_id
            model.is_org_admin = False
            model.created_by_id = current_user.id
        if form.password.data:
            model.set_password(form.password.data)
        super().on_model_change(form, model, is_created)

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        # The admin account itself changes its password through 修改密码 (which asks for the
        # current one), never through this grid.
        obj = self.get_one(request.args.get("id"))
        if obj.is_org_admin:
            deny(f"edit org admin {obj.id}", obj=obj)
        return super().edit_view()

    def _sub_accounts(self, ids):
        return [u for u in self.scoped_rows(ids) if not u.is_org_admin]

    @action("disable", _l("停用"), _l("确定停用选中的子账号吗？"))
    def action_disable(self, ids):
        rows = self._sub_accounts(ids)
        switch_accounts(rows, "disable")
        flash(_("已停用 %(n)d 个子账号", n=len(rows)), "success")

    @action("enable", _l("启用"))
    def action_enable(self, ids):
        rows = self._sub_accounts(ids)
        switch_accounts(rows, "enable")
        flash(_("已启用 %(n)d 个子账号", n=len(rows)), "success")


LINK_LABELS = {
    "person": _l("申请人"),
    "person.real_name": _l("姓名"),
    "person.mobile": _l("手机号"),
    "organization": _l("企业名称"),
    "organization.uscc": _l("统一社会信用代码"),
    "status": _l("状态"),
    "reject_reason": _l("驳回原因"),
    "created_at": _l("申请时间"),
    "decided_at": _l("处理时间"),
}


class EnterpriseLinkView(RoleView):
    """我的企业授权 (enterprise admin approves linked persons) and 关联企业信息 (the person)."""

    roles = frozenset({"enterprise", "person", "admin"})
    can_create = False
    can_edit = False
    can_delete = False
    column_list = (
        "person.real_name",
        "person.mobile",
        "organization",
        "organization.uscc",
        "status",
        "reject_reason",
        "created_at",
        "decided_at",
    )
    column_export_list = column_list
    column_labels = LINK_LABELS
    column_filters = ("status",)
    column_default_sort = ("created_at", True)

    @property
    def name(self):
        """The heading matches the menu entry each role reached it by."""
        if has_request_context() and current_user.is_authenticated:
            if current_user.role == "person":
                return _("关联企业信息")
            if current_user.role == "admin":
                return _("企业关联授权")
        return self._name

    @name.setter
    def name(self, value):
        self._name = value

    def is_visible(self):
        # 个人中心 shows it to the enterprise admin only; the person has 关联企业信息 and the
        # administrator 企业关联授权 (系统管理), both links to this same grid.
        return self.is_accessible() and current_user.role == "enterprise"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {
            "status": state_badge(LINK_STATUS_LABELS),
            "person.mobile": lambda v, c, m, n: _mask_mobile(m.person.mobile),
        }
        self.column_formatters["person.mobile"].masked = True


def _mask_mobile(value):
    return mask_mobile(value)


class DivisionView(RoleView):
    """行政区划 (GB/T 2260)."""

    roles = frozenset({"admin"})
    can_delete = False
    column_list = ("code", "name", "level", "parent")
    column_export_list = ("code", "name", "level", "parent_code")
    column_labels = {
        "code": _l("代码"),
        "name": _l("名称"),
        "level": _l("级别"),
        "parent": _l("上级"),
        "parent_code": _l("上级代码"),
    }
    column_searchable_list = ("code", "name")
    column_filters = ("level",)
    column_default_sort = "code"
    column_choices = {"level": [(1, _l("省级")), (2, _l("地级")), (3, _l("县级"))]}
    form_columns = ("code", "name", "level", "parent_code")
    form_args = {"code": {"validators": [DataRequired(), Length(min=6, max=6)]}}
    form_overrides = {"parent_code": StringField}
    page_size = 50


class SmsOutboxView(RoleView):
    """短信发件箱."""

    roles = frozenset({"admin"})
    can_create = False
    can_edit = False
    can_delete = False
    column_list = ("created_at", "mobile", "purpose", "body", "backend", "status", "provider_status")
    column_details_list = (*column_list, "sent_at", "provider_id", "attempts")
    column_export_list = column_list
    column_labels = {
        "sent_at": _l("发送时间"),
        "created_at": _l("时间"),
        "mobile": _l("手机号"),
        "purpose": _l("用途"),
        "body": _l("内容"),
        "backend": _l("通道"),
        "status": _l("状态"),
        "provider_status": _l("运营商状态"),
        "provider_id": _l("运营商回执编号"),
        "attempts": _l("发送次数"),
    }
    column_searchable_list = ("mobile",)
    # Masked in the grid and its export (SPEC: lists, exports, logs); full on the details page.
    column_formatters = {"mobile": masked("mobile", "mobile")}
    column_formatters_detail: dict = {}
    column_filters = ("purpose", "status", "created_at")
    column_default_sort = ("created_at", True)
    column_choices = {
        "purpose": list(sms.PURPOSE_LABELS.items()),
        "status": list(sms.STATUS_LABELS.items()),
        "backend": list(sms.BACKEND_LABELS.items()),
    }


class NoticeView(RoleView):
    """通知公告."""

    roles = frozenset({"admin"})
    column_list = ("title", "audience", "published_at")
    column_export_list = ("title", "audience", "published_at", "body")
    column_labels = {
        "title": _l("标题"),
        "body": _l("内容"),
        "audience": _l("发布对象"),
        "published_at": _l("发布时间"),
    }
    column_choices = {"audience": [("all", _l("全部用户")), *ROLE_LABELS.items()]}
    form_columns = ("title", "body", "audience")
    form_overrides = {"audience": SelectField}
    form_args = {
        "title": {"validators": [DataRequired(), Length(max=200)]},
        "body": {"validators": [DataRequired(), Length(max=20000)]},
        "audience": {"choices": [("all", _l("全部用户")), *ROLE_LABELS.items()]},
    }
    column_default_sort = ("published_at", True)
    column_searchable_list = ("title",)
    column_filters = ("audience", "published_at")

    def on_model_change(self, form, model, is_created):
        if is_created:
            model.created_by_id = current_user.id
        super().on_model_change(form, model, is_created)


class AuditView(RoleView):
    """审计日志: read-only and append-only."""

    roles = frozenset({"admin"})
    can_create = False
    can_edit = False
    can_delete = False
    column_list = (
        "at",
        "username",
        "event",
        "result",
        "object_type",
        "object_id",
        "action",
        "from_state",
        "to_state",
        "ip",
    )
    column_export_list = (*column_list, "comment")
    column_labels = {
        "at": _l("时间"),
        "username": _l("用户"),
        "event": _l("事件"),
        "result": _l("结果"),
        "object_type": _l("对象类型"),
        "object_id": _l("对象编号"),
        "action": _l("操作"),
        "from_state": _l("原状态"),
        "to_state": _l("新状态"),
        "ip": _l("IP 地址"),
        "comment": _l("说明"),
        "organization_id": _l("单位编号"),
        "changes": _l("变更内容"),
    }
    column_searchable_list = ("username", "event")
    column_filters = ("event", "result", "at", "object_type")
    column_default_sort = ("at", True)
    column_choices = {
        "event": list(audit.EVENT_LABELS.items()),
        "result": list(audit.RESULT_LABELS.items()),
    }
    column_details_list = (
        "at",
        "username",
        "organization_id",
        "event",
        "result",
        "object_type",
        "object_id",
        "action",
        "from_state",
        "to_state",
        "changes",
        "ip",
        "comment",
    )
    simple_list_pager = True
    page_size = 50

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._actions = []
        self._actions_data = {}
        self.column_formatters = {
            "object_type": self._object_type_label,
            "action": self._action_label,
            "from_state": self._state_label,
            "to_state": self._state_label,
        }
        self.column_formatters_export = dict(self.column_formatters)
        self.column_formatters["object_id"] = self._record_link
        self.column_formatters_detail = {
            **self.column_formatters,
            "changes": self._changes_table,
        }

    # Raw keys (LicenceApplication, approve, pending) stay in the database; the grid shows the
    # Chinese names the workflow table and the menu already give them.

    def _model_by_name(self, name):
        for view in self.admin._views if self.admin else ():
            model = getattr(view, "model", None)
            if model is not None and model.__name__ == name:
                return model, view
        for model in workflows.WORKFLOWS:
            if model.__name__ == name:
                return model, None
        return None, None

    def _object_type_label(self, view, context, model, name):
        found, first_view = self._model_by_name(model.object_type)
        if found is None:
            return model.object_type or ""
        endpoint = endpoint_for_model(found)
        for candidate in self.admin._views:
            if getattr(candidate, "endpoint", None) == endpoint:
                return str(candidate.name)
        return str(first_view.name) if first_view is not None else model.object_type

    def _target_view(self, model):
        """The view that shows the event's record, if this user may open it."""
        found, _view = self._model_by_name(model.object_type)
        endpoint = endpoint_for_model(found) if found is not None else None
        for candidate in self.admin._views if endpoint else ():
            if getattr(candidate, "endpoint", None) == endpoint:
                return candidate if candidate.is_accessible() else None
        return None

    def _record_link(self, view, context, model, name):
        """对象编号 links to the record's details page."""
        if model.object_id is None:
            return ""
        target = self._target_view(model)
        if target is None or not getattr(target, "can_view_details", False):
            return str(model.object_id)
        url = url_for(f"{target.endpoint}.details_view", id=model.object_id)
        return Markup('<a href="{}" data-audit-record="1">{}</a>').format(url, model.object_id)

    def _changes_table(self, view, context, model, name):
        """变更内容: field, old -> new, as recorded (personal values were masked then)."""
        if not model.changes:
            return ""
        target = self._target_view(model)
        labels = getattr(target, "column_labels", None) or {}
        rows = Markup("").join(
            Markup('<tr data-field="{}"><td>{}</td><td>{}</td><td>→</td><td>{}</td></tr>').format(
                c.get("field"),
                labels.get(c.get("field"), c.get("field")),
                c.get("old") or "",
                c.get("new") or "",
            )
            for c in model.changes
        )
        head = Markup("<thead><tr><th>{}</th><th>{}</th><th></th><th>{}</th></tr></thead>").format(
            _("字段"), _("原值"), _("新值")
        )
        return Markup(
            '<table class="table table-sm mb-0" id="audit-changes">{}<tbody>{}</tbody></table>'
        ).format(head, rows)

    def _workflow_of(self, model):
        found, _view = self._model_by_name(model.object_type)
        return workflows.workflow_for(found) if found is not None else None

    def _action_label(self, view, context, model, name):
        wf = self._workflow_of(model)
        t = wf.by_action.get(model.action) if wf and model.action else None
        return str(t.label) if t is not None else (model.action or "")

    def _state_label(self, view, context, model, name):
        value = getattr(model, name)
        wf = self._workflow_of(model)
        return wf.state_label(value) if wf and value else (value or "")


__all__ = [
    "AuditView",
    "DivisionView",
    "EnterpriseLinkView",
    "MyOrganizationView",
    "NoticeView",
    "OrganizationView",
    "SmsOutboxView",
    "SubAccountView",
    "UserView",
]
