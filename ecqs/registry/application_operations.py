"""Publicity applications 执业公示申报单 (seed 004 §3.3, §4): creating them (one person, or a 追加
batch), the three-factor check with its one mobile correction, the practitioner's SMS code, the
signed-form upload that submits, manual verification requests, and the 7-day expiry. Every
refusal raises RegistryError with a Chinese message before anything is written (a wrong SMS
code only counts the try)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ecqs import workflows
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import (
    APPLICATION_KIND_LABELS,
    Organization,
    PublicityApplication,
    PublicityApplicationItem,
    RealNameVerification,
    SmsCode,
    User,
    utcnow,
)
from ecqs.registry import eligibility, rules
from ecqs.registry.operations import RegistryError
from ecqs.services import audit, sms, three_factor, uploads, validators, workdays

SMS_PURPOSE = "publicity"


def _require_unit_admin(actor: User) -> Organization:
    if not rules.is_unit_admin(actor):
        raise RegistryError(_("只有已通过审核的单位的管理员账号可以办理执业公示申报"))
    return actor.organization


def _clean_person(name: str, id_number: str) -> tuple[str, str]:
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise RegistryError(_("请填写人员姓名"))
    try:
        return name, validators.clean_id_number(id_number)
    except ValueError as exc:
        raise RegistryError(str(exc)) from None


def search(actor: User, name: str, id_number: str) -> eligibility.Assessment:
    """人员检索: exact name + ID number; the type, or every failed rule."""
    org = _require_unit_admin(actor)
    name, id_number = _clean_person(name, id_number)
    return eligibility.assess(org, name, id_number)


def _refusal(result: eligibility.Assessment) -> str:
    return "；".join(f"{c.category}：{c.reason}" for c in result.failures) or _(
        "该人员不符合执业公示申报条件"
    )


def _save_upload(file, actor, missing: str):
    if file is None or (hasattr(file, "filename") and not file.filename):
        raise RegistryError(missing)
    try:
        return uploads.save(file, user=actor) if hasattr(file, "stream") else file
    except uploads.UploadError as exc:
        raise RegistryError(str(exc)) from None


def _new_application(actor, org, result: eligibility.Assessment, certificates) -> PublicityApplication:
    now = utcnow()
    row = PublicityApplication(
        number=f"-{result.id_number}-{now.timestamp()}"[:20],
        organization_id=org.id,
        kind=result.kind,
        person_id=result.person.id if result.person is not None else None,
        person_name=result.person_name,
        id_number=result.id_number,
        mobile=result.mobile,
        previous_organization_id=result.previous_unit.id if result.previous_unit is not None else None,
        registration=result.registration,
        deadline=now + timedelta(days=eligibility.UPLOAD_DAYS),
        created_by_id=actor.id,
        created_at=now,
    )
    for cert in certificates:
        row.items.append(
            PublicityApplicationItem(
                project_id=cert.project_id,
                project_code=cert.project_code,
                project_name=cert.project_name,
                level=cert.level,
                certificate_id=cert.id,
                certificate_number=cert.number,
                certificate_valid_until=cert.valid_until,
            )
        )
    db.session.add(row)
    db.session.flush()
    row.number = f"A{workdays.today():%Y%m%d}{row.id:06d}"
    audit.record("record_created", user=actor, obj=row, comment=row.kind)
    return row


def create_application(
    actor: User, name: str, id_number: str, project_ids=None, resignation=None
) -> PublicityApplication:
    """创建申报单 for one person (初始 / 变更 / 续期; a 追加 of one person too). `project_ids`
    narrows the items (default: every item the person may apply for)."""
    result = search(actor, name, id_number)
    if not result.eligible:
        raise RegistryError(_refusal(result))
    certificates = result.certificates
    if project_ids is not None:
        check = eligibility.check_requested(result.certificates, _ints(project_ids), result.all_valid)
        if not check.ok:
            raise RegistryError(check.reason)
        wanted = set(_ints(project_ids))
        certificates = [c for c in result.certificates if c.project_id in wanted]
    if result.kind == "addition":
        raise RegistryError(_("追加类型请在“待追加人员列表”中确认本人同意后批量创建"))
    proof = None
    if result.needs_resignation_proof:
        proof = _save_upload(
            resignation,
            actor,
            _(
                "%(name)s 在原单位“%(unit)s”尚未注销，请上传原单位离职证明",
                name=result.person_name,
                unit=result.previous_unit.name if result.previous_unit else "",
            ),
        )
    row = _new_application(actor, actor.organization, result, certificates)
    row.resignation_upload = proof
    return row


def _ints(values) -> list[int]:
    try:
        return [int(v) for v in values]
    except (TypeError, ValueError):
        raise RegistryError(_("请选择有效的资质项目")) from None


def create_additions(actor: User, id_numbers, consent: bool) -> list[PublicityApplication]:
    """追加 (seed 004 §3.3.2): the chosen people of the unit's 待追加人员列表, created in one batch
    once the unit confirms the practitioners' consent; all or none."""
    org = _require_unit_admin(actor)
    wanted = {str(i).strip().upper() for i in id_numbers or () if str(i).strip()}
    if not wanted:
        raise RegistryError(_("请选择待追加人员"))
    if not consent:
        raise RegistryError(_("按相关规定，追加项目须经执业人本人同意，请确认后再创建"))
    candidates = {c.id_number: c for c in eligibility.addition_candidates(org)}
    unknown = wanted - set(candidates)
    if unknown:
        raise RegistryError(_("所选人员中有不符合追加条件的人员，请刷新列表后重新选择"))
    return [_new_application(actor, org, candidates[i], candidates[i].certificates) for i in sorted(wanted)]


# ---- the practitioner's mobile: three-factor check, one correction, manual verification -------


def _require_open(application: PublicityApplication) -> None:
    expire_if_overdue(application)
    if application.status == "expired":
        raise RegistryError(_("申报单已超过 7 天上传期限，已逾期作废，请重新申报"))
    if application.status != "awaiting_upload":
        raise RegistryError(_("该申报单已提交审核，请勿重复提交"))


def _manual_pass(application: PublicityApplication) -> bool:
    return (
        db.session.execute(
            select(RealNameVerification.id).where(
                RealNameVerification.id_number == application.id_number,
                RealNameVerification.mobile == application.mobile,
                RealNameVerification.status == "passed",
            )
        ).first()
        is not None
    )


def verify_mobile(application: PublicityApplication, actor: User) -> three_factor.Outcome:
    """The three-factor check of the application's mobile. A mismatch is recorded for the
    公示人员实名验证 grid (系统自动验证不一致), from where the unit may ask for manual review."""
    _require_open(application)
    if application.three_factor in ("passed", "manual"):
        return three_factor.Outcome(three_factor.CONSISTENT)
    if not application.mobile:
        raise RegistryError(_("请填写执业人手机号"))
    if _manual_pass(application):
        application.three_factor = "manual"
        return three_factor.Outcome(three_factor.CONSISTENT)
    outcome = three_factor.verifier().check(
        application.person_name, application.id_number, application.mobile
    )
    if outcome.passed:
        application.three_factor = "passed"
    else:
        application.three_factor = "mismatch"
        db.session.add(
            RealNameVerification(
                organization_id=application.organization_id,
                application_id=application.id,
                person_name=application.person_name,
                id_number=application.id_number,
                mobile=application.mobile,
                remarks=outcome.message[:500] or None,
            )
        )
    audit.record("record_changed", user=actor, obj=application, comment=f"three-factor {outcome.result}")
    db.session.flush()
    return outcome


def correct_mobile(application: PublicityApplication, actor: User, mobile: str) -> three_factor.Outcome:
    """After a mismatch the mobile may be corrected once; the check runs again."""
    _require_open(application)
    if application.three_factor != "mismatch":
        raise RegistryError(_("手机号未出现实名验证不一致，无需修改"))
    if application.mobile_corrections >= 1:
        raise RegistryError(_("手机号修改机会已用完，请到“公示人员实名验证”申请人工核验"))
    try:
        cleaned = validators.clean_mobile(mobile)
    except ValueError as exc:
        raise RegistryError(str(exc)) from None
    application.mobile = cleaned
    application.mobile_corrections += 1
    application.three_factor = "unchecked"
    db.session.flush()
    return verify_mobile(application, actor)


def send_code(application: PublicityApplication, actor: User) -> str:
    """获取短信验证码: to the practitioner's mobile once it passed the three-factor check (or a
    manual verification); valid 24 hours, 3 per mobile per day for this purpose."""
    _require_open(application)
    if application.three_factor not in ("passed", "manual"):
        outcome = verify_mobile(application, actor)
        if not outcome.passed:
            return ""
    try:
        code = sms.issue_code(application.mobile, SMS_PURPOSE)
    except sms.SmsError as exc:
        raise RegistryError(str(exc)) from None
    application.code_sent_at = utcnow()
    return code


def check_code(application: PublicityApplication, code: str) -> None:
    """The practitioner's code, with a message for each way it can fail. A wrong code counts one
    of the 5 tries (the caller commits that); the 5th wrong try needs a new code."""
    latest = db.session.execute(
        select(SmsCode)
        .where(
            SmsCode.mobile == application.mobile, SmsCode.purpose == SMS_PURPOSE, SmsCode.used_at.is_(None)
        )
        .order_by(SmsCode.created_at.desc(), SmsCode.id.desc())
        .limit(1)
    ).scalar()
    if not (code or "").strip():
        raise RegistryError(_("请填写短信验证码"))
    if latest is None:
        raise RegistryError(_("请先获取短信验证码"))
    if latest.expires_at < utcnow():
        raise RegistryError(_("短信验证码已过期（24 小时内有效），请重新获取"))
    if latest.attempts >= sms.MAX_CODE_ATTEMPTS:
        raise RegistryError(_("验证码错误次数已达 5 次，请重新获取短信验证码"))
    if not sms.verify_code(application.mobile, SMS_PURPOSE, code):
        left = sms.MAX_CODE_ATTEMPTS - latest.attempts
        if left <= 0:
            raise RegistryError(_("验证码错误次数已达 5 次，请重新获取短信验证码"))
        raise RegistryError(_("短信验证码错误，还可尝试 %(n)d 次", n=left))


class CodeRefused(RegistryError):
    """A wrong SMS code: the try is counted (commit), nothing else changes."""


def submit(
    application: PublicityApplication,
    actor: User,
    form_file,
    code: str,
    resignation=None,
    expected_version=None,
) -> PublicityApplication:
    """上传申报单 → 提交审核: the signed, stamped form and the practitioner's SMS code."""
    if not rules.is_unit_admin(actor) or actor.organization_id != application.organization_id:
        raise RegistryError(_("您无权办理该申报单"))
    if expected_version not in (None, "") and str(expected_version) != str(application.version):
        raise RegistryError(_("该申报单已被他人处理，请刷新后重试"))
    _require_open(application)
    if application.three_factor not in ("passed", "manual"):
        raise RegistryError(_("执业人手机号尚未通过实名验证，请先获取短信验证码"))
    if form_file is None or (hasattr(form_file, "filename") and not form_file.filename):
        raise RegistryError(_("请上传签字盖章后的申报单图片"))
    try:
        check_code(application, code)
    except RegistryError as exc:
        raise CodeRefused(str(exc)) from None
    application.form_upload = _save_upload(form_file, actor, _("请上传签字盖章后的申报单图片"))
    if resignation is not None and getattr(resignation, "filename", "x"):
        application.resignation_upload = _save_upload(resignation, actor, "")
    try:
        workflows.transition(application, "submit", actor, code_verified=True)
    except workflows.WorkflowError as exc:
        raise RegistryError(str(exc)) from None
    return application


def file_verification(
    actor: User, name: str, id_number: str, mobile: str, proof=None, remarks: str | None = None
) -> RealNameVerification:
    """公示人员实名验证 → 申请: a manual check of a practitioner's name, ID number and mobile."""
    org = _require_unit_admin(actor)
    name, id_number = _clean_person(name, id_number)
    try:
        mobile = validators.clean_mobile(mobile)
    except ValueError as exc:
        raise RegistryError(str(exc)) from None
    waiting = db.session.execute(
        select(RealNameVerification.id).where(
            RealNameVerification.id_number == id_number,
            RealNameVerification.mobile == mobile,
            RealNameVerification.status == "pending",
        )
    ).first()
    if waiting:
        raise RegistryError(_("该人员的此手机号已在人工核验中，请等待审核结果"))
    upload = _save_upload(proof, actor, _("请上传证明材料")) if proof is not None else None
    application = db.session.execute(
        select(PublicityApplication)
        .where(
            PublicityApplication.organization_id == org.id,
            PublicityApplication.id_number == id_number,
            PublicityApplication.status == "awaiting_upload",
        )
        .limit(1)
    ).scalar()
    row = RealNameVerification(
        organization_id=org.id,
        application_id=application.id if application is not None and application.mobile == mobile else None,
        person_name=name,
        id_number=id_number,
        mobile=mobile,
        remarks=(remarks or "").strip()[:500] or None,
        proof_upload=upload,
        status="pending",
        submitted_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    audit.record("record_created", user=actor, obj=row)
    return row


# ---- 逾期作废 -----------------------------------------------------------------------------------


def expire_if_overdue(application: PublicityApplication) -> bool:
    if application.status != "awaiting_upload" or application.deadline >= utcnow():
        return False
    workflows.transition(
        application,
        "expire",
        workflows.SystemActor(application.created_by),
        comment=_("超过 7 天未上传申报单"),
    )
    return True


def expire_overdue(now=None) -> int:
    """Every application not uploaded within 7 days ends as 逾期作废 (its printed form is void).
    Run hourly on the queue, by `flask registry expire-applications`, and on access."""
    now = now or utcnow()
    overdue = db.session.execute(
        select(PublicityApplication).where(
            PublicityApplication.status == "awaiting_upload", PublicityApplication.deadline < now
        )
    ).scalars()
    count = 0
    for application in list(overdue):
        if expire_if_overdue(application):
            count += 1
    return count


def expire_for_unit(organization_id: int | None) -> int:
    """On access: before a grid or record shows, its overdue applications expire."""
    stmt = select(PublicityApplication).where(
        PublicityApplication.status == "awaiting_upload", PublicityApplication.deadline < utcnow()
    )
    if organization_id is not None:
        stmt = stmt.where(PublicityApplication.organization_id == organization_id)
    count = sum(1 for a in list(db.session.execute(stmt).scalars()) if expire_if_overdue(a))
    if count:
        db.session.commit()
    return count


def kind_label(application: PublicityApplication) -> str:
    return str(APPLICATION_KIND_LABELS.get(application.kind, application.kind))
