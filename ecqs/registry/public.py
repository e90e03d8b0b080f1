"""Public pages of seed 004 §2.3 for inspection units: SMS password recovery after checking
USCC + contact name + mobile (§2.3.1), and the account appeal 账号申诉 (§2.3.2)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import FileField, PasswordField, RadioField, StringField
from wtforms.fields import EmailField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from ecqs.extensions import db, limiter
from ecqs.models import APPEAL_REASON_LABELS, Organization, User
from ecqs.registry import operations
from ecqs.services import sms, user_sessions, validators

bp = Blueprint("registry_public", __name__)
REQUIRED = _l("此项为必填项")


class UnitForgotForm(FlaskForm):
    uscc = StringField(_l("统一社会信用代码"), [DataRequired(REQUIRED), validators.uscc_field])
    contact_name = StringField(_l("单位联系人"), [DataRequired(REQUIRED), Length(max=50)])
    mobile = StringField(_l("联系人手机号"), [DataRequired(REQUIRED), validators.mobile_field])
    sms_code = StringField(_l("短信验证码"), [DataRequired(REQUIRED), Length(min=6, max=6)])
    password = PasswordField(_l("新密码"), [DataRequired(REQUIRED)])
    password_confirm = PasswordField(
        _l("确认新密码"), [DataRequired(REQUIRED), EqualTo("password", message=_l("两次输入的密码不一致"))]
    )


def _unit_admin(uscc: str, contact_name: str, mobile: str) -> User | None:
    """The unit's admin account, if USCC, contact name and mobile agree with the system."""
    org = db.session.execute(
        select(Organization).where(Organization.uscc == uscc, Organization.kind == "unit")
    ).scalar()
    if org is None:
        return None
    for user in org.users:
        if user.is_org_admin and user.mobile == mobile and contact_name in (user.real_name, org.contact_name):
            return user
    return None


@bp.route("/forgot/unit", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def unit_forgot():
    form = UnitForgotForm()
    error = None
    if form.validate_on_submit():
        user = _unit_admin(
            validators.clean_uscc(form.uscc.data), form.contact_name.data.strip(), form.mobile.data
        )
        if user is None:
            error = _("输入的单位信息与系统中不一致")
        else:
            problems = validators.password_problems(form.password.data, user.username)
            if problems:
                form.password.errors = list(problems)
            elif not sms.verify_code(user.mobile, "reset", form.sms_code.data):
                db.session.commit()  # keep the attempt count
                form.sms_code.errors = [_("短信验证码错误或已过期")]
            else:
                user_sessions.reset_password(user, form.password.data)
                db.session.commit()
                flash(
                    _("密码已重置，登录账号为 %(username)s，请使用新密码登录", username=user.username),
                    "success",
                )
                return redirect(url_for("auth.login"))
    return render_template("registry/unit_forgot.html", form=form, error=error)


class AppealForm(FlaskForm):
    unit_name = StringField(_l("单位名称"), [DataRequired(REQUIRED), Length(max=120)])
    uscc = StringField(_l("统一社会信用代码"), [DataRequired(REQUIRED)])
    contact_name = StringField(_l("新联系人姓名"), [DataRequired(REQUIRED), Length(max=50)])
    contact_id_number = StringField(_l("新联系人身份证号"), [DataRequired(REQUIRED)])
    contact_mobile = StringField(_l("新联系人手机号"), [DataRequired(REQUIRED)])
    contact_email = EmailField(_l("新联系人邮箱"), [Optional(), Email(message=_l("邮箱格式不正确"))])
    reason = RadioField(_l("申诉原因"), choices=list(APPEAL_REASON_LABELS.items()), default="mobile_disabled")
    letter = FileField(_l("授权书"))


@bp.route("/appeal", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def appeal():
    form = AppealForm()
    error = None
    if form.validate_on_submit():
        try:
            operations.file_appeal(
                form.unit_name.data,
                form.uscc.data,
                form.contact_name.data,
                form.contact_id_number.data,
                form.contact_mobile.data,
                form.contact_email.data,
                form.reason.data,
                request.files.get("letter"),
            )
            db.session.commit()
        except operations.RegistryError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            flash(_("申诉已提交，审核结果将在三个工作日内通过短信通知新联系人"), "success")
            return redirect(url_for("auth.login"))
    return render_template("registry/appeal.html", form=form, error=error)
