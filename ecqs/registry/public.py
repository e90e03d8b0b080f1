"""Public pages of seed 004 for inspection units and practitioners: SMS password recovery after
checking USCC + contact name + mobile (§2.3.1), the account appeal 账号申诉 (§2.3.2), and the
public query 执业公示查询 (no login): exact name + ID number or exact certificate number, the ID
masked, rate-limited; the publicity certificate's QR code opens one registration's result at
an unguessable token (an HMAC of the registration under the app's secret key)."""

from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import FileField, PasswordField, RadioField, StringField
from wtforms.fields import EmailField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from ecqs.extensions import db, limiter
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import (
    APPEAL_REASON_LABELS,
    REGISTRATION_STATUS_LABELS,
    Organization,
    PractitionerRegistration,
    User,
)
from ecqs.registry import operations
from ecqs.services import masking, sms, user_sessions, validators, workdays

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


# ---- 执业公示查询 -----------------------------------------------------------------------------

QUERY_LIMIT = "30 per minute"  # as the public instrument query


def certificate_token(registration: PractitionerRegistration) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"practitioner-registration:{registration.id}:{registration.number}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:40]


def certificate_url(registration: PractitionerRegistration) -> str:
    return url_for(
        "registry_public.practitioner_certificate",
        number=registration.number,
        token=certificate_token(registration),
        _external=True,
    )


def public_row(registration: PractitionerRegistration) -> dict:
    """What the public sees of a registration: nothing beyond the certificate itself, the ID
    number masked, the mobile never."""
    lapsed = registration.status == "registered" and registration.valid_until < workdays.today()
    unit = registration.organization
    return {
        "number": registration.number,
        "name": registration.person_name,
        "id_number": masking.mask_id_number(registration.id_number),
        "unit": unit.name,
        "parent_unit": unit.parent.name if unit.parent_id else None,
        "items_label": registration.items_label,
        "registered_on": registration.registered_on,
        "valid_until": registration.valid_until,
        "deregistered_on": registration.deregistered_on,
        "status": registration.status if not lapsed else "expired",
        "status_label": _("已过期") if lapsed else str(REGISTRATION_STATUS_LABELS[registration.status]),
    }


def find_registrations(name: str, id_number: str, number: str) -> tuple[list, str | None]:
    """Exact, indexed lookups only: (name, ID number) or the certificate number."""
    reg = PractitionerRegistration
    if number:
        stmt = select(reg).where(reg.number == number.upper())
    elif name and id_number:
        if len(id_number) not in (15, 18):
            return [], _("身份证号格式不正确")
        stmt = select(reg).where(reg.person_name == name, reg.id_number == id_number.upper())
    else:
        return [], _("请输入姓名和身份证号，或输入证书编号")
    rows = db.session.execute(stmt.order_by(reg.registered_on.desc(), reg.id.desc()).limit(10)).scalars()
    return [public_row(r) for r in rows], None


@bp.route("/public/practitioners", methods=["GET", "POST"])
@limiter.limit(QUERY_LIMIT, methods=["POST"])
def practitioner_query():
    """Posted, not in the URL: an ID number stays out of addresses, logs and browser history."""
    name = id_number = number = ""
    searched, rows, message = False, [], None
    if request.method == "POST":
        name = (request.form.get("name") or "").strip()[:50]
        id_number = (request.form.get("id_number") or "").strip()[:18]
        number = (request.form.get("number") or "").strip()[:30]
        searched = True
        rows, message = find_registrations(name, id_number, number)
    return render_template(
        "registry/public_query.html",
        name=name,
        number=number,
        searched=searched,
        rows=rows,
        message=message,
    )


@bp.route("/public/practitioners/certificate/<number>/<token>")
@limiter.limit("60/minute")
def practitioner_certificate(number: str, token: str):
    """The publicity certificate's QR code: this registration's public result, no login."""
    registration = None
    if len(number) <= 30 and len(token) == 40:
        registration = db.session.execute(
            select(PractitionerRegistration).where(PractitionerRegistration.number == number)
        ).scalar()
    if registration is None or not hmac.compare_digest(certificate_token(registration), token):
        return render_template("registry/public_certificate.html", row=None), 404
    return render_template("registry/public_certificate.html", row=public_row(registration))
