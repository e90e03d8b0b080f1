"""Operations of personnel qualification 人员资格认定: creating an application that enters the
workflow. The checks are functions of their own so that the application page asks the same
questions (one definition) before it offers the submit button."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ecqs.documents import operations as document_operations
from ecqs.documents import rules as document_rules
from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.models import (
    CERTIFICATE_BASED_CATEGORIES,
    OPEN_QUALIFICATION_STATES,
    QUALIFICATION_CATEGORY_LABELS,
    QUALIFICATION_STATUS_LABELS,
    Division,
    Organization,
    PersonnelProject,
    QualificationApplication,
    User,
)
from ecqs.qualifications import rules as qualifications
from ecqs.services import audit, notify, workdays
from ecqs.workflows import GuardFailed, NotPermitted


def check_project(project: PersonnelProject | None) -> PersonnelProject:
    """The project may be applied for: it exists, is active and its approval level is known."""
    if project is None or not project.active:
        raise GuardFailed(_("所选项目不存在或已停用，请重新选择"))
    if not project.approval_level:
        raise GuardFailed(_("该项目的审批层级尚未确定，暂不能申请，请联系系统管理员"))
    return project


def check_province(project: PersonnelProject, province_code: str | None) -> Division | None:
    """The chosen province (a level-1 division), required for a provincially approved project."""
    province = None
    if province_code:
        province = db.session.get(Division, province_code)
        if province is None or province.level != 1:
            raise GuardFailed(_("所选省份不正确，请重新选择"))
    if project.approval_level == "provincial" and province is None:
        raise GuardFailed(_("省级审批的项目须选择所在省份"))
    return province


def check_authority(project: PersonnelProject, province_code: str | None) -> Organization:
    """The authority the application is addressed to, or a refusal naming what is missing."""
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
    return authority


def _authority_reviewers(org: Organization) -> list[User]:
    return [u for u in org.users if u.role == "reviewer" and u.active]


def submit_qualification_application(
    person: User,
    project: PersonnelProject | None,
    category: str,
    province_code: str | None = None,
    work_unit: str | None = None,
    remarks: str | None = None,
    documents: dict | None = None,
) -> QualificationApplication:
    """Start a personnel qualification application in 待受理, addressed to the authority of the
    project's approval level (SAMR, or the bureau of the person's province).

    `documents` maps DocumentRequirement ids to the files of that document (uploads.store()
    metadata kept by the documents step, or uploaded files); every required document of the
    project's personnel type and the category must be there (documents.rules).

    Refusals raise a WorkflowError with a Chinese message and add nothing. Flushes, does not
    commit; the reviewers of the authority get an in-app notice."""
    if person is None or person.role != "person":
        raise NotPermitted(_("只有个人用户可以提交资格认定申请"))
    if not person.real_name or not person.id_number:
        raise GuardFailed(_("请先在个人信息中完善姓名和身份证号后再申请"))
    check_project(project)
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
    check_province(project, province_code)
    authority = check_authority(project, province_code)

    open_one = db.session.execute(
        db.select(QualificationApplication).where(
            QualificationApplication.applicant_id == person.id,
            QualificationApplication.project_id == project.id,
            QualificationApplication.status.in_(OPEN_QUALIFICATION_STATES),
        )
    ).scalar()
    if open_one is not None:
        raise GuardFailed(
            _(
                "您已有该项目正在办理的申请（%(state)s），不能重复提交",
                state=QUALIFICATION_STATUS_LABELS[open_one.status],
            )
        )
    documents = {int(k): v for k, v in (documents or {}).items() if v}
    absent = document_rules.missing(
        document_rules.requirements("qualification", project.personnel_type, category), documents
    )
    if absent:
        raise GuardFailed(document_rules.missing_message(absent))
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
    try:
        for requirement_id, files in documents.items():
            document_operations.attach(application, requirement_id, files, person, creating=True)
    except document_operations.DocumentError as exc:
        raise GuardFailed(str(exc)) from None
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
