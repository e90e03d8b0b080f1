"""State table of personnel qualification applications 人员资格认定 (seed 000)."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ecqs.extensions import db
from ecqs.models import (
    CERTIFICATE_BASED_CATEGORIES,
    QUALIFICATION_CATEGORY_LABELS,
    QUALIFICATION_STATUS_LABELS,
    Division,
    Organization,
    PersonnelProject,
    QualificationApplication,
    QualificationCertificate,
    User,
)
from ecqs.qualifications import rules as qualifications
from ecqs.services import audit, notify, workdays
from ecqs.workflows import (
    GuardFailed,
    NotPermitted,
    Transition,
    Workflow,
    register,
)


def _qualification_applicant(app: QualificationApplication, actor: User) -> bool:
    return actor.id == app.applicant_id


def _qualification_authority(app: QualificationApplication, actor: User) -> bool:
    # Only reviewers of the authority the application is addressed to.
    return actor.organization_id is not None and actor.organization_id == app.authority_id


def _authority_reviewers(org: Organization) -> list[User]:
    return [u for u in org.users if u.role == "reviewer" and u.active]


def submit_qualification_application(
    person: User,
    project: PersonnelProject | None,
    category: str,
    province_code: str | None = None,
    work_unit: str | None = None,
    remarks: str | None = None,
) -> QualificationApplication:
    """Start a personnel qualification application in 待受理, addressed to the authority of the
    project's approval level (SAMR, or the bureau of the person's province).

    Refusals raise a WorkflowError with a Chinese message and add nothing. Flushes, does not
    commit; the reviewers of the authority get an in-app notice."""
    if person is None or person.role != "person":
        raise NotPermitted(_("只有个人用户可以提交资格认定申请"))
    if not person.real_name or not person.id_number:
        raise GuardFailed(_("请先在个人信息中完善姓名和身份证号后再申请"))
    if project is None or not project.active:
        raise GuardFailed(_("所选项目不存在或已停用，请重新选择"))
    if not project.approval_level:
        raise GuardFailed(_("该项目的审批层级尚未确定，暂不能申请，请联系系统管理员"))
    if category not in QUALIFICATION_CATEGORY_LABELS:
        raise GuardFailed(_("请选择申请类别"))
    work_unit = (work_unit or "").strip() or None
    remarks = (remarks or "").strip() or None
    if work_unit and len(work_unit) > 120:
        raise GuardFailed(_("工作单位不能超过 120 个字"))
    if remarks and len(remarks) > 500:
        raise GuardFailed(_("申请说明不能超过 500 个字"))
    if category == "change" and not remarks:
        raise GuardFailed(_("“变更”申请须在申请说明中写明变更事项"))

    province_code = province_code or qualifications.province_from_id_number(person.id_number)
    if province_code:
        province = db.session.get(Division, province_code)
        if province is None or province.level != 1:
            raise GuardFailed(_("所选省份不正确，请重新选择"))
    if project.approval_level == "provincial" and not province_code:
        raise GuardFailed(_("省级审批的项目须选择所在省份"))
    authority = qualifications.find_authority(project.approval_level, province_code)
    if authority is None:
        if project.approval_level == "national":
            raise GuardFailed(_("未找到国家级审批机关，请联系系统管理员"))
        raise GuardFailed(
            _(
                "未找到 %(province)s 的审批机关，暂不能提交，请联系系统管理员",
                province=db.session.get(Division, province_code).name,
            )
        )

    open_one = db.session.execute(
        db.select(QualificationApplication).where(
            QualificationApplication.applicant_id == person.id,
            QualificationApplication.project_id == project.id,
            QualificationApplication.status.in_(("pending", "received")),
        )
    ).scalar()
    if open_one is not None:
        raise GuardFailed(
            _(
                "您已有该项目正在办理的申请（%(state)s），不能重复提交",
                state=QUALIFICATION_STATUS_LABELS[open_one.status],
            )
        )
    today = workdays.today()
    held = qualifications.current_certificate(person, project.id, today)
    category_label = QUALIFICATION_CATEGORY_LABELS[category]
    if category in CERTIFICATE_BASED_CATEGORIES and held is None:
        raise GuardFailed(
            _(
                "申请“%(category)s”须持有该项目（%(project)s）的有效资格证书，未找到您的有效证书；"
                "首次申请请选择“取证”",
                category=category_label,
                project=str(project),
            )
        )
    if category == "initial" and held is not None:
        raise GuardFailed(
            _(
                "您已持有该项目的有效资格证书（编号 %(number)s），请选择考试换证、审核换证或变更",
                number=held.number,
            )
        )

    application = QualificationApplication(
        applicant_id=person.id,
        applicant_name=person.real_name,
        applicant_id_number=person.id_number,
        work_unit=work_unit,
        province_code=province_code,
        project_id=project.id,
        personnel_type=project.personnel_type,
        project_code=project.code,
        project_name=project.name,
        project_level=project.level,
        approval_level=project.approval_level,
        application_year=today.year,
        category=category,
        authority_id=authority.id,
        base_certificate_id=held.id if category in CERTIFICATE_BASED_CATEGORIES else None,
        remarks=remarks,
        applied_on=today,
    )
    try:
        # The partial unique index refuses a second open application (double click, two tabs).
        with db.session.begin_nested():
            db.session.add(application)
    except IntegrityError:
        raise GuardFailed(_("您已有该项目正在办理的申请，不能重复提交")) from None
    audit.record(
        "record_created",
        user=person,
        obj=application,
        comment=_(
            "提交资格认定申请：%(category)s，%(project)s，提交机构：%(authority)s",
            category=category_label,
            project=application.project_label,
            authority=authority.name,
        ),
    )
    title = _(
        "%(name)s提交了资格认定申请（%(project)s，%(category)s）",
        name=person.real_name,
        project=application.project_label,
        category=category_label,
    )
    for reviewer in _authority_reviewers(authority):
        notify.notify_user(reviewer, title)
    return application


def _parse_date(value, label) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise GuardFailed(_("%(label)s格式不正确，应为 YYYY-MM-DD", label=label)) from None


def _receive_qualification(app, actor, data):
    app.accepted_on = workdays.today()


def _approve_qualification_guard(app, actor, data):
    today = workdays.today()
    issued_on = _parse_date(data.get("issued_on"), _("发证日期")) or today
    valid_until = _parse_date(data.get("valid_until"), _("有效期至"))
    if valid_until is None:
        raise GuardFailed(_("审核通过须填写证书有效期至"))
    if issued_on > today:
        raise GuardFailed(_("发证日期不能晚于今天"))
    if valid_until <= issued_on:
        raise GuardFailed(_("有效期至必须晚于发证日期"))
    number = (data.get("number") or "").strip()
    if number:
        if len(number) > 40 or any(ch.isspace() for ch in number):
            raise GuardFailed(_("证书编号不能超过 40 个字符，且不能包含空格"))
        if qualifications.certificate_number_taken(number):
            raise GuardFailed(_("证书编号“%(number)s”已存在，请更换", number=number))
    base = app.base_certificate
    if base is not None and base.status == "revoked":
        raise GuardFailed(_("原资格证书（编号 %(number)s）已被撤销，不能换证或变更", number=base.number))
    data.update(issued_on=issued_on, valid_until=valid_until, number=number or None)


def _issue_qualification_certificate(app, actor, data):
    """已审核: issue the certificate; a renewal or change replaces the certificate it was based on."""
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
        status="valid",
    )
    db.session.add(certificate)
    app.certificate = certificate
    base = app.base_certificate
    if base is not None and base.status == "valid":
        base.status = "superseded"
    app.decided_on = workdays.today()


def _reject_qualification(app, actor, data):
    app.reject_reason = data["comment"]
    app.decided_on = workdays.today()


def _notify_qualification(app, t, actor, comment):
    project = app.project_label
    if t.action == "receive":
        title = _("您的资格认定申请（%(project)s）材料已接收", project=project)
    elif t.action == "approve":
        cert = app.certificate
        title = _(
            "您的资格认定申请（%(project)s）已审核通过，证书编号 %(number)s，有效期至 %(until)s",
            project=project,
            number=cert.number,
            until=cert.valid_until.isoformat(),
        )
    elif t.action == "reject":
        title = _("您的资格认定申请（%(project)s）不予批准：%(reason)s", project=project, reason=comment)
    elif t.action == "withdraw":
        title = _("%(name)s撤回了资格认定申请（%(project)s）", name=app.applicant_name, project=project)
        return [(u, title, None) for u in _authority_reviewers(app.authority)]
    else:
        return []
    return [(app.applicant, title, title)]


def _qualification_deadline(app) -> date | None:
    # Administrative Licensing Law: accept or refuse within 5 working days (art. 32), decide
    # within 20 working days of acceptance (art. 42); art. 82 counts working days.
    if app.status == "pending" and app.applied_on:
        return workdays.add_working_days(app.applied_on, 5)
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
        notify=_notify_qualification,
        deadline=_qualification_deadline,
        transitions=(
            Transition(
                "receive",
                _l("接收材料"),
                ("pending",),
                "received",
                frozenset({"reviewer"}),
                party=_qualification_authority,
                effect=_receive_qualification,
                confirm=_l("确定已接收申请材料吗？受理日期将记为今天。"),
                style="primary",
            ),
            Transition(
                "approve",
                _l("审核通过"),
                ("received",),
                "approved",
                frozenset({"reviewer"}),
                party=_qualification_authority,
                guard=_approve_qualification_guard,
                effect=_issue_qualification_certificate,
                confirm=_l("确定审核通过并颁发资格证书吗？"),
                bulk=False,
                style="success",
            ),
            Transition(
                "reject",
                _l("不予批准"),
                ("received",),
                "rejected",
                frozenset({"reviewer"}),
                party=_qualification_authority,
                effect=_reject_qualification,
                needs_comment=True,
                style="danger",
            ),
            Transition(
                "withdraw",
                _l("撤回"),
                ("pending",),
                "withdrawn",
                frozenset({"person"}),
                party=_qualification_applicant,
                confirm=_l("确定撤回该申请吗？撤回后如需办理须重新申请。"),
                style="secondary",
                todo=False,  # an option of the applicant's, not a task
            ),
        ),
    )
)
