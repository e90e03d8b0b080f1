"""State tables of the registry: unit change requests 单位信息变更 and qualification requests
单位资质管理 (the unit registration review is accounts' organisation_review, with the three
working days of seed 004 for units)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ecqs.extensions import db
from ecqs.models import (
    CHANGE_KIND_LABELS,
    QUESTION_STATUS_LABELS,
    REGISTRY_STATUS_LABELS,
    UNIT_QUALIFICATION_TYPES,
    OrganizationQualification,
    UnitAccountAppeal,
    UnitChangeRequest,
    UnitQualificationRequest,
    UnitQuestion,
    User,
    utcnow,
)
from ecqs.registry import changes, rules
from ecqs.services import audit, sms, user_sessions
from ecqs.workflows import GuardFailed, Transition, Workflow, register

STAFF = frozenset({"association", "admin"})
COLOURS = {"pending": "warning", "approved": "success", "rejected": "danger"}


def _unit_admins(org):
    return [u for u in org.users if u.is_org_admin and u.active]


def _reject(obj, actor, data):
    obj.decided_at = utcnow()
    obj.reject_reason = data["comment"]


def _review(approve, guard=None, confirm=None, bulk=True):
    """The staff review every registry request goes through: 审核通过 (with its effect) or 驳回."""
    return (
        Transition(
            "approve",
            _l("审核通过"),
            ("pending",),
            "approved",
            STAFF,
            guard=guard,
            effect=approve,
            confirm=confirm,
            bulk=bulk,
            style="success",
        ),
        Transition(
            "reject",
            _l("驳回"),
            ("pending",),
            "rejected",
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
        transitions=_review(
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
        transitions=_review(_approve_qualification),
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
        transitions=_review(
            _approve_appeal,
            guard=_appeal_guard,
            confirm=_l("审核通过后新联系人将成为本单位的授权联系人，确定吗？"),
            bulk=False,
        ),
    )
)
