"""State tables of personnel qualification 人员资格认定 (seed 000): applications, and the
certificates they issue (valid → superseded by a renewal or change, valid → revoked by the
issuing authority). Creating an application is an operation (operations.py)."""

from __future__ import annotations

from datetime import date

from ecqs.documents import rules as document_rules
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import (
    CERTIFICATE_STATUS_LABELS,
    QUALIFICATION_STATUS_LABELS,
    Organization,
    QualificationApplication,
    QualificationCertificate,
    User,
)
from ecqs.qualifications import rules as qualifications
from ecqs.services import workdays
from ecqs.workflows import (
    SYSTEM,
    Field,
    GuardFailed,
    SystemActor,
    Then,
    Transition,
    Workflow,
    register,
)

_REVIEWER = frozenset({"reviewer"})


def _qualification_applicant(app: QualificationApplication, actor: User) -> bool:
    return actor.id == app.applicant_id


def _qualification_authority(app: QualificationApplication, actor: User) -> bool:
    # Only reviewers of the authority the application is addressed to.
    return qualifications.may_review(actor, app.authority_id)


def _authority_reviewers(org: Organization) -> list[User]:
    return [u for u in org.users if u.role == "reviewer" and u.active]


def _receive_qualification(app, actor, data):
    app.accepted_on = workdays.today()


APPROVE_FIELDS = (
    Field("number", _l("证书编号"), required=False, max_length=40, placeholder=_l("留空则自动生成")),
    Field("issued_on", _l("发证日期"), kind="date", required=False),
    # Not required here: the guard says why an approval needs it ("审核通过须填写…").
    Field("valid_until", _l("有效期至"), kind="date", required=False),
)


def _approve_qualification_guard(app, actor, data):
    today = workdays.today()
    issued_on = data.get("issued_on") or today
    valid_until = data.get("valid_until")
    if valid_until is None:
        raise GuardFailed(_("审核通过须填写证书有效期至"))
    if issued_on > today:
        raise GuardFailed(_("发证日期不能晚于今天"))
    if valid_until <= issued_on:
        raise GuardFailed(_("有效期至必须晚于发证日期"))
    number = data.get("number")
    if number:
        if any(ch.isspace() for ch in number):
            raise GuardFailed(_("证书编号不能超过 40 个字符，且不能包含空格"))
        if qualifications.certificate_number_taken(number):
            raise GuardFailed(_("证书编号“%(number)s”已存在，请更换", number=number))
    base = app.base_certificate
    # Eligibility (a current certificate) was checked on submission; expiry while the authority
    # decides is the applicant's right (a renewal is filed before expiry), but a certificate
    # revoked or superseded meanwhile no longer stands.
    if base is not None and base.status != "valid":
        raise GuardFailed(
            _(
                "原资格证书（编号 %(number)s）已%(state)s，不能换证或变更",
                number=base.number,
                state={"revoked": _("被撤销"), "superseded": _("换发")}[base.status],
            )
        )
    data.update(issued_on=issued_on, valid_until=valid_until, number=number or None)


def _issue_qualification_certificate(app, actor, data):
    """已审核: issue the certificate (valid: the column's default, the state table's start)."""
    number = data["number"] or qualifications.next_certificate_number(app.authority, data["issued_on"].year)
    certificate = QualificationCertificate(
        number=number,
        holder_id=app.applicant_id,
        holder_name=app.applicant_name,
        holder_id_number=app.applicant_id_number,
        project_id=app.project_id,
        personnel_type=app.personnel_type,
        project_code=app.project_code,
        project_name=app.project_name,
        level=app.project_level,
        issued_on=data["issued_on"],
        valid_until=data["valid_until"],
        authority_id=app.authority_id,
    )
    db.session.add(certificate)
    app.certificate = certificate
    app.decided_on = workdays.today()


def _supersede_base_certificate(app, actor, data):
    """A renewal or change replaces the certificate it was based on, through the certificate's
    own state table (so the change is audited after the approval)."""
    base = app.base_certificate
    if base is not None and base.status == "valid":
        return [Then(base, "supersede", SystemActor(actor), comment=app.certificate.number)]
    return []


def _resubmit_guard(app, actor, data):
    problems = document_rules.submission_problems(app)
    if problems:
        raise GuardFailed(_("不能提交：%(problems)s", problems="；".join(problems)))


def _resubmit(app, actor, data):
    app.resubmitted_on = workdays.today()


def _reject_qualification(app, actor, data):
    app.reject_reason = data["comment"]
    app.decided_on = workdays.today()


def _to_applicant(title_of):
    def notifications(app, actor, comment):
        title = title_of(app, comment)
        return [(app.applicant, title, title)]

    return notifications


def _notify_withdrawn(app, actor, comment):
    title = _("%(name)s撤回了资格认定申请（%(project)s）", name=app.applicant_name, project=app.project_label)
    return [(u, title, None) for u in _authority_reviewers(app.authority)]


_notify_correction = _to_applicant(
    lambda app, comment: _(
        "您的资格认定申请（%(project)s）需要补正：%(points)s",
        project=app.project_label,
        points="；".join((app.correction_points or "").splitlines()),
    )
)


def _notify_resubmitted(app, actor, comment):
    title = _(
        "%(name)s补正后重新提交了资格认定申请（%(project)s）",
        name=app.applicant_name,
        project=app.project_label,
    )
    return [(u, title, None) for u in _authority_reviewers(app.authority)]


_notify_received = _to_applicant(
    lambda app, comment: _("您的资格认定申请（%(project)s）材料已接收", project=app.project_label)
)
_notify_approved = _to_applicant(
    lambda app, comment: _(
        "您的资格认定申请（%(project)s）已审核通过，证书编号 %(number)s，有效期至 %(until)s",
        project=app.project_label,
        number=app.certificate.number,
        until=app.certificate.valid_until.isoformat(),
    )
)
_notify_rejected = _to_applicant(
    lambda app, comment: _(
        "您的资格认定申请（%(project)s）不予批准：%(reason)s", project=app.project_label, reason=comment
    )
)


def _qualification_deadline(app) -> date | None:
    # Administrative Licensing Law: accept or refuse within 5 working days (art. 32), decide
    # within 20 working days of acceptance (art. 42); art. 82 counts working days.
    if app.status == "pending" and app.applied_on:
        # A resubmission after 补正 starts the 5 days again; 待补正 stops the clock.
        return workdays.add_working_days(app.resubmitted_on or app.applied_on, 5)
    if app.status == "received" and app.accepted_on:
        return workdays.add_working_days(app.accepted_on, 20)
    return None


QUALIFICATION_APPLICATION = register(
    Workflow(
        name="qualification_application",
        model=QualificationApplication,
        states=QUALIFICATION_STATUS_LABELS,
        title=lambda app: _(
            "人员资格认定申请：%(name)s %(project)s", name=app.applicant_name, project=app.project_label
        ),
        deadline=_qualification_deadline,
        colours={
            "pending": "warning",
            "correction": "warning",
            "received": "info",
            "approved": "success",
            "rejected": "danger",
            "withdrawn": "secondary",
        },
        transitions=(
            Transition(
                "receive",
                _l("接收材料"),
                ("pending",),
                "received",
                _REVIEWER,
                party=_qualification_authority,
                effect=_receive_qualification,
                notify=_notify_received,
                confirm=_l("确定已接收申请材料吗？受理日期将记为今天。"),
                style="primary",
            ),
            Transition(
                "request_correction",
                _l("补正告知"),
                ("pending",),
                "correction",
                _REVIEWER,
                party=_qualification_authority,
                guard=document_rules.correction_guard,
                effect=document_rules.apply_correction,
                notify=_notify_correction,
                needs_comment=True,
                bulk=False,
                style="warning",
            ),
            Transition(
                "resubmit",
                _l("补正后重新提交"),
                ("correction",),
                "pending",
                frozenset({"person"}),
                party=_qualification_applicant,
                guard=_resubmit_guard,
                effect=_resubmit,
                notify=_notify_resubmitted,
                confirm=_l("确定提交补正后的申请吗？"),
                bulk=False,
            ),
            Transition(
                "approve",
                _l("审核通过"),
                ("received",),
                "approved",
                _REVIEWER,
                party=_qualification_authority,
                guard=_approve_qualification_guard,
                effect=_issue_qualification_certificate,
                fields=APPROVE_FIELDS,
                notify=_notify_approved,
                after=_supersede_base_certificate,
                confirm=_l("确定审核通过并颁发资格证书吗？"),
                bulk=False,
                style="success",
            ),
            Transition(
                "reject",
                _l("不予批准"),
                ("received",),
                "rejected",
                _REVIEWER,
                party=_qualification_authority,
                effect=_reject_qualification,
                notify=_notify_rejected,
                needs_comment=True,
                style="danger",
            ),
            Transition(
                "withdraw",
                _l("撤回"),
                ("pending", "correction"),
                "withdrawn",
                frozenset({"person"}),
                party=_qualification_applicant,
                notify=_notify_withdrawn,
                confirm=_l("确定撤回该申请吗？撤回后如需办理须重新申请。"),
                style="secondary",
                todo=False,  # an option of the applicant's, not a task
            ),
        ),
    )
)


# --------------------------------------------------------------------------------------------
# Certificates: superseded by the approval of a renewal or change (a follow-up of 审核通过),
# revoked by a reviewer of the issuing authority, with a reason.
# --------------------------------------------------------------------------------------------


def _certificate_authority(certificate: QualificationCertificate, actor: User) -> bool:
    return qualifications.may_review(actor, certificate.authority_id)


def _revoke_certificate(certificate, actor, data):
    certificate.revoked_on = workdays.today()


def _notify_revoked(certificate, actor, comment):
    title = _(
        "您的资格证书（编号 %(number)s，%(project)s）已被撤销：%(reason)s",
        number=certificate.number,
        project=certificate.project_label,
        reason=comment,
    )
    return [(certificate.holder, title, title)] if certificate.holder is not None else []


QUALIFICATION_CERTIFICATE = register(
    Workflow(
        name="qualification_certificate",
        model=QualificationCertificate,
        states=CERTIFICATE_STATUS_LABELS,
        title=lambda cert: _("资格证书 %(number)s（%(name)s）", number=cert.number, name=cert.holder_name),
        colours={"valid": "success", "superseded": "secondary", "revoked": "danger"},
        transitions=(
            Transition(
                "supersede",
                _l("换发"),
                ("valid",),
                "superseded",
                SYSTEM,
                bulk=False,
                todo=False,
            ),
            Transition(
                "revoke",
                _l("撤销证书"),
                ("valid",),
                "revoked",
                _REVIEWER,
                party=_certificate_authority,
                effect=_revoke_certificate,
                needs_comment=True,
                confirm=_l("撤销后该证书不再有效，确定撤销吗？"),
                bulk=False,
                todo=False,
                style="danger",
                notify=_notify_revoked,
            ),
        ),
    )
)
