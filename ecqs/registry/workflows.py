"""State tables of the registry: unit change requests 单位信息变更 and qualification requests
单位资质管理 (the unit registration review is accounts' organisation_review, with the three
working days of seed 004 for units)."""

from __future__ import annotations

from sqlalchemy import select

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import (
    APPLICATION_KIND_LABELS,
    APPLICATION_STATUS_LABELS,
    CHANGE_KIND_LABELS,
    DEREGISTRATION_STATUS_LABELS,
    QUESTION_STATUS_LABELS,
    REGISTRATION_STATUS_LABELS,
    REGISTRY_STATUS_LABELS,
    UNIT_QUALIFICATION_TYPES,
    VERIFICATION_STATUS_LABELS,
    OrganizationQualification,
    PractitionerDeregistration,
    PractitionerRegistration,
    PublicityApplication,
    QualificationCertificate,
    RealNameVerification,
    UnitAccountAppeal,
    UnitChangeRequest,
    UnitQualificationRequest,
    UnitQuestion,
    User,
    utcnow,
)
from ecqs.registry import changes, publication, registrations, rules
from ecqs.registry.operations import RegistryError
from ecqs.services import audit, sms, user_sessions, workdays
from ecqs.workflows import SYSTEM, Field, GuardFailed, SystemActor, Then, Transition, Workflow, register

STAFF = frozenset({"association", "admin"})
COLOURS = {"pending": "warning", "approved": "success", "rejected": "danger"}


def _unit_admins(org):
    return [u for u in org.users if u.is_org_admin and u.active]


def _reject(obj, actor, data):
    obj.decided_at = utcnow()
    obj.reject_reason = data["comment"]


def staff_decision(
    approve_effect,
    *,
    guard=None,
    confirm=None,
    bulk=True,
    after=None,
    source="pending",
    approved="approved",
    rejected="rejected",
    labels=(_l("审核通过"), _l("驳回")),
):
    """The decision staff take on every registry request, from `source`: approve (its effect,
    guard, confirmation and follow-ups as given) or reject with a reason (`_reject`), the
    rejection also offered in bulk. Returns the two transitions, approve first."""
    approve_label, reject_label = labels
    return (
        Transition(
            "approve",
            approve_label,
            (source,),
            approved,
            STAFF,
            guard=guard,
            effect=approve_effect,
            confirm=confirm,
            bulk=bulk,
            style="success",
            after=after,
        ),
        Transition(
            "reject",
            reject_label,
            (source,),
            rejected,
            STAFF,
            effect=_reject,
            needs_comment=True,
            style="danger",
        ),
    )


# ---- 单位信息变更 ---------------------------------------------------------------------------


def _change_guard(request, actor, data):
    changes.check(request)


def _apply_change(request, actor, data):
    changes.apply(request, actor)
    request.decided_at = utcnow()
    request.reject_reason = None


def _notify_change(request, t, actor, comment):
    kind = CHANGE_KIND_LABELS[request.kind]
    if t.action == "approve":
        title = _("您单位的%(kind)s申请（%(number)s）已审核通过", kind=kind, number=request.number)
    else:
        title = _(
            "您单位的%(kind)s申请（%(number)s）被驳回：%(reason)s",
            kind=kind,
            number=request.number,
            reason=comment,
        )
    return [(u, title, title) for u in _unit_admins(request.organization)]


UNIT_CHANGE = register(
    Workflow(
        name="unit_change_request",
        model=UnitChangeRequest,
        states=REGISTRY_STATUS_LABELS,
        colours=COLOURS,
        title=lambda r: _(
            "单位变更审核：%(name)s（%(kind)s）", name=r.organization.name, kind=CHANGE_KIND_LABELS[r.kind]
        ),
        notify=_notify_change,
        deadline=lambda r: rules.review_deadline(r.submitted_at),
        transitions=staff_decision(
            _apply_change,
            guard=_change_guard,
            confirm=_l("审核通过后将立即按申请变更单位信息，确定吗？"),
            bulk=False,
        ),
    )
)


# ---- 单位资质管理 ---------------------------------------------------------------------------


def _approve_qualification(request, actor, data):
    # No lazy load here: an autoflush would write decided_at before the engine sets the state.
    db.session.add(
        OrganizationQualification(
            organization_id=request.organization_id,
            name=str(UNIT_QUALIFICATION_TYPES.get(request.qual_type, request.qual_type)),
            number=request.certificate_number,
            issued_on=request.issued_on,
            valid_until=request.valid_until,
        )
    )
    request.decided_at = utcnow()
    request.reject_reason = None


def _notify_qualification(request, t, actor, comment):
    kind = UNIT_QUALIFICATION_TYPES.get(request.qual_type, request.qual_type)
    if t.action == "approve":
        title = _("您单位的资质申请“%(kind)s”（%(number)s）已审核通过", kind=kind, number=request.number)
    else:
        title = _(
            "您单位的资质申请“%(kind)s”（%(number)s）被驳回：%(reason)s",
            kind=kind,
            number=request.number,
            reason=comment,
        )
    return [(u, title, None) for u in _unit_admins(request.organization)]


UNIT_QUALIFICATION = register(
    Workflow(
        name="unit_qualification_request",
        model=UnitQualificationRequest,
        states=REGISTRY_STATUS_LABELS,
        colours=COLOURS,
        title=lambda r: _(
            "单位资质审核：%(name)s（%(kind)s）",
            name=r.organization.name,
            kind=UNIT_QUALIFICATION_TYPES.get(r.qual_type, r.qual_type),
        ),
        notify=_notify_qualification,
        deadline=lambda r: rules.review_deadline(r.submitted_at),
        transitions=staff_decision(_approve_qualification),
    )
)


# ---- 在线提问解答 ---------------------------------------------------------------------------


def _answer(question, actor, data):
    question.answer = data["comment"]
    question.answered_by_id = actor.id
    question.answered_at = utcnow()


def _follow_up(question, actor, data):
    question.answer = None
    question.answered_by_id = None
    question.answered_at = None


def _notify_question(question, t, actor, comment):
    if t.action != "answer":
        return []
    title = _("您的提问“%(title)s”已有解答", title=question.title)
    return [(question.asked_by, title, None)]


UNIT_QUESTION = register(
    Workflow(
        name="unit_question",
        model=UnitQuestion,
        states=QUESTION_STATUS_LABELS,
        colours={"open": "warning", "answered": "success"},
        title=lambda q: _("在线提问：%(title)s（%(name)s）", title=q.title, name=q.organization.name),
        notify=_notify_question,
        transitions=(
            Transition(
                "answer",
                _l("解答"),
                ("open",),
                "answered",
                STAFF,
                effect=_answer,
                needs_comment=True,
                style="success",
            ),
            Transition(
                "follow_up",
                _l("追问"),
                ("answered",),
                "open",
                frozenset({"unit"}),
                party=lambda q, actor: actor.organization_id == q.organization_id,
                effect=_follow_up,
                needs_comment=True,
                todo=False,
            ),
        ),
    )
)


# ---- 账号申诉 -------------------------------------------------------------------------------


def _appeal_guard(appeal, actor, data):
    holder = db.session.execute(select(User).where(User.mobile == appeal.contact_mobile)).scalar()
    if holder is not None and not (holder.organization_id == appeal.organization_id and holder.is_org_admin):
        raise GuardFailed(_("该手机号已被其他账号使用"))
    if not _unit_admins(appeal.organization):
        raise GuardFailed(_("该单位没有管理员账号"))


def _approve_appeal(appeal, actor, data):
    """The new contact becomes the unit's authorised contact and the admin account's holder:
    they set a password through 忘记密码 with their own mobile."""
    org = appeal.organization
    admin = _unit_admins(org)[0]
    org.contact_name = appeal.contact_name
    org.contact_id_number = appeal.contact_id_number
    org.contact_mobile = appeal.contact_mobile
    admin.real_name = appeal.contact_name
    admin.id_number = appeal.contact_id_number
    admin.mobile = appeal.contact_mobile
    admin.email = appeal.contact_email or admin.email
    audit.record_change(actor, org)
    audit.record_change(actor, admin)
    user_sessions.unlock_and_end_all(admin)
    appeal.decided_at = utcnow()
    appeal.reject_reason = None


def _notify_appeal(appeal, t, actor, comment):
    # The new contact has no account of their own yet: the SMS goes to the mobile they gave.
    if t.action == "approve":
        admin = _unit_admins(appeal.organization)[0]
        text = _(
            "您的账号申诉已通过，登录账号为 %(username)s，请在登录页点击“忘记密码”用本手机号设置新密码",
            username=admin.username,
        )
        return [(admin, text, text)]
    text = _("您的账号申诉被驳回：%(reason)s", reason=comment)
    sms.send(appeal.contact_mobile, f"【e-CQS】{text}"[:500], "notice")
    return []


UNIT_APPEAL = register(
    Workflow(
        name="unit_account_appeal",
        model=UnitAccountAppeal,
        states=REGISTRY_STATUS_LABELS,
        colours=COLOURS,
        title=lambda a: _("账号申诉审核：%(name)s", name=a.organization.name),
        notify=_notify_appeal,
        deadline=lambda a: rules.review_deadline(a.submitted_at),
        transitions=staff_decision(
            _approve_appeal,
            guard=_appeal_guard,
            confirm=_l("审核通过后新联系人将成为本单位的授权联系人，确定吗？"),
            bulk=False,
        ),
    )
)


# ---- 执业公示申报单 (part 2) ------------------------------------------------------------------

UNIT = frozenset({"unit"})


def _own_unit(obj, actor):
    return actor.organization_id == obj.organization_id


def _submit_guard(application, actor, data):
    """Only the upload page submits: it has checked the practitioner's SMS code first."""
    if application.deadline < utcnow():
        raise GuardFailed(_("申报单已超过 7 天上传期限，已逾期作废，请重新申报"))
    if not data.get("code_verified"):
        raise GuardFailed(_("请在“上传申报单”中填写执业人收到的短信验证码后提交"))
    if application.three_factor not in ("passed", "manual"):
        raise GuardFailed(_("执业人手机号尚未通过实名验证"))
    if application.form_upload is None:
        raise GuardFailed(_("请上传签字盖章后的申报单图片"))


def _submitted(application, actor, data):
    application.submitted_at = utcnow()


def _expire_guard(application, actor, data):
    if application.deadline >= utcnow():
        raise GuardFailed(_("申报单尚未超过 7 天上传期限"))


def _approve_guard(application, actor, data):
    """The certificates behind the items must still be valid when staff approve."""
    today = workdays.today()
    for item in application.items:
        cert = db.session.get(QualificationCertificate, item.certificate_id) if item.certificate_id else None
        if cert is None or not cert.is_current(today):
            raise GuardFailed(
                _(
                    "资格证书 %(number)s 已失效（撤销、过期或换发），不能审核通过",
                    number=item.certificate_number,
                )
            )


def _approve_application(application, actor, data):
    publication.publish(application)
    application.decided_at = utcnow()
    application.reject_reason = None


def _notify_application(application, t, actor, comment):
    if t.action == "approve":
        text = _(
            "%(name)s 的执业公示申报单（%(number)s）已审核通过，已公示",
            name=application.person_name,
            number=application.number,
        )
    elif t.action == "reject":
        text = _(
            "%(name)s 的执业公示申报单（%(number)s）被驳回：%(reason)s",
            name=application.person_name,
            number=application.number,
            reason=comment,
        )
    elif t.action == "expire":
        title = _(
            "%(name)s 的执业公示申报单（%(number)s）未在 7 天内上传，已逾期作废",
            name=application.person_name,
            number=application.number,
        )
        return [(u, title, None) for u in _unit_admins(application.organization)]
    else:
        return []
    return [(u, text, text) for u in _unit_admins(application.organization)]


PUBLICITY_APPLICATION = register(
    Workflow(
        name="publicity_application",
        model=PublicityApplication,
        states=APPLICATION_STATUS_LABELS,
        colours={
            "awaiting_upload": "info",
            "submitted": "warning",
            "approved": "success",
            "rejected": "danger",
            "expired": "secondary",
        },
        title=lambda a: _(
            "执业公示审核：%(name)s（%(kind)s，%(unit)s）",
            name=a.person_name,
            kind=APPLICATION_KIND_LABELS[a.kind],
            unit=a.organization.name,
        ),
        notify=_notify_application,
        deadline=lambda a: rules.review_deadline(a.submitted_at) if a.status == "submitted" else None,
        transitions=(
            Transition(
                "submit",
                _l("提交审核"),
                ("awaiting_upload",),
                "submitted",
                UNIT,
                party=_own_unit,
                guard=_submit_guard,
                effect=_submitted,
                bulk=False,
                todo=False,
            ),
            *staff_decision(
                _approve_application,
                guard=_approve_guard,
                confirm=_l("审核通过后该人员的执业注册信息将立即公示，确定吗？"),
                bulk=False,
                source="submitted",
            ),
            Transition(
                "expire",
                _l("逾期作废"),
                ("awaiting_upload",),
                "expired",
                SYSTEM,
                guard=_expire_guard,
                bulk=False,
                todo=False,
            ),
        ),
    )
)


# ---- 公示人员实名验证 -------------------------------------------------------------------------


def _verification_applied(verification, actor, data):
    verification.submitted_at = utcnow()
    if data.get("proof") is not None:
        verification.proof_upload = data["proof"]


def _verification_passed(verification, actor, data):
    verification.decided_at = utcnow()
    verification.reject_reason = None
    application = verification.application
    if (
        application is not None
        and application.status == "awaiting_upload"
        and application.mobile == verification.mobile
        and application.id_number == verification.id_number
    ):
        application.three_factor = "manual"


def _notify_verification(verification, t, actor, comment):
    if t.action == "approve":
        text = _("%(name)s 的手机号人工核验通过，可以获取短信验证码", name=verification.person_name)
    elif t.action == "reject":
        text = _("%(name)s 的手机号人工核验不通过：%(reason)s", name=verification.person_name, reason=comment)
    else:
        return []
    return [(u, text, None) for u in _unit_admins(verification.organization)]


REAL_NAME_VERIFICATION = register(
    Workflow(
        name="real_name_verification",
        model=RealNameVerification,
        states=VERIFICATION_STATUS_LABELS,
        colours={"mismatch": "secondary", "pending": "warning", "passed": "success", "failed": "danger"},
        title=lambda v: _(
            "公示人员人工核验：%(name)s（%(unit)s）", name=v.person_name, unit=v.organization.name
        ),
        notify=_notify_verification,
        deadline=lambda v: rules.review_deadline(v.submitted_at) if v.status == "pending" else None,
        transitions=(
            Transition(
                "apply",
                _l("申请人工核验"),
                ("mismatch",),
                "pending",
                UNIT,
                party=_own_unit,
                effect=_verification_applied,
                fields=(
                    Field(
                        "proof", _l("证明材料（身份证、手机号实名登记证明等）"), kind="file", required=False
                    ),
                ),
                bulk=False,
                todo=False,
            ),
            *staff_decision(
                _verification_passed,
                bulk=False,
                approved="passed",
                rejected="failed",
                labels=(_l("人工核验通过"), _l("人工核验不通过")),
            ),
        ),
    )
)


# ---- 执业公示注册 (registered → deregistered) --------------------------------------------------


def _deregister(registration, actor, data):
    registration.deregistered_on = data.get("on") or workdays.today()
    registration.deregistration_reason = (data.get("reason") or data.get("comment") or "")[:500] or None


PRACTITIONER_REGISTRATION = register(
    Workflow(
        name="practitioner_registration",
        model=PractitionerRegistration,
        states=REGISTRATION_STATUS_LABELS,
        colours={"registered": "success", "deregistered": "secondary"},
        title=lambda r: _("执业公示注册：%(name)s（%(number)s）", name=r.person_name, number=r.number),
        transitions=(
            # Only an approved 注销申请 ends a registration (the engine acting for the reviewer).
            Transition(
                "deregister",
                _l("注销"),
                ("registered",),
                "deregistered",
                SYSTEM,
                effect=_deregister,
                bulk=False,
                todo=False,
            ),
        ),
    )
)


# ---- 注册证书注销申请 (draft → submitted → approved / rejected) --------------------------------


def _check_people(request):
    org = request.organization
    for item in request.items:
        problem = registrations.deregistration_problems(item.registration, org, except_id=request.id)
        if problem:
            raise GuardFailed(problem)


def _dereg_submit_guard(request, actor, data):
    try:
        data["courier_number"] = registrations.clean_courier_number(data.get("courier_number"))
    except RegistryError as exc:
        raise GuardFailed(str(exc)) from None
    if not request.items:
        raise GuardFailed(_("注销申请中没有人员"))
    _check_people(request)


def _dereg_submit(request, actor, data):
    request.scan_upload = data["scan"]
    request.courier_number = data["courier_number"]
    request.submitted_at = utcnow()


def _dereg_approve_guard(request, actor, data):
    _check_people(request)


def _approve_deregistration(request, actor, data):
    request.decided_at = utcnow()
    request.reject_reason = None


def _deregister_each(request, actor, data):
    today = workdays.today()
    system = SystemActor(actor)
    return [
        Then(item.registration, "deregister", system, item.reason, {"reason": item.reason, "on": today})
        for item in request.items
    ]


def _notify_deregistration(request, t, actor, comment):
    if t.action == "submit":
        return []
    if t.action == "approve":
        title = _("您单位的注销申请（%(number)s）已审核通过，相关人员已注销", number=request.number)
    else:
        title = _("您单位的注销申请（%(number)s）被驳回：%(reason)s", number=request.number, reason=comment)
    return [(u, title, None) for u in _unit_admins(request.organization)]


PRACTITIONER_DEREGISTRATION = register(
    Workflow(
        name="practitioner_deregistration",
        model=PractitionerDeregistration,
        states=DEREGISTRATION_STATUS_LABELS,
        colours={"draft": "secondary", "submitted": "warning", "approved": "success", "rejected": "danger"},
        title=lambda r: _("注销审核：%(name)s（%(number)s）", name=r.organization.name, number=r.number),
        notify=_notify_deregistration,
        deadline=lambda r: rules.review_deadline(r.submitted_at),
        transitions=(
            Transition(
                "submit",
                _l("上传申请表"),
                ("draft",),
                "submitted",
                frozenset({"unit"}),
                party=_own_unit,
                guard=_dereg_submit_guard,
                effect=_dereg_submit,
                fields=(
                    Field("scan", _l("盖章申请表扫描件"), kind="file"),
                    Field("courier_number", _l("快递单号"), max_length=40),
                ),
                confirm=_l("提交后将进入协会审核，确定提交吗？"),
                bulk=False,
                todo=False,  # the unit's drafts sit in its grid as 待提交
            ),
            *staff_decision(
                _approve_deregistration,
                guard=_dereg_approve_guard,
                after=_deregister_each,
                confirm=_l("审核通过后所列人员将立即注销，且不可恢复，确定吗？"),
                bulk=False,
                source="submitted",
            ),
        ),
    )
)
