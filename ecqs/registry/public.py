"""Public pages of seed 004 §2.3 for inspection units: SMS password recovery after checking
USCC + contact name + mobile (§2.3.1), and the account appeal 账号申诉 (§2.3.2)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
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


# ---- 账号申诉找回密码 (seed 004 §2.3.2): 单位账号 → 新联系人 → 提交授权书 ------------------------


class AppealUnitForm(FlaskForm):
    unit_name = StringField(_l("单位名称"), [DataRequired(_l("请输入单位名称")), Length(max=120)])
    uscc = StringField(_l("统一社会信用代码"), [DataRequired(_l("请输入统一社会信用代码"))])


class AppealContactForm(FlaskForm):
    contact_name = StringField(
        _l("新联系人姓名"), [DataRequired(_l("请输入单位新联系人姓名")), Length(max=50)]
    )
    contact_id_number = StringField(_l("新联系人身份证号"), [DataRequired(_l("请输入联系人身份证号"))])
    contact_mobile = StringField(_l("新联系人手机号"), [DataRequired(_l("请输入联系人手机号"))])
    contact_email = EmailField(
        _l("新联系人邮箱"), [Optional(), Email(message=_l("邮箱格式不正确")), Length(max=120)]
    )


class AppealLetterForm(FlaskForm):
    reason = RadioField(_l("申诉原因"), choices=list(APPEAL_REASON_LABELS.items()), default="mobile_disabled")
    letter = FileField(_l("授权书"))


APPEAL_STEPS = [("unit", _l("单位账号")), ("contact", _l("新联系人")), ("letter", _l("提交授权书"))]
APPEAL_SESSION = "unit_appeal"


def _appeal_data() -> dict:
    return session.setdefault(APPEAL_SESSION, {})


@bp.route("/appeal", methods=["GET", "POST"])
@bp.route("/appeal/<step>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def appeal(step="unit"):
    """Three steps; each keeps what was entered when the user goes back (in the session), and
    nothing is stored until the last step files the appeal through the operation."""
    order = [key for key, _label in APPEAL_STEPS]
    if step not in order:
        abort(404)
    data = _appeal_data()
    for earlier in order[: order.index(step)]:
        if earlier not in data:
            return redirect(url_for("registry_public.appeal", step=earlier))
    error = None
    if step == "unit":
        form = AppealUnitForm(data=data.get("unit"))
        if form.validate_on_submit():
            try:
                operations.appeal_unit(form.unit_name.data, form.uscc.data)
            except operations.RegistryError as exc:
                error = str(exc)
            else:
                data["unit"] = {
                    "unit_name": form.unit_name.data.strip(),
                    "uscc": form.uscc.data.strip().upper(),
                }
                session.modified = True
                return redirect(url_for("registry_public.appeal", step="contact"))
    elif step == "contact":
        form = AppealContactForm(data=data.get("contact"))
        if form.validate_on_submit():
            try:
                org = operations.appeal_unit(data["unit"]["unit_name"], data["unit"]["uscc"])
                contact = operations.appeal_contact(
                    org, form.contact_name.data, form.contact_id_number.data, form.contact_mobile.data
                )
            except operations.RegistryError as exc:
                error = str(exc)
            else:
                data["contact"] = {**contact, "contact_email": (form.contact_email.data or "").strip()}
                session.modified = True
                return redirect(url_for("registry_public.appeal", step="letter"))
    else:
        form = AppealLetterForm(data=data.get("letter"))
        if form.validate_on_submit():
            data["letter"] = {"reason": form.reason.data}
            session.modified = True
            try:
                operations.file_appeal(
                    **data["unit"],
                    **data["contact"],
                    reason=form.reason.data,
                    letter=request.files.get("letter"),
                )
                db.session.commit()
            except operations.RegistryError as exc:
                db.session.rollback()
                error = str(exc)
            else:
                session.pop(APPEAL_SESSION, None)
                flash(_("申诉已提交，申诉结果将在3个工作日内通过短信通知新联系人"), "success")
                return redirect(url_for("auth.login"))
    return render_template(
        "registry/appeal.html", form=form, error=error, step=step, steps=APPEAL_STEPS, data=data
    )
