"""Field checks with Chinese messages: USCC (GB 32100) and resident ID (GB 11643) by checksum
through python-stdnum, mobiles by format, passwords by the policy of SPEC's security baseline."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError
from wtforms.validators import ValidationError

from ecqs.config import SEED_DIR
from ecqs.i18n import gettext as _

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


# No living holder was born before this year (the oldest recorded Chinese supercentenarians
# were born in the late 1880s); an earlier "birth date" is a typing error.
EARLIEST_BIRTH_YEAR = 1880


@lru_cache(maxsize=4096)
def known_division_code(code: str) -> bool:
    """Whether `code` is an administrative division code GB/T 2260 ever had, current or retired:
    python-stdnum's loc.dat keeps history ("[1983-]雁塔区", "[-2010]崇文区") and seed/divisions.csv
    the current codes."""
    if any("county" in props for _part, props in numdb.get("cn/loc").info(code)):
        return True
    return code in _division_codes_in_seed()


@lru_cache(maxsize=1)
def _division_codes_in_seed() -> frozenset[str]:
    path = SEED_DIR / "divisions.csv"
    if not path.exists():
        return frozenset()
    return frozenset(line.split(",", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()[1:])


def clean_id_number(value: str) -> str:
    """Return the 18-character resident ID or raise ValueError with a Chinese message.

    GB 11643: 6-digit division code, birth date, sequence, check digit. python-stdnum's
    `ric.validate` also requires the division code to have existed in the birth year, but a card
    keeps the code of the place of registration at issue, so a holder born in 1972 in a district
    created in 1983 (610113197207201057) is genuine. Here any code GB/T 2260 ever had is accepted,
    with a correct checksum and a real birth date (not in the future, not before 1880)."""
    message = _("身份证号码不正确（应为 18 位，出生日期和校验位正确）")
    number = ric.compact(value or "")
    if len(number) != 18 or not number[:17].isdigit() or number[-1] != ric.calc_check_digit(number):
        raise ValueError(message)
    try:
        born = ric.get_birth_date(number)
    except StdnumError:
        raise ValueError(message) from None
    if not EARLIEST_BIRTH_YEAR <= born.year or born > date.today():
        raise ValueError(message)
    if not known_division_code(number[:6]):
        raise ValueError(message)
    return number


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
