"""State table of production licence applications 生产单位许可 (seed 001)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from ecqs.documents import rules as document_rules
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.licences import clock as licence_clock
from ecqs.licences import operations as licence_applications
from ecqs.licences import rules
from ecqs.models import (
    LICENCE_CONCLUSION_LABELS,
    LICENCE_STATUS_LABELS,
    LicenceApplication,
    Organization,
    Upload,
    User,
    utcnow,
)
from ecqs.services import workdays
from ecqs.workflows import (
    Field,
    GuardFailed,
    Transition,
    Workflow,
    register,
)

LICENCE_MAX_REVIEW_DAYS = 30  # a proposed review may last at most this many calendar days


def _licence_applicant(app, actor) -> bool:
    return app.is_applicant(actor)


def _licence_reviewer(app, actor) -> bool:
    return rules.may_review(actor, app)


def _licence_assessor(app, actor) -> bool:
    return app.is_engaged_assessor(actor)


def _licence_may_confirm(app, actor) -> bool:
    # The side that did not make the pending proposal confirms it. Outside the negotiation the
    # parties stay parties, so that a late second click hears "already handled" instead.
    if app.status != "engaged":
        return app.is_applicant(actor) or app.is_engaged_assessor(actor)
    if app.proposed_by == "assessor":
        return app.is_applicant(actor)
    if app.proposed_by == "enterprise":
        return app.is_engaged_assessor(actor)
    return False


def _licence_may_counter(app, actor) -> bool:
    return app.is_applicant(actor) and (app.status != "engaged" or app.proposed_by == "assessor")


def _licence_submit_guard(app, actor, data):
    problems = licence_applications.submission_problems(app)
    if problems:
        raise GuardFailed(_("不能提交：%(problems)s", problems="；".join(problems)))


def _licence_submit(app, actor, data):
    now = utcnow()
    app.authority = licence_applications.route_authority(app.organization, app.items)
    app.submitted_at = app.submitted_at or now
    app.received_at = now


def _licence_withdraw(app, actor, data):
    app.withdrawn_at = utcnow()


def _licence_decide_with_reason(app, actor, data):
    app.decision_reason = data["comment"]
    app.decided_at = utcnow()


def _assessor_choices(app, actor) -> list[tuple[int, str]]:
    return [(org.id, org.name) for org in rules.engageable_assessors()]


ACCEPT_FIELDS = (
    Field("assessor_org_id", _l("受委托的鉴定评审机构"), kind="choice", choices=_assessor_choices),
    Field(
        "contact_name",
        _l("评审机构联系人"),
        required=False,
        max_length=50,
        placeholder=_l("不填则取机构登记的联系人"),
    ),
    Field(
        "contact_phone",
        _l("联系电话"),
        required=False,
        max_length=30,
        placeholder=_l("不填则取机构登记的电话"),
    ),
)


def _licence_accept_guard(app, actor, data):
    org = db.session.get(Organization, int(data["assessor_org_id"]))
    if not rules.may_be_engaged(org):
        raise GuardFailed(_("请选择受委托的鉴定评审机构"))
    registered_name, registered_phone = rules.registered_contact(org)
    name = data.get("contact_name") or registered_name
    phone = data.get("contact_phone") or registered_phone
    if not name or not phone:
        raise GuardFailed(_("请填写鉴定评审机构的联系人和联系电话"))
    if len(name) > 50 or len(phone) > 30:
        raise GuardFailed(_("联系人不超过 50 个字，联系电话不超过 30 个字"))
    data["_assessor"], data["_contact_name"], data["_contact_phone"] = org, name, phone


def _licence_accept(app, actor, data):
    app.accepted_at = utcnow()
    app.acceptance_token = secrets.token_urlsafe(32)
    app.assessor_org = data["_assessor"]
    app.assessor_contact_name = data["_contact_name"]
    app.assessor_contact_phone = data["_contact_phone"]
    licence_clock.start(app, workdays.today())


def _licence_engage(app, actor, data):
    app.engaged_at = utcnow()
    licence_clock.pause(app, workdays.today())


DATE_FIELDS = (
    Field("start", _l("评审开始日期"), kind="date"),
    Field("end", _l("评审结束日期"), kind="date", required=False),  # one day by default
)


def _licence_dates_guard(app, actor, data):
    start = data["start"]
    end = data.get("end") or start
    if start < workdays.today():
        raise GuardFailed(_("评审开始日期 %(day)s 已经过去，请选择今天或以后的日期", day=start.isoformat()))
    if end < start:
        raise GuardFailed(_("评审结束日期不能早于开始日期"))
    if end - start > timedelta(days=LICENCE_MAX_REVIEW_DAYS):
        raise GuardFailed(_("一次评审最长 %(n)d 天", n=LICENCE_MAX_REVIEW_DAYS))
    if app.proposed_start == start and app.proposed_end == end and app.proposed_by == _licence_side(actor):
        raise GuardFailed(_("您已提出过相同的评审时间，请等待对方确认"))
    data["_start"], data["_end"] = start, end


def _licence_side(actor) -> str:
    return "assessor" if actor.role == "assessor" else "enterprise"


def _licence_propose(app, actor, data):
    app.proposed_start, app.proposed_end = data["_start"], data["_end"]
    app.proposed_by = _licence_side(actor)


def _licence_confirm_guard(app, actor, data):
    if app.proposed_start is None:
        raise GuardFailed(_("尚无待确认的评审时间"))
    if app.proposed_start < workdays.today():
        raise GuardFailed(_("所提评审开始日期已经过去，请重新协商评审时间"))


def _licence_confirm(app, actor, data):
    app.review_start, app.review_end = app.proposed_start, app.proposed_end
    app.proposed_by = None


REPORT_FIELDS = (
    # The conclusion first: a refused conclusion never stores the uploaded file.
    Field(
        "conclusion",
        _l("评审结论"),
        kind="choice",
        choices=lambda app, actor: LICENCE_CONCLUSION_LABELS.items(),
    ),
    Field("report", _l("评审报告"), kind="file"),
)


def _licence_report_guard(app, actor, data):
    refusal = rules.report_refusal(app, workdays.today())
    if refusal:
        raise GuardFailed(refusal)
    if not isinstance(data["report"], Upload):
        raise GuardFailed(_("请上传评审报告"))


def _licence_report(app, actor, data):
    app.report_upload = data["report"]
    app.conclusion = data["conclusion"]
    app.report_comment = data.get("comment")
    app.reviewed_at = utcnow()
    licence_clock.resume(app, workdays.today())


GRANT_FIELDS = (
    Field("licence_number", _l("许可证编号"), max_length=40, placeholder=_l("如 TS2261001-2030")),
    Field("valid_from", _l("发证日期"), kind="date", required=False),  # today by default
    Field("valid_until", _l("有效期至"), kind="date"),
)


def _licence_grant_guard(app, actor, data):
    if app.conclusion != "pass":
        raise GuardFailed(_("评审结论为“不符合许可条件”，不能准予许可"))
    number = rules.normalise_licence_number(data["licence_number"])
    problem = rules.licence_number_problem(number)
    if problem:
        raise GuardFailed(problem)
    if rules.licence_number_taken(number, app.id):
        raise GuardFailed(_("许可证编号“%(number)s”已被使用，请核对后重新填写", number=number))
    valid_from = data.get("valid_from") or workdays.today()
    valid_until = data["valid_until"]
    if valid_until <= valid_from or valid_until <= workdays.today():
        raise GuardFailed(_("有效期至必须晚于发证日期和今天"))
    data["_number"], data["_from"], data["_until"] = number, valid_from, valid_until


def _licence_grant(app, actor, data):
    app.licence_number = data["_number"]
    app.licence_valid_from = data["_from"]
    app.licence_valid_until = data["_until"]
    app.certificate_token = secrets.token_urlsafe(32)
    app.decided_at = utcnow()
    app.clock_started_on = None


def _licence_enterprise_users(app) -> list[User]:
    users = [u for u in app.organization.users if u.active and u.is_org_admin]
    if app.created_by is not None and app.created_by.active and app.created_by not in users:
        users.append(app.created_by)
    return users


def _licence_org_users(org) -> list[User]:
    return [u for u in org.users if u.active] if org is not None else []


def _licence_authority_users(app, actor) -> list[User]:
    return _licence_org_users(app.authority)


def _licence_assessor_users(app, actor) -> list[User]:
    return _licence_org_users(app.assessor_org)


def _licence_applicant_users(app, actor) -> list[User]:
    return _licence_enterprise_users(app)


def _tell(recipients, title, sms: bool = False):
    """A transition's notifications: `title(app, comment)` to `recipients(app, actor)` (and by SMS)."""

    def notifications(app, actor, comment):
        text = title(app, comment)
        return [(u, text, text if sms else None) for u in recipients(app, actor)]

    return notifications


def _decision(title):
    """A decision the applicant hears of in the inbox and by SMS."""
    return _tell(_licence_applicant_users, title, sms=True)


_notify_submitted = _tell(
    _licence_authority_users, lambda app, c: _("新的生产许可申请 %(number)s 待受理", number=app.number)
)
_notify_correction = _decision(
    lambda app, c: _("您的许可申请 %(number)s 需要补正，请查看补正告知书", number=app.number)
)
_notify_rejected = _decision(
    lambda app, c: _("您的许可申请 %(number)s 不予受理：%(reason)s", number=app.number, reason=c)
)
_notify_accepted = _decision(
    lambda app, c: _(
        "您的许可申请 %(number)s 已受理（初审通过），请查看受理决定书并约请鉴定评审机构", number=app.number
    )
)
_notify_granted = _decision(
    lambda app, c: _(
        "您的许可申请 %(number)s 准予许可，许可证编号 %(licence)s",
        number=app.number,
        licence=app.licence_number,
    )
)
_notify_refused = _decision(
    lambda app, c: _("您的许可申请 %(number)s 不予许可：%(reason)s", number=app.number, reason=c)
)
_notify_engaged = _tell(
    _licence_assessor_users,
    lambda app, c: _("许可申请 %(number)s 已约请贵机构进行鉴定评审，请提出评审时间", number=app.number),
)
_notify_proposed = _tell(
    _licence_applicant_users,
    lambda app, c: _("鉴定评审机构提出了评审时间，请确认或另提时间（%(number)s）", number=app.number),
)
_notify_counter_proposed = _tell(
    _licence_assessor_users,
    lambda app, c: _("申请单位另提了评审时间，请确认（%(number)s）", number=app.number),
)
_notify_confirmed = _tell(
    lambda app, actor: [
        u for u in _licence_enterprise_users(app) + _licence_org_users(app.assessor_org) if u.id != actor.id
    ],
    lambda app, c: _(
        "许可申请 %(number)s 的评审时间已确认：%(start)s 至 %(end)s",
        number=app.number,
        start=app.review_start.isoformat(),
        end=app.review_end.isoformat(),
    ),
)


def _notify_reported(app, actor, comment):
    title = _("许可申请 %(number)s 评审完成，请填写评审反馈表", number=app.number)
    staff = _("许可申请 %(number)s 评审完成，待作出许可决定", number=app.number)
    return [(u, title, None) for u in _licence_enterprise_users(app)] + [
        (u, staff, None) for u in _licence_org_users(app.authority)
    ]


def _notify_withdrawn(app, actor, comment):
    if app.submitted_at is None:  # a draft nobody else has seen
        return []
    title = _("许可申请 %(number)s 已被申请单位撤回", number=app.number)
    return [(u, title, None) for u in _licence_org_users(app.authority)]


_APPLICANT = frozenset({"enterprise"})
_REVIEWER = frozenset({"reviewer"})
_ASSESSOR = frozenset({"assessor"})

LICENCE_APPLICATION = register(
    Workflow(
        name="licence_application",
        model=LicenceApplication,
        states=LICENCE_STATUS_LABELS,
        title=lambda app: _(
            "生产许可申请 %(number)s（%(org)s）", number=app.number, org=app.organization.name
        ),
        deadline=licence_clock.deadline,
        colours={
            "draft": "secondary",
            "submitted": "primary",
            "correction": "warning",
            "accepted": "info",
            "engaged": "info",
            "scheduled": "info",
            "reviewed": "primary",
            "granted": "success",
            "refused": "danger",
            "rejected": "danger",
            "withdrawn": "dark",
        },
        transitions=(
            Transition(
                "submit",
                _l("提交申请"),
                ("draft",),
                "submitted",
                _APPLICANT,
                party=_licence_applicant,
                guard=_licence_submit_guard,
                effect=_licence_submit,
                confirm=_l("提交后不能再修改，确定提交吗？"),
                bulk=False,
                notify=_notify_submitted,
            ),
            Transition(
                "resubmit",
                _l("补正后重新提交"),
                ("correction",),
                "submitted",
                _APPLICANT,
                party=_licence_applicant,
                guard=_licence_submit_guard,
                effect=_licence_submit,
                bulk=False,
                notify=_notify_submitted,
            ),
            Transition(
                "withdraw",
                _l("撤回"),
                ("draft", "submitted", "correction"),
                "withdrawn",
                _APPLICANT,
                party=_licence_applicant,
                effect=_licence_withdraw,
                confirm=_l("撤回后本申请结束，确定撤回吗？"),
                bulk=False,
                style="danger",
                notify=_notify_withdrawn,
                todo=False,  # an option of the applicant's, not a task
            ),
            Transition(
                "request_correction",
                _l("补正告知"),
                ("submitted",),
                "correction",
                _REVIEWER,
                party=_licence_reviewer,
                guard=document_rules.correction_guard,
                effect=document_rules.apply_correction,
                needs_comment=True,
                bulk=False,
                style="warning",
                notify=_notify_correction,
            ),
            Transition(
                "reject",
                _l("不予受理"),
                ("submitted",),
                "rejected",
                _REVIEWER,
                party=_licence_reviewer,
                effect=_licence_decide_with_reason,
                needs_comment=True,
                bulk=False,
                style="danger",
                notify=_notify_rejected,
            ),
            Transition(
                "accept",
                _l("初审通过（受理）"),
                ("submitted",),
                "accepted",
                _REVIEWER,
                party=_licence_reviewer,
                guard=_licence_accept_guard,
                effect=_licence_accept,
                bulk=False,
                style="success",
                fields=ACCEPT_FIELDS,
                notify=_notify_accepted,
            ),
            Transition(
                "engage",
                _l("约请鉴定评审机构"),
                ("accepted",),
                "engaged",
                _APPLICANT,
                party=_licence_applicant,
                effect=_licence_engage,
                bulk=False,
                notify=_notify_engaged,
            ),
            Transition(
                "propose_dates",
                _l("提出评审时间"),
                ("engaged",),
                "engaged",
                _ASSESSOR,
                party=_licence_assessor,
                guard=_licence_dates_guard,
                effect=_licence_propose,
                bulk=False,
                fields=DATE_FIELDS,
                notify=_notify_proposed,
            ),
            Transition(
                "counter_propose",
                _l("另提评审时间"),
                ("engaged",),
                "engaged",
                _APPLICANT,
                party=_licence_may_counter,
                guard=_licence_dates_guard,
                effect=_licence_propose,
                bulk=False,
                style="secondary",
                fields=DATE_FIELDS,
                notify=_notify_counter_proposed,
            ),
            Transition(
                "confirm_dates",
                _l("确认评审时间"),
                ("engaged",),
                "scheduled",
                frozenset({"enterprise", "assessor"}),
                party=_licence_may_confirm,
                guard=_licence_confirm_guard,
                effect=_licence_confirm,
                bulk=False,
                style="success",
                notify=_notify_confirmed,
            ),
            Transition(
                "submit_report",
                _l("提交评审报告"),
                ("scheduled",),
                "reviewed",
                _ASSESSOR,
                party=_licence_assessor,
                guard=_licence_report_guard,
                effect=_licence_report,
                bulk=False,
                fields=REPORT_FIELDS,
                notify=_notify_reported,
            ),
            Transition(
                "grant",
                _l("准予许可"),
                ("reviewed",),
                "granted",
                _REVIEWER,
                party=_licence_reviewer,
                guard=_licence_grant_guard,
                effect=_licence_grant,
                bulk=False,
                style="success",
                fields=GRANT_FIELDS,
                notify=_notify_granted,
            ),
            Transition(
                "refuse",
                _l("不予许可"),
                ("reviewed",),
                "refused",
                _REVIEWER,
                party=_licence_reviewer,
                effect=_licence_decide_with_reason,
                needs_comment=True,
                bulk=False,
                style="danger",
                notify=_notify_refused,
            ),
        ),
    )
)
