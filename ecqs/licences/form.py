"""The multi-page 许可申请书 (application form) as data: pages, their fields and which are
required. The wizard, the printable page, the completeness check on submit and the reviewers'
read-only view all read these definitions; adding a page or a field is a change here only."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from stdnum.cn import uscc as uscc_check

from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l


@dataclass(frozen=True)
class FormField:
    name: str
    label: object
    kind: str = "text"  # text, textarea, int, date, email, phone, postcode, uscc, checkbox
    required: bool = True
    max_length: int = 100
    prefill: str | None = None  # Organization attribute copied into a new application


@dataclass(frozen=True)
class FormPage:
    key: str
    title: object
    fields: tuple[FormField, ...]
    required: bool = True
    # 'fields': a page of the 许可申请书; 'documents': the 申请材料 page, where the applicant
    # uploads the documents of the catalogue (its completeness is documents.rules, not fields).
    kind: str = "fields"


PAGES: tuple[FormPage, ...] = (
    FormPage(
        "basic",
        _l("申请单位基本情况"),
        (
            FormField("company_name", _l("单位名称"), max_length=120, prefill="name"),
            FormField("uscc", _l("统一社会信用代码"), kind="uscc", max_length=18, prefill="uscc"),
            FormField("address", _l("单位地址"), max_length=200, prefill="address"),
            FormField("postcode", _l("邮政编码"), kind="postcode", max_length=6, prefill="postcode"),
            FormField("legal_rep", _l("法定代表人"), max_length=50, prefill="legal_rep_name"),
            FormField("contact_name", _l("联系人"), max_length=50, prefill="contact_name"),
            FormField("contact_phone", _l("联系电话"), kind="phone", max_length=30, prefill="contact_mobile"),
            FormField("email", _l("电子邮箱"), kind="email", required=False, max_length=120, prefill="email"),
        ),
    ),
    FormPage(
        "site",
        _l("生产场地与设备"),
        (
            FormField("production_address", _l("生产地址"), max_length=200),
            FormField("floor_area", _l("生产场地面积（平方米）"), kind="int"),
            FormField("main_equipment", _l("主要生产设备"), kind="textarea", max_length=2000),
            FormField("test_equipment", _l("主要检测仪器设备"), kind="textarea", max_length=2000),
        ),
    ),
    FormPage(
        "staff",
        _l("人员情况"),
        (
            FormField("technical_lead", _l("技术负责人"), max_length=50),
            FormField("quality_engineer", _l("质量保证工程师"), max_length=50),
            FormField("employees", _l("职工总数"), kind="int"),
            FormField("technicians", _l("专业技术人员数"), kind="int"),
            FormField("certified_workers", _l("持证作业人员数"), kind="int"),
        ),
    ),
    FormPage(
        "quality",
        _l("质量保证体系"),
        (
            FormField("manual_version", _l("质量保证手册版本号"), max_length=30),
            FormField("manual_effective", _l("质量保证手册实施日期"), kind="date"),
            FormField(
                "quality_policy", _l("质量方针和质量目标"), kind="textarea", required=False, max_length=2000
            ),
        ),
    ),
    FormPage(
        "products",
        _l("试制产品及生产业绩"),
        (
            FormField("product_name", _l("试制（典型）产品名称"), max_length=100),
            FormField("product_model", _l("产品型号规格"), max_length=100),
            FormField("performance", _l("近三年生产业绩"), kind="textarea", required=False, max_length=2000),
        ),
    ),
    FormPage("documents", _l("申请材料"), (), kind="documents"),
    FormPage(
        "remarks",
        _l("其他说明"),
        (FormField("remarks", _l("其他需要说明的事项"), kind="textarea", required=False, max_length=2000),),
        required=False,
    ),
    FormPage(
        "declaration",
        _l("申请声明"),
        (
            FormField(
                "pledge",
                _l("本单位承诺：所填写的内容和提交的材料真实、有效，并对其真实性负责"),
                kind="checkbox",
            ),
            FormField("signatory", _l("法定代表人（签字）"), max_length=50),
            FormField("signed_on", _l("申请日期"), kind="date"),
        ),
    ),
)
PAGE_BY_KEY = {p.key: p for p in PAGES}
FIELD_PAGES = tuple(p for p in PAGES if p.kind == "fields")

PHONE = re.compile(r"^[0-9][0-9\-]{5,29}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class FormErrors(Exception):
    """Some fields of a page are invalid; `errors` maps field name -> Chinese message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(_("请修改标红的内容后再保存"))
        self.errors = errors


def page(key: str) -> FormPage | None:
    return PAGE_BY_KEY.get(key)


def _parse(field: FormField, raw):
    """(value, error). Empty input is allowed here (a draft); completeness is checked apart."""
    if field.kind == "checkbox":
        return (str(raw or "").strip().lower() in {"y", "on", "1", "true", "yes"}), None
    text = str(raw or "").strip()
    if not text:
        return "", None
    if len(text) > field.max_length:
        return text, _("不能超过 %(n)d 个字", n=field.max_length)
    if field.kind == "int":
        if not text.isdigit() or len(text) > 9:
            return text, _("请填写非负整数")
        return int(text), None
    if field.kind == "date":
        try:
            return date.fromisoformat(text).isoformat(), None
        except ValueError:
            return text, _("日期格式应为 YYYY-MM-DD")
    if field.kind == "phone" and not PHONE.match(text):
        return text, _("请填写正确的电话号码")
    if field.kind == "email" and not EMAIL.match(text):
        return text, _("邮箱格式不正确")
    if field.kind == "postcode" and not (text.isdigit() and len(text) == 6):
        return text, _("邮政编码为 6 位数字")
    if field.kind == "uscc" and not uscc_check.is_valid(text):
        return text, _("统一社会信用代码不正确")
    return text, None


def parse_page(form_page: FormPage, raw: Mapping) -> dict:
    """Validate the posted values of one page; raise FormErrors, else return clean values."""
    values, errors = {}, {}
    for field in form_page.fields:
        value, error = _parse(field, raw.get(field.name))
        values[field.name] = value
        if error:
            errors[field.name] = error
    if errors:
        raise FormErrors(errors)
    return values


def save_page(application, key: str, raw: Mapping) -> dict:
    """Save one page as a draft (missing required values allowed, malformed ones refused)."""
    form_page = page(key)
    if form_page is None:
        raise KeyError(key)
    values = parse_page(form_page, raw)
    # A new dict, so that SQLAlchemy sees the JSON column change.
    application.form_data = {**(application.form_data or {}), key: values}
    return values


def values_of(application, key: str) -> dict:
    return dict((application.form_data or {}).get(key) or {})


def _filled(field: FormField, value) -> bool:
    if field.kind == "checkbox":
        return value is True
    return value not in (None, "")


def page_complete(application, form_page: FormPage) -> bool:
    values = values_of(application, form_page.key)
    return all(_filled(f, values.get(f.name)) for f in form_page.fields if f.required)


def missing_fields(application, form_page: FormPage) -> list[FormField]:
    values = values_of(application, form_page.key)
    return [f for f in form_page.fields if f.required and not _filled(f, values.get(f.name))]


def missing_pages(application) -> list[FormPage]:
    """Required pages of fields not yet complete, in page order (documents: documents.rules)."""
    return [p for p in FIELD_PAGES if p.required and not page_complete(application, p)]


def prefill(organization) -> dict:
    """Initial values copied from the enterprise's registration."""
    data: dict = {}
    for form_page in FIELD_PAGES:
        values = {}
        for field in form_page.fields:
            if field.prefill:
                values[field.name] = getattr(organization, field.prefill, None) or ""
        if values:
            data[form_page.key] = values
    return data


def display(field: FormField, value) -> str:
    if field.kind == "checkbox":
        return _("是") if value is True else ""
    return "" if value is None else str(value)
