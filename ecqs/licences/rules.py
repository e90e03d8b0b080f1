"""Rules of production licensing 生产单位许可, each written once: the acceptance form's choices,
the guards and the row scopes ask them."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import func, select

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import LicenceApplication, Organization, User


def reviewed_authority(user: User | None) -> int | None:
    """The authority whose licence applications this user reviews: a reviewer's own
    organisation (None for everyone else)."""
    if user is None or getattr(user, "role", None) != "reviewer" or not user.organization_id:
        return None
    return user.organization_id


def may_review(user: User | None, application: LicenceApplication) -> bool:
    """May `user` review this application? A reviewer of the authority it is addressed to, once
    it has been submitted (a draft is the applicant's alone). reviewable() is the SQL form."""
    authority = reviewed_authority(user)
    return authority is not None and application.authority_id == authority and application.status != "draft"


def reviewable(user: User):
    """The applications `user` may review, as a WHERE clause (None: none at all)."""
    authority = reviewed_authority(user)
    if authority is None:
        return None
    return (LicenceApplication.authority_id == authority) & (LicenceApplication.status != "draft")


def may_be_engaged(org: Organization | None) -> bool:
    """An assessment institution 鉴定评审机构 may be entrusted with a review once approved."""
    return org is not None and org.kind == "assessor" and org.is_approved


def engageable_assessors() -> list[Organization]:
    """Every institution may_be_engaged() accepts (the SQL form, for the acceptance form)."""
    return list(
        db.session.execute(
            select(Organization)
            .where(Organization.kind == "assessor", Organization.status == "approved")
            .order_by(Organization.name)
        ).scalars()
    )


def registered_contact(org: Organization) -> tuple[str, str]:
    """The institution's registered contact (name, phone) for the 受理决定书 when the reviewer
    leaves the fields blank: the registration's 联系人 and 电话 (or the contact's mobile), else
    the organisation's admin account, which registration creates for that same contact."""
    name = (org.contact_name or "").strip()
    phone = (org.phone or org.contact_mobile or "").strip()
    if not name or not phone:
        admin = db.session.execute(
            select(User)
            .where(User.organization_id == org.id, User.is_org_admin.is_(True), User.active.is_(True))
            .order_by(User.id)
        ).scalar()
        if admin is not None:
            name = name or (admin.real_name or "").strip()
            phone = phone or (admin.mobile or "").strip()
    return name, phone


def report_refusal(application: LicenceApplication, today) -> str | None:
    """Why the assessor may not submit the review report yet (the guard's message and the
    reason the report form is not offered), or None: the report follows the review, so not
    before the agreed 评审开始日期."""
    if application.review_start is None:
        return _("评审时间尚未确认，不能提交评审报告")
    if today < application.review_start:
        return _(
            "评审定于 %(start)s 开始，评审开始后方可提交评审报告", start=application.review_start.isoformat()
        )
    return None


# 许可证编号 of the 特种设备生产许可证. Source: TSG 07-2019《特种设备生产和充装单位许可规则》
# 附件 A, whose specimen certificate is numbered "编号：TS4211***-2019": the letters TS, four
# digits, three serial characters and, after a hyphen, a four-digit year. In the numbers the
# authorities issue, the four digits code the licence kind (1 设计, 2 制造, 3 安装改造修理,
# 4 充装), the equipment and the issuing authority (10 市场监管总局, else the province's
# GB/T 2260 prefix, e.g. TS2261… in 陕西), and the serial may hold capital letters
# (TS2210A63-2026); the year is the certificate's. Only this shape is checked: what the digits
# mean is the issuing authority's business and is not second-guessed here.
LICENCE_NUMBER_RE = re.compile(r"^TS\d{4}[0-9A-Z]{3}-(\d{4})$")


def normalise_licence_number(raw: str | None) -> str:
    """The number as printed: trimmed, capital letters, ASCII hyphen (a full-width 'ＴＳ' or '－'
    typed with a Chinese input method is the same number)."""
    text = unicodedata.normalize("NFKC", raw or "").strip().upper()
    return re.sub(r"\s+", "", text.replace("—", "-").replace("–", "-"))


def licence_number_problem(number: str) -> str | None:
    """Why `number` (normalised) is no TSG 07 许可证编号, or None."""
    match = LICENCE_NUMBER_RE.match(number)
    if match is None or not 2000 <= int(match.group(1)) <= 2099:
        return _(
            "许可证编号格式不正确：应为 TS + 4 位数字 + 3 位流水号 + “-” + 4 位年份，如 TS2261001-2030"
            "（TSG 07-2019 附件 A）"
        )
    return None


def licence_number_taken(number: str, application_id: int | None) -> bool:
    """Another application already holds this 许可证编号 (compared in the normalised form)."""
    return (
        db.session.execute(
            select(LicenceApplication.id).where(
                func.upper(LicenceApplication.licence_number) == number,
                LicenceApplication.id != (application_id or 0),
            )
        ).first()
        is not None
    )
