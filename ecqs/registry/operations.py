"""The one home for creating registry records that enter a workflow (change requests,
qualification requests) and for creating branches. Every refusal raises RegistryError with a
Chinese message before anything is written."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import (
    APPEAL_REASON_LABELS,
    CHANGE_FIELD_LABELS,
    CHANGE_KIND_LABELS,
    UNIT_QUALIFICATION_TYPES,
    Organization,
    RegistryNotice,
    RegistryNoticeRead,
    UnitAccountAppeal,
    UnitChangeRequest,
    UnitQualificationRequest,
    UnitQuestion,
    User,
    utcnow,
)
from ecqs.registry import rules
from ecqs.services import audit, uploads, validators, workdays


class RegistryError(Exception):
    """Refused input; str(exc) is the Chinese message. Nothing was changed."""


def _require_unit_admin(actor: User) -> Organization:
    if not rules.is_unit_admin(actor):
        raise RegistryError(_("只有已通过审核的单位的管理员账号可以办理此业务"))
    return actor.organization


def _number(prefix: str, row) -> str:
    return f"{prefix}{workdays.today():%Y%m%d}{row.id:05d}"


def _clean_values(values: dict) -> dict:
    cleaned = {}
    for name in CHANGE_FIELD_LABELS:
        value = (values.get(name) or "").strip()
        cleaned[name] = value
    if cleaned["uscc"]:
        try:
            cleaned["uscc"] = validators.clean_uscc(cleaned["uscc"])
        except ValueError as exc:
            raise RegistryError(str(exc)) from None
    if cleaned["contact_mobile"]:
        try:
            cleaned["contact_mobile"] = validators.clean_mobile(cleaned["contact_mobile"])
        except ValueError as exc:
            raise RegistryError(str(exc)) from None
    if cleaned["postcode"] and not (cleaned["postcode"].isdigit() and len(cleaned["postcode"]) == 6):
        raise RegistryError(_("邮编应为 6 位数字"))
    limits = {"name": 120, "legal_rep_name": 50, "address": 200, "contact_name": 50}
    for name, limit in limits.items():
        if len(cleaned[name]) > limit:
            raise RegistryError(_("%(label)s不能超过 %(n)d 个字", label=CHANGE_FIELD_LABELS[name], n=limit))
    return cleaned


def check_merge_partner(org: Organization, partner: Organization | None) -> None:
    """A unit merges only an approved, top-level unit other than itself (the rule of filing and
    of approval)."""
    if partner is None or partner.kind != "unit":
        raise RegistryError(_("未找到要合并的执业单位，请核对统一社会信用代码"))
    if partner.id == org.id:
        raise RegistryError(_("不能与本单位合并"))
    if partner.status != "approved":
        raise RegistryError(_("单位“%(name)s”正在审核中或未通过审核，不能合并", name=partner.name))
    if partner.parent_id is not None:
        raise RegistryError(_("单位“%(name)s”是二级单位，不能合并", name=partner.name))
    if rules.open_change_request(partner) is not None:
        raise RegistryError(_("单位“%(name)s”有待审核的变更申请，暂不能合并", name=partner.name))


def check_requested_uscc(uscc: str, org: Organization) -> None:
    if uscc and uscc != org.uscc and rules.uscc_taken(uscc, except_org_id=org.id):
        raise RegistryError(_("统一社会信用代码“%(uscc)s”已被其他单位使用", uscc=uscc))


def file_change_request(
    actor: User,
    kind: str,
    values: dict,
    proof=None,
    partner_uscc: str | None = None,
    split_branch_ids=(),
    reason: str | None = None,
) -> UnitChangeRequest:
    """单位信息变更: 信息变更 (the requested values), 单位拆分 (values of the new unit and the
    branches that go with it) or 单位合并 (the absorbed unit's USCC, optionally new values for
    the surviving unit)."""
    org = _require_unit_admin(actor)
    if kind not in CHANGE_KIND_LABELS:
        raise RegistryError(_("请选择变更原因"))
    if rules.open_change_request(org) is not None:
        raise RegistryError(_("本单位已有待审核的变更申请，请等待审核结果"))
    current = rules.current_values(org)
    requested = _clean_values(values)
    partner = None
    branch_ids: list[int] = []
    if kind == "info":
        # Blank means "unchanged".
        requested = {k: v or current[k] for k, v in requested.items()}
        if not rules.changed_fields(current, requested):
            raise RegistryError(_("变更后的信息与当前信息完全相同，请修改需要变更的内容"))
        check_requested_uscc(requested["uscc"], org)
    elif kind == "merge":
        requested = {k: v or current[k] for k, v in requested.items()}
        cleaned_uscc = (partner_uscc or "").strip().upper()
        if not cleaned_uscc:
            raise RegistryError(_("请填写被合并单位的统一社会信用代码"))
        partner = db.session.execute(select(Organization).where(Organization.uscc == cleaned_uscc)).scalar()
        check_merge_partner(org, partner)
        check_requested_uscc(requested["uscc"], org)
    else:  # split: the values describe the new unit
        if not requested["name"] or not requested["uscc"]:
            raise RegistryError(_("单位拆分须填写新单位的名称和统一社会信用代码"))
        if rules.uscc_taken(requested["uscc"]):
            raise RegistryError(_("统一社会信用代码“%(uscc)s”已被其他单位使用", uscc=requested["uscc"]))
        own = set(rules.branch_ids(org))
        try:
            branch_ids = sorted({int(i) for i in split_branch_ids or ()})
        except (TypeError, ValueError):
            raise RegistryError(_("请选择本单位的二级单位")) from None
        if not set(branch_ids) <= own:
            raise RegistryError(_("请选择本单位的二级单位"))
        requested = {
            k: v or (current[k] if k in ("legal_rep_name", "postcode") else "") for k, v in requested.items()
        }
    if reason and len(reason) > 500:
        raise RegistryError(_("变更说明不能超过 500 个字"))
    if proof is None or (hasattr(proof, "filename") and not proof.filename):
        raise RegistryError(_("请上传证明资料"))
    try:
        upload = uploads.save(proof, user=actor) if hasattr(proof, "stream") else proof
    except uploads.UploadError as exc:
        raise RegistryError(str(exc)) from None
    row = UnitChangeRequest(
        number="-",
        organization=org,
        kind=kind,
        current_values=current,
        requested_values=requested,
        partner=partner,
        split_branch_ids=branch_ids,
        reason=(reason or "").strip() or None,
        proof_upload=upload,
        created_by_id=actor.id,
        submitted_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    row.number = _number("BG", row)
    audit.record("record_created", user=actor, obj=row, comment=kind)
    return row


def file_qualification_request(
    actor: User,
    qual_type: str,
    certificate_number: str,
    issued_on: date | None,
    valid_until: date | None,
    certificate=None,
    remarks: str | None = None,
) -> UnitQualificationRequest:
    """新增资质申请: type, number, dates and the certificate image."""
    org = _require_unit_admin(actor)
    if qual_type not in UNIT_QUALIFICATION_TYPES:
        raise RegistryError(_("请选择申请资质"))
    certificate_number = (certificate_number or "").strip()
    if not certificate_number:
        raise RegistryError(_("请填写核准证号"))
    if len(certificate_number) > 60:
        raise RegistryError(_("核准证号不能超过 60 个字"))
    if issued_on is None or valid_until is None:
        raise RegistryError(_("请填写发证日期和有效日期"))
    if valid_until <= issued_on:
        raise RegistryError(_("有效日期应晚于发证日期"))
    if certificate is None or (hasattr(certificate, "filename") and not certificate.filename):
        raise RegistryError(_("请上传资质证书图片"))
    try:
        upload = uploads.save(certificate, user=actor) if hasattr(certificate, "stream") else certificate
    except uploads.UploadError as exc:
        raise RegistryError(str(exc)) from None
    row = UnitQualificationRequest(
        number="-",
        organization=org,
        qual_type=qual_type,
        certificate_number=certificate_number,
        issued_on=issued_on,
        valid_until=valid_until,
        certificate_upload=upload,
        remarks=(remarks or "").strip()[:500] or None,
        created_by_id=actor.id,
        submitted_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    row.number = _number("ZZ", row)
    audit.record("record_created", user=actor, obj=row)
    return row


def create_branch(actor: User, name: str, uscc: str | None = None, **fields) -> Organization:
    """新建二级单位: only the unit's admin account; a branch is approved with its parent."""
    org = _require_unit_admin(actor)
    name = (name or "").strip()
    if not name:
        raise RegistryError(_("请填写单位名称"))
    cleaned = None
    if uscc:
        try:
            cleaned = validators.clean_uscc(uscc)
        except ValueError as exc:
            raise RegistryError(str(exc)) from None
        if rules.uscc_taken(cleaned):
            raise RegistryError(_("统一社会信用代码“%(uscc)s”已被其他单位使用", uscc=cleaned))
    allowed = {"address", "phone", "contact_name", "contact_mobile", "cert_type", "division_code", "postcode"}
    branch = Organization(
        kind="unit",
        name=name,
        uscc=cleaned,
        parent_id=org.id,
        division_code=fields.pop("division_code", None) or org.division_code,
        status="approved",
        approved_at=utcnow(),
        submitted_at=utcnow(),
        **{k: v for k, v in fields.items() if k in allowed and v},
    )
    db.session.add(branch)
    db.session.flush()
    audit.record("record_created", user=actor, obj=branch)
    return branch


def ask_question(actor: User, title: str, body: str, attachment=None) -> UnitQuestion:
    """在线提问: any account of an approved unit asks; an attachment is optional."""
    if actor.role != "unit" or not actor.org_approved:
        raise RegistryError(_("只有已通过审核的执业单位可以提问"))
    title, body = (title or "").strip(), (body or "").strip()
    if not title or not body:
        raise RegistryError(_("请填写问题标题和内容"))
    if len(title) > 200 or len(body) > 4000:
        raise RegistryError(_("问题标题不能超过 200 个字，内容不能超过 4000 个字"))
    upload = None
    if attachment is not None and getattr(attachment, "filename", "x"):
        try:
            upload = uploads.save(attachment, user=actor) if hasattr(attachment, "stream") else attachment
        except uploads.UploadError as exc:
            raise RegistryError(str(exc)) from None
    row = UnitQuestion(
        organization_id=actor.organization_id,
        asked_by_id=actor.id,
        title=title,
        body=body,
        attachment_upload=upload,
    )
    db.session.add(row)
    db.session.flush()
    audit.record("record_created", user=actor, obj=row)
    return row


def mark_read(notice: RegistryNotice, user: User) -> None:
    exists = db.session.execute(
        select(RegistryNoticeRead.id).where(
            RegistryNoticeRead.notice_id == notice.id, RegistryNoticeRead.user_id == user.id
        )
    ).first()
    if not exists:
        db.session.add(RegistryNoticeRead(notice_id=notice.id, user_id=user.id))
        db.session.flush()


def appeal_unit(unit_name: str, uscc: str) -> Organization:
    """账号申诉 step 1 (单位账号): the approved, top-level unit of this name and USCC."""
    try:
        uscc = validators.clean_uscc(uscc)
    except ValueError as exc:
        raise RegistryError(str(exc)) from None
    org = db.session.execute(
        select(Organization).where(Organization.uscc == uscc, Organization.kind == "unit")
    ).scalar()
    if org is None or org.name != (unit_name or "").strip():
        raise RegistryError(_("单位名称与统一社会信用代码不匹配"))
    if org.parent_id is not None or not org.is_approved:
        raise RegistryError(_("该单位尚未通过审核，不能申诉"))
    pending = db.session.execute(
        select(UnitAccountAppeal.id).where(
            UnitAccountAppeal.organization_id == org.id, UnitAccountAppeal.status == "pending"
        )
    ).first()
    if pending:
        raise RegistryError(_("该单位已有待审核的账号申诉，请等待审核结果"))
    return org


def appeal_contact(org: Organization, contact_name: str, contact_id_number: str, contact_mobile: str) -> dict:
    """账号申诉 step 2 (新联系人): the new contact's name, ID and mobile, checked and cleaned."""
    try:
        id_number = validators.clean_id_number(contact_id_number)
        mobile = validators.clean_mobile(contact_mobile)
    except ValueError as exc:
        raise RegistryError(str(exc)) from None
    contact_name = (contact_name or "").strip()
    if not contact_name or len(contact_name) > 50:
        raise RegistryError(_("请填写新联系人姓名"))
    holder = db.session.execute(select(User).where(User.mobile == mobile)).scalar()
    if holder is not None and not (holder.organization_id == org.id and holder.is_org_admin):
        raise RegistryError(_("该手机号已被其他账号使用"))
    return {"contact_name": contact_name, "contact_id_number": id_number, "contact_mobile": mobile}


def file_appeal(
    unit_name: str,
    uscc: str,
    contact_name: str,
    contact_id_number: str,
    contact_mobile: str,
    contact_email: str | None,
    reason: str,
    letter,
) -> UnitAccountAppeal:
    """账号申诉 (anonymous), the three steps of seed 004 §2.3.2 checked again together: the unit
    is found by name + USCC; the new contact's ID and mobile are checked; the signed
    authorisation letter is required. Nothing is stored before all of it passes."""
    org = appeal_unit(unit_name, uscc)
    contact = appeal_contact(org, contact_name, contact_id_number, contact_mobile)
    contact_name, id_number, mobile = (
        contact["contact_name"],
        contact["contact_id_number"],
        contact["contact_mobile"],
    )
    if reason not in APPEAL_REASON_LABELS:
        raise RegistryError(_("请选择申诉原因"))
    if letter is None or (hasattr(letter, "filename") and not letter.filename):
        raise RegistryError(_("请上传授权书"))
    try:
        upload = uploads.save(letter) if hasattr(letter, "stream") else letter
    except uploads.UploadError as exc:
        raise RegistryError(str(exc)) from None
    row = UnitAccountAppeal(
        organization=org,
        contact_name=contact_name,
        contact_id_number=id_number,
        contact_mobile=mobile,
        contact_email=(contact_email or "").strip()[:120] or None,
        reason=reason,
        letter_upload=upload,
        submitted_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    audit.record("record_created", obj=row, username=contact_name)
    return row
