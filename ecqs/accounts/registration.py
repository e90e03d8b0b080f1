"""Registration: personal, enterprise (legal / non-legal person) and institution; the
inspection unit's four-step wizard (seed 004 §2.1); resubmission after rejection; the division
cascade; a person's request to link to an enterprise."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import DateField, EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp, ValidationError

from ecqs import workflows
from ecqs.accounts import operations
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import (
    ENTERPRISE_TYPE_LABELS,
    LEGAL_FORM_LABELS,
    Division,
    EnterpriseLink,
    Organization,
    User,
)
from ecqs.services import rate_limits, sms, uploads, validators

bp = Blueprint("register", __name__)

REQUIRED = _l("此项为必填项")
INSTITUTION_KINDS = {
    "metrology": _l("计量技术机构"),
    "assessor": _l("鉴定评审机构"),
    "unit": _l("检验检测执业单位"),
}
UNIT_CERT_TYPES = [
    ("电梯检测机构", _l("电梯检测机构")),
    ("综合检验机构", _l("综合检验机构")),
    ("型式试验机构", _l("型式试验机构")),
    ("无损检测机构", _l("无损检测机构")),
    ("气瓶检验机构", _l("气瓶检验机构")),
    ("安全阀校验机构", _l("安全阀校验机构")),
]
UNIT_CERT_LEVELS = [
    ("国家级", _l("国家级")),
    ("省级", _l("省级")),
    ("市级", _l("市级")),
    ("市级以下", _l("市级以下")),
]
UNIT_INDUSTRIES = [
    ("质检", _l("质检")),
    ("企业自检", _l("企业自检")),
    ("行业", _l("行业")),
    ("其他", _l("其他")),
]


# ---- shared fields --------------------------------------------------------------------------


def _unique(model_attr, label):
    def check(form, field):
        rate_limits.count_availability_check()
        if field.data and db.session.execute(select(model_attr).where(model_attr == field.data)).first():
            raise ValidationError(_("该%(label)s已被注册", label=label))

    return check


def _division_leaf(form, field):
    """Province, city and county must form one chain down to a level without children
    (a few cities, e.g. 东莞市, have no counties)."""
    chosen = [form.province.data or "", form.city.data or "", form.county.data or ""]
    if not chosen[0]:
        raise ValidationError(_("请选择所在地"))
    parent = None
    for code in chosen:
        if not code:
            if division_children(parent):
                raise ValidationError(_("请选择所在地（省、市、区县）"))
            return
        row = db.session.get(Division, code)
        if row is None or row.parent_code != parent:
            raise ValidationError(_("所在地不正确，请重新选择"))
        parent = code


class AccountFields(FlaskForm):
    username = StringField(
        _l("用户名"),
        [DataRequired(REQUIRED), validators.username_field, _unique(User.username, _l("用户名"))],
    )
    password = PasswordField(_l("密码"), [DataRequired(REQUIRED), validators.password_field("username")])
    password_confirm = PasswordField(
        _l("确认密码"), [DataRequired(REQUIRED), EqualTo("password", message=_l("两次输入的密码不一致"))]
    )
    mobile = StringField(
        _l("手机号"), [DataRequired(REQUIRED), validators.mobile_field, _unique(User.mobile, _l("手机号"))]
    )
    sms_code = StringField(
        _l("短信验证码"), [DataRequired(REQUIRED), Length(min=6, max=6, message=_l("验证码为 6 位数字"))]
    )

    def check_sms(self) -> bool:
        if sms.verify_code(self.mobile.data, "register", self.sms_code.data):
            return True
        self.sms_code.errors = [*self.sms_code.errors, _("短信验证码错误或已过期")]
        db.session.commit()  # keep the attempt count
        return False


class PersonForm(AccountFields):
    real_name = StringField(_l("真实姓名"), [DataRequired(REQUIRED), Length(max=50)])
    id_number = StringField(_l("身份证号"), [DataRequired(REQUIRED), validators.id_number_field])


class OrganizationFields(AccountFields):
    name = StringField(_l("单位名称"), [DataRequired(REQUIRED), Length(max=120)])
    uscc = StringField(
        _l("统一社会信用代码"),
        [DataRequired(REQUIRED), validators.uscc_field, _unique(Organization.uscc, _l("统一社会信用代码"))],
    )
    licence = FileField(_l("营业执照"))
    province = SelectField(_l("省"), choices=[], validate_choice=False)
    city = SelectField(_l("市"), choices=[], validate_choice=False)
    county = SelectField(_l("区县"), choices=[], validate_choice=False, validators=[_division_leaf])
    address = StringField(_l("详细地址"), [DataRequired(REQUIRED), Length(max=200)])
    legal_rep_name = StringField(_l("法定代表人"), [DataRequired(REQUIRED), Length(max=50)])
    legal_rep_id_number = StringField(
        _l("法定代表人身份证号"), [DataRequired(REQUIRED), validators.id_number_field]
    )
    contact_name = StringField(_l("联系人"), [DataRequired(REQUIRED), Length(max=50)])
    contact_id_number = StringField(
        _l("联系人身份证号"), [DataRequired(REQUIRED), validators.id_number_field]
    )

    def division_code(self) -> str:
        return self.county.data or self.city.data or self.province.data


class EnterpriseForm(OrganizationFields):
    legal_form = RadioField(_l("用户类型"), choices=list(LEGAL_FORM_LABELS.items()), default="legal")
    enterprise_type = SelectField(_l("企业类型"), choices=list(ENTERPRISE_TYPE_LABELS.items()))


PHONE_RE = r"^[0-9\-]{7,20}$"


class InstitutionForm(OrganizationFields):
    institution_kind = SelectField(
        _l("机构类型"), choices=[(k, v) for k, v in INSTITUTION_KINDS.items() if k != "unit"]
    )
    # 联系电话 of the institution (the booking receipt and the public institution page show it).
    phone = StringField(
        _l("联系电话"), [DataRequired(REQUIRED), Regexp(PHONE_RE, message=_l("电话号码格式不正确"))]
    )


def _fill_division_choices(form):
    """Keep what the user chose visible after an error (choices come from the database)."""
    provinces = division_children(None)
    form.province.choices = [("", _("请选择")), *provinces]
    form.city.choices = [
        ("", _("请选择")),
        *(division_children(form.province.data) if form.province.data else []),
    ]
    form.county.choices = [("", _("请选择")), *(division_children(form.city.data) if form.city.data else [])]


def division_children(parent: str | None) -> list[tuple[str, str]]:
    stmt = select(Division.code, Division.name).order_by(Division.code)
    stmt = stmt.where(Division.level == 1) if parent is None else stmt.where(Division.parent_code == parent)
    return [(c, n) for c, n in db.session.execute(stmt)]


@bp.route("/divisions")
@bp.route("/divisions/<parent>")
def divisions(parent=None):
    if parent is not None and (len(parent) != 6 or not parent.isdigit()):
        abort(404)
    return jsonify([{"code": c, "name": n} for c, n in division_children(parent)])


# ---- creating the records -------------------------------------------------------------------


def _org_admin(form) -> dict:
    """The administrator account as the organisation forms post it."""
    return dict(
        username=form.username.data,
        password=form.password.data,
        real_name=form.contact_name.data.strip(),
        id_number=form.contact_id_number.data,
        mobile=form.mobile.data,
    )


def _org_fields(form) -> dict:
    return dict(
        name=form.name.data.strip(),
        uscc=form.uscc.data,
        division_code=form.division_code(),
        address=form.address.data.strip(),
        legal_rep_name=form.legal_rep_name.data.strip(),
        legal_rep_id_number=form.legal_rep_id_number.data,
        contact_name=form.contact_name.data.strip(),
        contact_id_number=form.contact_id_number.data,
        contact_mobile=form.mobile.data,
    )


def _licence_required(form) -> bool:
    if not form.licence.data or not getattr(form.licence.data, "filename", ""):
        form.licence.errors = [*form.licence.errors, _("请上传营业执照")]
        return False
    return True


def _done(kind_label):
    db.session.commit()
    flash(
        _(
            "%(kind)s注册成功，正在等待人工审核（通常两个工作日内完成）。您现在可以登录查看审核进度。",
            kind=kind_label,
        ),
        "success",
    )
    return redirect(url_for("auth.login"))


@bp.route("/register")
def choose():
    return render_template("register/choose.html")


@bp.route("/register/person", methods=["GET", "POST"])
def person():
    form = PersonForm()
    if form.validate_on_submit() and form.check_sms():
        operations.register_person(
            username=form.username.data,
            password=form.password.data,
            real_name=form.real_name.data,
            id_number=form.id_number.data,
            mobile=form.mobile.data,
        )
        db.session.commit()
        flash(_("注册成功，请登录"), "success")
        return redirect(url_for("auth.login"))
    return render_template("register/person.html", form=form)


@bp.route("/register/enterprise", methods=["GET", "POST"])
def enterprise():
    form = EnterpriseForm()
    _fill_division_choices(form)
    if form.validate_on_submit() and _licence_required(form) and form.check_sms():
        try:
            operations.register_enterprise(
                _org_admin(form),
                form.licence.data,
                legal_form=form.legal_form.data,
                enterprise_type=form.enterprise_type.data,
                **_org_fields(form),
            )
        except uploads.UploadError as exc:
            db.session.rollback()
            form.licence.errors = [str(exc)]
        else:
            return _done(_("企业"))
    return render_template("register/organization.html", form=form, title=_("企业注册"), kind="enterprise")


@bp.route("/register/institution", methods=["GET", "POST"])
def institution():
    form = InstitutionForm()
    _fill_division_choices(form)
    if form.validate_on_submit() and _licence_required(form) and form.check_sms():
        try:
            operations.register_institution(
                form.institution_kind.data,
                _org_admin(form),
                form.licence.data,
                phone=form.phone.data.strip(),
                **_org_fields(form),
            )
        except uploads.UploadError as exc:
            db.session.rollback()
            form.licence.errors = [str(exc)]
        else:
            return _done(_("机构"))
    return render_template("register/organization.html", form=form, title=_("机构注册"), kind="institution")


# ---- inspection unit wizard (seed 004 §2.1) ------------------------------------------------


class UnitBasicForm(FlaskForm):
    name = StringField(_l("单位名称"), [DataRequired(REQUIRED), Length(max=120)])
    uscc = StringField(
        _l("统一社会信用代码"),
        [DataRequired(REQUIRED), validators.uscc_field, _unique(Organization.uscc, _l("统一社会信用代码"))],
    )
    legal_rep_name = StringField(_l("单位法人"), [DataRequired(REQUIRED), Length(max=50)])
    province = SelectField(_l("省"), choices=[], validate_choice=False)
    city = SelectField(_l("市"), choices=[], validate_choice=False)
    county = SelectField(_l("区县"), choices=[], validate_choice=False, validators=[_division_leaf])
    address = StringField(_l("单位地址"), [DataRequired(REQUIRED), Length(max=200)])
    postcode = StringField(
        _l("单位邮编"), [DataRequired(REQUIRED), Regexp(r"^\d{6}$", message=_l("邮编应为 6 位数字"))]
    )
    phone = StringField(
        _l("单位电话"), [DataRequired(REQUIRED), Regexp(r"^[0-9\-]{7,20}$", message=_l("电话号码格式不正确"))]
    )


class UnitCertForm(FlaskForm):
    cert_type = SelectField(_l("类型"), choices=UNIT_CERT_TYPES)
    cert_level = SelectField(_l("级别"), choices=UNIT_CERT_LEVELS)
    cert_industry = SelectField(_l("行业"), choices=UNIT_INDUSTRIES)
    licence = FileField(_l("营业执照"))


class UnitQualificationForm(FlaskForm):
    name = StringField(_l("资质名称"), [DataRequired(REQUIRED), Length(max=100)])
    number = StringField(_l("资质号"), [DataRequired(REQUIRED), Length(max=60)])
    issued_on = DateField(_l("发证日期"), [DataRequired(message=_l("请输入正确的日期"))])
    valid_until = DateField(_l("有效日期"), [DataRequired(message=_l("请输入正确的日期"))])

    def validate_valid_until(self, field):
        if self.issued_on.data and field.data and field.data <= self.issued_on.data:
            raise ValidationError(_("有效日期应晚于发证日期"))


class UnitContactForm(AccountFields):
    contact_name = StringField(_l("单位联系人"), [DataRequired(REQUIRED), Length(max=50)])
    contact_id_number = StringField(
        _l("联系人身份证号"), [DataRequired(REQUIRED), validators.id_number_field]
    )
    email = EmailField(_l("联系人邮箱"), [DataRequired(REQUIRED), Email(message=_l("邮箱格式不正确"))])
    contact_position = StringField(
        _l("联系人职务"),
        [DataRequired(_l("请输入单位联系人职务")), Length(max=30)],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )


WIZARD_STEPS = [
    ("basic", _l("单位基本信息")),
    ("cert", _l("单位认证资料")),
    ("qualifications", _l("单位资质信息")),
    ("contact", _l("单位联系信息")),
]


def _wizard() -> dict:
    return session.setdefault("unit_wizard", {})


@bp.route("/register/unit", methods=["GET", "POST"])
@bp.route("/register/unit/<step>", methods=["GET", "POST"])
def unit(step="basic"):
    if step not in dict(WIZARD_STEPS):
        abort(404)
    data = _wizard()
    order = [s for s, _l_ in WIZARD_STEPS]
    # A later step needs the earlier ones.
    for earlier in order[: order.index(step)]:
        if earlier not in data and earlier != "qualifications":
            return redirect(url_for("register.unit", step=earlier))
    if step == "basic":
        form = UnitBasicForm(data=data.get("basic"))
        _fill_division_choices(form)
        if form.validate_on_submit():
            data["basic"] = {k: v for k, v in form.data.items() if k != "csrf_token"}
            session.modified = True
            return redirect(url_for("register.unit", step="cert"))
    elif step == "cert":
        form = UnitCertForm(data=data.get("cert"))
        if form.validate_on_submit():
            # The file is checked and stored now; its Upload row is written at the last step.
            licence = (data.get("cert") or {}).get("licence")
            if form.licence.data and getattr(form.licence.data, "filename", ""):
                try:
                    licence = uploads.quarantine(form.licence.data, replaces=licence)
                except uploads.UploadError as exc:
                    form.licence.errors = [str(exc)]
                    licence = None
            if licence is None and not form.licence.errors:
                form.licence.errors = [_("请上传营业执照")]
            if not form.licence.errors:
                data["cert"] = {
                    "cert_type": form.cert_type.data,
                    "cert_level": form.cert_level.data,
                    "cert_industry": form.cert_industry.data,
                    "licence": licence,
                }
                session.modified = True
                return redirect(url_for("register.unit", step="qualifications"))
    elif step == "qualifications":
        form = UnitQualificationForm()
        quals = data.setdefault("qualifications", [])
        if request.method == "POST" and request.form.get("op") == "next":
            session.modified = True
            return redirect(url_for("register.unit", step="contact"))
        if request.method == "POST" and request.form.get("op", "").startswith("remove:"):
            index = int(request.form["op"].split(":")[1])
            if 0 <= index < len(quals):
                quals.pop(index)
                session.modified = True
            return redirect(url_for("register.unit", step="qualifications"))
        if form.validate_on_submit():
            quals.append(
                {
                    "name": form.name.data,
                    "number": form.number.data,
                    "issued_on": form.issued_on.data.isoformat(),
                    "valid_until": form.valid_until.data.isoformat(),
                }
            )
            session.modified = True
            return redirect(url_for("register.unit", step="qualifications"))
    else:
        form = UnitContactForm()
        if form.validate_on_submit() and form.check_sms():
            return _finish_unit(data, form)
    return render_template("register/unit.html", form=form, step=step, steps=WIZARD_STEPS, data=data)


def _finish_unit(data: dict, form: UnitContactForm):
    basic, cert = data["basic"], data["cert"]
    if db.session.execute(select(Organization.id).where(Organization.uscc == basic["uscc"])).first():
        flash(_("该统一社会信用代码已被注册"), "error")
        return redirect(url_for("register.unit", step="basic"))
    admin = dict(
        username=form.username.data,
        password=form.password.data,
        real_name=form.contact_name.data,
        id_number=form.contact_id_number.data,
        mobile=form.mobile.data,
        email=form.email.data,
    )
    try:
        operations.register_unit(
            admin,
            cert["licence"],
            data.get("qualifications", []),
            name=basic["name"],
            uscc=basic["uscc"],
            legal_rep_name=basic["legal_rep_name"],
            division_code=basic.get("county") or basic.get("city") or basic.get("province"),
            address=basic["address"],
            postcode=basic["postcode"],
            phone=basic["phone"],
            email=form.email.data,
            cert_type=cert["cert_type"],
            cert_level=cert["cert_level"],
            cert_industry=cert["cert_industry"],
            contact_name=form.contact_name.data,
            contact_id_number=form.contact_id_number.data,
            contact_mobile=form.mobile.data,
            contact_position=form.contact_position.data,
            member_type="non_member",  # membership is joined separately (seed 004 §3.2.1 会员性质)
        )
    except uploads.UploadError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("register.unit", step="cert"))
    session.pop("unit_wizard", None)
    db.session.commit()
    # Seed 004 §2.1 (done page): reviewed within three working days, result by SMS.
    flash(
        _(
            "您已注册成功！我们将在三个工作日内审核您的单位账号，并将结果通过短信及站内消息通知您。"
            "审核通过后即可使用执业公示业务功能。"
        ),
        "success",
    )
    return redirect(url_for("auth.login"))


# ---- correction and resubmission after rejection ---------------------------------------------


class ResubmitForm(FlaskForm):
    name = StringField(_l("单位名称"), [DataRequired(REQUIRED), Length(max=120)])
    address = StringField(_l("详细地址"), [DataRequired(REQUIRED), Length(max=200)])
    legal_rep_name = StringField(_l("法定代表人"), [DataRequired(REQUIRED), Length(max=50)])
    contact_name = StringField(_l("联系人"), [DataRequired(REQUIRED), Length(max=50)])
    licence = FileField(_l("营业执照（如需更换请重新上传）"))


@bp.route("/account/organization/resubmit", methods=["GET", "POST"])
def resubmit():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    org = current_user.organization
    if org is None or not workflows.can(org, "resubmit", current_user):
        flash(_("当前状态不能重新提交"), "error")
        return redirect(url_for("admin.index"))
    form = ResubmitForm(obj=org)
    if form.validate_on_submit():
        try:
            if form.licence.data and getattr(form.licence.data, "filename", ""):
                org.licence_upload = uploads.save(form.licence.data, current_user)
            org.name = form.name.data.strip()
            org.address = form.address.data.strip()
            org.legal_rep_name = form.legal_rep_name.data.strip()
            org.contact_name = form.contact_name.data.strip()
            workflows.transition(org, "resubmit", current_user, expected_state="rejected")
            db.session.commit()
        except (uploads.UploadError, workflows.WorkflowError) as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("已重新提交，请等待审核"), "success")
            return redirect(url_for("admin.index"))
    return render_template("register/resubmit.html", form=form, org=org)


# ---- a person links to an enterprise (seed 003 appendix 2) ---------------------------------


class LinkForm(FlaskForm):
    uscc = StringField(_l("企业统一社会信用代码"), [DataRequired(REQUIRED), validators.uscc_field])


@bp.route("/account/link", methods=["GET", "POST"])
def link():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    if current_user.role != "person":
        abort(403)
    form = LinkForm()
    links = (
        db.session.execute(
            select(EnterpriseLink)
            .where(EnterpriseLink.person_id == current_user.id)
            .order_by(EnterpriseLink.id.desc())
        )
        .scalars()
        .all()
    )
    if form.validate_on_submit():
        org = db.session.execute(
            select(Organization).where(Organization.uscc == form.uscc.data, Organization.kind == "enterprise")
        ).scalar()
        if org is None or not org.is_approved:
            form.uscc.errors = [_("未找到已通过审核的该企业，请核对统一社会信用代码")]
        elif any(lk.status in {"pending", "approved"} for lk in links):
            form.uscc.errors = [_("您已有待审核或已通过的关联申请，不能重复申请")]
        else:
            operations.request_link(current_user, org)
            db.session.commit()
            flash(_("关联申请已提交，等待企业审核"), "success")
            return redirect(url_for("register.link"))
    return render_template("register/link.html", form=form, links=links)
