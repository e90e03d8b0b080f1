"""Field checks with Chinese messages: USCC (GB 32100) and resident ID (GB 11643) by checksum
through python-stdnum, mobiles by format, passwords by the policy of SPEC's security baseline."""

from __future__ import annotations

import re
from functools import lru_cache

from flask_babel import gettext as _
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError
from wtforms.validators import ValidationError

from ecqs.config import SEED_DIR

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,39}$")


def _checked(number_module, value: str, message) -> str:
    """The compact form of `value` if python-stdnum's `number_module` validates it, else
    ValueError(message)."""
    try:
        return number_module.validate((value or "").strip().upper())
    except StdnumError:
        raise ValueError(message) from None


def clean_uscc(value: str) -> str:
    """Return the compact USCC or raise ValueError with a Chinese message."""
    return _checked(uscc, value, _("统一社会信用代码不正确（应为 18 位，且校验位正确）"))


def clean_id_number(value: str) -> str:
    """Return the 18-character resident ID or raise ValueError with a Chinese message."""
    return _checked(ric, value, _("身份证号码不正确（应为 18 位，出生日期和校验位正确）"))


def clean_mobile(value: str) -> str:
    value = (value or "").strip()
    if not MOBILE_RE.match(value):
        raise ValueError(_("手机号格式不正确（应为 11 位中国大陆手机号）"))
    return value


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    path = SEED_DIR / "common_passwords.txt"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problems(password: str, username: str | None = None) -> list[str]:
    """Every rule the password breaks, as Chinese messages; empty when it is acceptable."""
    problems = []
    if not 8 <= len(password) <= 128:
        problems.append(_("密码长度应为 8 至 128 位"))
    classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]"))
    if classes < 3:
        problems.append(_("密码须包含大写字母、小写字母、数字、特殊字符中的至少三类"))
    if password.lower() in common_passwords():
        problems.append(_("该密码过于常见，请更换"))
    if username and len(username) >= 3 and username.lower() in password.lower():
        problems.append(_("密码不能包含用户名"))
    return problems


# WTForms adapters -----------------------------------------------------------------------------


TAXPAYER_ID_RE = re.compile(r"^(?:[0-9A-Z]{15}|[0-9A-Z]{17}|[0-9A-Z]{20})$")
BANK_ACCOUNT_RE = re.compile(r"^\d{8,30}$")
PHONE_RE = re.compile(r"^[0-9\-]{7,20}$")


def clean_taxpayer_id(value: str) -> str:
    """纳税人识别号: since 2015 an organisation's is its 18-character USCC (checked as one); older
    or individual numbers have 15, 17 or 20 digits or capital letters."""
    value = (value or "").strip().upper()
    if len(value) == 18:
        return _checked(uscc, value, _("纳税人识别号不正确（18 位时应为有效的统一社会信用代码）"))
    if not TAXPAYER_ID_RE.match(value):
        raise ValueError(_("纳税人识别号应为 15、17、18 或 20 位数字或大写字母"))
    return value


def clean_bank_account(value: str) -> str:
    """银行账号: 8 to 30 digits; spaces people type between groups are dropped."""
    value = "".join((value or "").split())
    if not BANK_ACCOUNT_RE.match(value):
        raise ValueError(_("银行账号应为 8 至 30 位数字"))
    return value


def clean_phone(value: str) -> str:
    value = (value or "").strip()
    if not PHONE_RE.match(value):
        raise ValueError(_("电话号码格式不正确"))
    return value


def _adapter(cleaner):
    def check(form, field):
        if field.data:
            try:
                field.data = cleaner(field.data)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None

    return check


uscc_field = _adapter(clean_uscc)
id_number_field = _adapter(clean_id_number)
mobile_field = _adapter(clean_mobile)
taxpayer_id_field = _adapter(clean_taxpayer_id)
bank_account_field = _adapter(clean_bank_account)
phone_field = _adapter(clean_phone)


def username_field(form, field):
    if field.data and not USERNAME_RE.match(field.data):
        raise ValidationError(_("用户名应为 4 至 40 位字母、数字或下划线，并以字母开头"))


def password_field(username_attr: str | None = "username"):
    def check(form, field):
        username = (
            getattr(form, username_attr).data if username_attr and hasattr(form, username_attr) else None
        )
        problems = password_problems(field.data or "", username)
        if problems:
            raise ValidationError("；".join(problems))

    return check
