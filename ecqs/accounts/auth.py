"""Login with captcha and lockout, the staff SMS factor, server-side sessions, logout,
password recovery and password change."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from io import BytesIO

from captcha.image import ImageCaptcha
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import joinedload
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ecqs.extensions import db, limiter, login_manager
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import STAFF_ROLES, CaptchaChallenge, Organization, User, UserSession, utcnow
from ecqs.services import (
    audit,
    captcha,
    notify,
    safe_redirect,
    sms,
    unknown_accounts,
    user_sessions,
    validators,
)
from ecqs.services.masking import mask_mobile

bp = Blueprint("auth", __name__)

USER_TYPES = {
    "person": (_l("个人用户"), {"person"}),
    "enterprise": (_l("企业用户"), {"enterprise"}),
    "institution": (_l("机构用户"), {"metrology", "assessor", "unit"}),
    "staff": (_l("管理人员"), {"reviewer", "association", "admin"}),
}
CAPTCHA_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def is_safe_next(target: str | None) -> bool:
    return safe_redirect.is_safe_target(target)


# ---- server-side sessions -------------------------------------------------------------------


@bp.before_app_request
def _reload_user_every_request():
    # Flask-Login caches the user in `g`. Where one app context spans several requests (the
    # test client inside a pushed context), the cache would skip the server-side checks below
    # (logout, idle expiry, disabled account); every request must run them.
    g.pop("_login_user", None)


# One statement for the session row, its user and the columns of the user's organisation that
# the access rules read on every page (approved? which kind of unit, which authority, where);
# built once (every logged-in request runs it). Joining the whole organisation cost more CPU than
# its own query (bench/RESULTS.md, run 4), these few columns much less: a page that shows more of
# the organisation loads the rest when it reads it.
_ORGANIZATION_COLUMNS = (
    Organization.status,
    Organization.kind,
    Organization.name,
    Organization.parent_id,
    Organization.authority_level,
    Organization.division_code,
)
_SESSION_AND_USER = (
    select(UserSession)
    .options(
        joinedload(UserSession.user).joinedload(User.organization).load_only(*_ORGANIZATION_COLUMNS),
        # and the top bar's unread count (services/notify.unread_count)
        joinedload(UserSession.user).with_expression(User.unread_at_load, notify.UNREAD_OF_LOADED_USER),
    )
    .where(UserSession.token == bindparam("token"))
)


@login_manager.user_loader
def load_session(token: str):
    row = db.session.execute(_SESSION_AND_USER, {"token": token}).scalar_one_or_none()
    if row is None or row.ended_at is not None:
        return None
    now = utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    if now - row.last_seen_at > idle:
        row.ended_at = now
        db.session.commit()
        g.session_expired = True
        flash(_("您已长时间未操作，请重新登录"), "warning")
        return None
    user = row.user
    if not user.active:
        return None
    if now - row.last_seen_at > timedelta(seconds=60):
        row.last_seen_at = now
        db.session.commit()
    user.session_token = token
    return user


def start_session(user: User) -> None:
    """A new session id at every login, stored server-side; nothing of the anonymous session
    survives but the chosen language (no session fixation)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(token=token, user_id=user.id, ip=request.remote_addr))
    user.session_token = token
    user.last_login_at = utcnow()
    login_user(user, remember=False)
    session.permanent = True


def end_session() -> None:
    token = getattr(current_user, "session_token", None)
    if token:
        db.session.execute(update(UserSession).where(UserSession.token == token).values(ended_at=utcnow()))
    logout_user()
    session.clear()


# ---- captcha --------------------------------------------------------------------------------


def _answer_hash(token: str, answer: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{token}:{answer.upper()}".encode(), hashlib.sha256).hexdigest()


def captcha_enabled() -> bool:
    return bool(current_app.config.get("ECQS_CAPTCHA", True))


def new_captcha_answer() -> str:
    return "".join(secrets.choice(CAPTCHA_ALPHABET) for _ in range(4))


@bp.route("/captcha.png")
@limiter.limit(captcha.RATE_LIMIT)
def captcha_image():
    answer = new_captcha_answer()
    token = secrets.token_urlsafe(24)
    captcha.store(token, _answer_hash(token, answer))
    db.session.commit()
    session["captcha_token"] = token
    image = ImageCaptcha(width=140, height=50).generate(answer)
    response = send_file(BytesIO(image.getvalue()), mimetype="image/png", max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


def check_captcha(answer: str) -> bool:
    """Single use: the challenge is spent whether or not the answer matched."""
    if not captcha_enabled():
        return True
    token = session.pop("captcha_token", None)
    if not token:
        return False
    row = db.session.get(CaptchaChallenge, token)
    if row is None or row.used or row.expires_at < utcnow():
        return False
    row.used = True
    return hmac.compare_digest(row.answer_hash, _answer_hash(token, (answer or "").strip()))


# ---- login ----------------------------------------------------------------------------------


class LoginForm(FlaskForm):
    user_type = SelectField(_l("用户类型"), choices=[(k, v[0]) for k, v in USER_TYPES.items()])
    username = StringField(_l("用户名"), [DataRequired(message=_l("请输入用户名")), Length(max=40)])
    password = PasswordField(_l("密码"), [DataRequired(message=_l("请输入密码")), Length(max=128)])
    captcha = StringField(_l("验证码"), [Length(max=8)])


def _fail_login(user: User | None, username: str, reason: str):
    if user is not None:
        threshold = current_app.config["LOCKOUT_THRESHOLD"]
        # Atomic increment: two workers counting failures at once lose none.
        db.session.execute(
            update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1)
        )
        db.session.refresh(user)
        if user.failed_logins >= threshold:
            user.locked_until = utcnow() + timedelta(minutes=current_app.config["LOCKOUT_MINUTES"])
            user.failed_logins = 0
            audit.record("account_locked", user=user, result="failure")
    audit.record("login", user=user, username=username[:40], result="failure", comment=reason)
    db.session.commit()


def _locked_message(user: User | None, username: str = "") -> str | None:
    """The lockout message; an unknown name is "locked" like a real one (no enumeration)."""
    if user is None:
        minutes = unknown_accounts.locked_minutes(username)
    elif user.locked_until and user.locked_until > utcnow():
        minutes = max(1, int((user.locked_until - utcnow()).total_seconds() // 60) + 1)
    else:
        minutes = None
    if minutes is None:
        return None
    return _("连续登录失败次数过多，账号已锁定，请 %(m)d 分钟后再试", m=minutes)


def _finish_login(user: User, target: str | None):
    start_session(user)
    user.failed_logins = 0
    user.locked_until = None
    audit.record("login", user=user, result="success")
    db.session.commit()
    return redirect(target if is_safe_next(target) else url_for("admin.index"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        username = form.username.data.strip()
        user = db.session.execute(select(User).where(User.username == username)).scalar()
        if not check_captcha(form.captcha.data):
            error = _("验证码错误或已过期，请重新输入")
            audit.record("login", user=user, username=username[:40], result="failure", comment="captcha")
            db.session.commit()
        elif locked := _locked_message(user, username):
            error = locked
            audit.record("login", user=user, username=username[:40], result="failure", comment="locked")
            db.session.commit()
        elif user is None or not user.check_password(form.password.data):
            if user is None:  # the same hashing work and lockout as for a real account
                unknown_accounts.check_dummy_password(form.password.data)
                unknown_accounts.record_failure(username)
            _fail_login(user, username, "password")
            error = _locked_message(user, username) or _("用户名或密码错误")
        elif user.role not in USER_TYPES[form.user_type.data][1]:
            _fail_login(user, username, "user type")
            error = _("用户类型与账号不符，请选择正确的用户类型")
        elif not user.active:
            audit.record("login", user=user, result="failure", comment="disabled")
            db.session.commit()
            error = _("账号已停用，请联系单位管理员或系统管理员")
        elif user.role in STAFF_ROLES and current_app.config.get("ECQS_STAFF_2FA", True):
            if not user.mobile:
                error = _("管理人员账号未绑定手机号，无法完成短信验证，请联系系统管理员")
            else:
                try:
                    sms.issue_code(user.mobile, "login")
                except sms.SmsError as exc:
                    error = str(exc)
                else:
                    db.session.commit()
                    nxt = request.args.get("next")
                    session["pending_2fa"] = {
                        "user_id": user.id,
                        "at": utcnow().isoformat(),
                        "next": nxt if is_safe_next(nxt) else None,
                    }
                    return redirect(url_for("auth.login_verify"))
        else:
            return _finish_login(user, request.args.get("next"))
    elif request.method == "POST" and form.csrf_token.errors:
        error = _("页面已过期，请刷新后重试")
    return render_template("auth/login.html", form=form, error=error, captcha=captcha_enabled())


class VerifyForm(FlaskForm):
    code = StringField(_l("短信验证码"), [DataRequired(message=_l("请输入短信验证码")), Length(min=6, max=6)])


@bp.route("/login/verify", methods=["GET", "POST"])
def login_verify():
    pending = session.get("pending_2fa")
    if not pending:
        return redirect(url_for("auth.login"))
    user = db.session.get(User, pending["user_id"])
    form = VerifyForm()
    error = None
    started = datetime.fromisoformat(pending["at"])
    if user is None or not user.active or utcnow() - started > sms.CODE_LIFETIMES["login"]:
        session.pop("pending_2fa", None)
        flash(_("短信验证已超时，请重新登录"), "warning")
        return redirect(url_for("auth.login"))
    if form.validate_on_submit():
        if locked := _locked_message(user):
            session.pop("pending_2fa", None)
            flash(locked, "error")
            return redirect(url_for("auth.login"))
        if sms.verify_code(user.mobile, "login", form.code.data):
            session.pop("pending_2fa", None)
            return _finish_login(user, pending.get("next"))
        _fail_login(user, user.username, "sms code")
        error = _("短信验证码错误或已过期")
    return render_template("auth/verify.html", form=form, error=error, mobile=mask_mobile(user.mobile))


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        audit.record("logout", user=current_user)
        end_session()
        db.session.commit()
    flash(_("您已安全退出"), "info")
    return redirect(url_for("auth.login"))


# ---- SMS codes ------------------------------------------------------------------------------


@bp.route("/sms/send", methods=["POST"])
@limiter.limit("10 per minute")
def sms_send():
    """Send a registration or password-reset code. Bounded by the daily quota per mobile and
    purpose, one request a minute per mobile and a per-address limit; the answer is the same
    whether or not the mobile is registered (no account enumeration)."""
    purpose = request.form.get("purpose", "")
    if purpose not in sms.ANONYMOUS_PURPOSES:
        return jsonify(ok=False, message=_("未知的验证码用途")), 400
    try:
        mobile = validators.clean_mobile(request.form.get("mobile", ""))
    except ValueError as exc:
        return jsonify(ok=False, message=str(exc)), 400
    registered = db.session.execute(select(User.id).where(User.mobile == mobile)).first() is not None
    try:
        sms.request_anonymous_code(mobile, purpose, deliverable=registered == (purpose == "reset"))
    except sms.SmsError as exc:
        db.session.rollback()
        return jsonify(ok=False, message=str(exc)), 429
    db.session.commit()
    return jsonify(ok=True, message=_("验证码已发送，10 分钟内有效"))


# ---- password recovery and change -----------------------------------------------------------


class ForgotForm(FlaskForm):
    account = StringField(
        _l("用户名或手机号"), [DataRequired(message=_l("请输入用户名或手机号")), Length(max=40)]
    )
    mobile = StringField(
        _l("注册手机号"), [DataRequired(message=_l("请输入手机号")), validators.mobile_field]
    )
    sms_code = StringField(
        _l("短信验证码"), [DataRequired(message=_l("请输入短信验证码")), Length(min=6, max=6)]
    )
    password = PasswordField(_l("新密码"), [DataRequired(message=_l("请输入新密码"))])
    password_confirm = PasswordField(
        _l("确认新密码"), [DataRequired(), EqualTo("password", message=_l("两次输入的密码不一致"))]
    )


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def forgot():
    form = ForgotForm()
    error = None
    if form.validate_on_submit():
        account = form.account.data.strip()
        user = db.session.execute(
            select(User).where(or_(User.username == account, User.mobile == account))
        ).scalar()
        # A stranger learns nothing before proving the mobile: the password rules, then the
        # code sent to that mobile, and only then whether the account goes with it.
        problems = validators.password_problems(form.password.data, account)
        if problems:
            form.password.errors = list(problems)
        elif not sms.verify_code(form.mobile.data, "reset", form.sms_code.data):
            db.session.commit()  # keep the attempt count
            form.sms_code.errors = [_("短信验证码错误或已过期")]
        elif user is None or user.mobile != form.mobile.data:
            db.session.commit()  # the code is spent
            error = _("账号与注册手机号不匹配")
        elif problems := validators.password_problems(form.password.data, user.username):
            db.session.commit()  # the code is spent
            form.password.errors = list(problems)
        else:
            user_sessions.reset_password(user, form.password.data)
            db.session.commit()
            flash(_("密码已重置，请使用新密码登录"), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form, error=error)


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("当前密码"), [DataRequired(message=_l("请输入当前密码"))])
    password = PasswordField(_l("新密码"), [DataRequired(message=_l("请输入新密码"))])
    password_confirm = PasswordField(
        _l("确认新密码"), [DataRequired(), EqualTo("password", message=_l("两次输入的密码不一致"))]
    )


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors = [_("当前密码不正确")]
        elif form.password.data == form.current.data:
            form.password.errors = [_("新密码不能与当前密码相同")]
        elif problems := validators.password_problems(form.password.data, current_user.username):
            form.password.errors = list(problems)
        else:
            current_user.set_password(form.password.data)
            audit.record("password_changed", user=current_user)
            db.session.commit()
            flash(_("密码已修改"), "success")
            return redirect(url_for("admin.index"))
    return render_template("auth/change_password.html", form=form, expired=password_expired(current_user))


def password_expired(user) -> bool:
    if not user.is_authenticated or user.role not in STAFF_ROLES:
        return False
    days = current_app.config.get("STAFF_PASSWORD_MAX_AGE_DAYS", 90)
    return bool(days) and user.password_changed_at < utcnow() - timedelta(days=days)


@bp.before_app_request
def enforce_password_age():
    if request.endpoint in {"auth.change_password", "auth.logout", "static", "auth.captcha_image"}:
        return None
    if request.endpoint and request.endpoint.endswith(".static"):
        return None
    if current_user.is_authenticated and password_expired(current_user):
        flash(
            _(
                "您的密码已超过 %(d)d 天未修改，请先修改密码",
                d=current_app.config["STAFF_PASSWORD_MAX_AGE_DAYS"],
            ),
            "warning",
        )
        return redirect(url_for("auth.change_password"))
    return None


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code):
    if code in {"zh_Hans_CN", "en"}:
        session["lang"] = code
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("admin.index"))
