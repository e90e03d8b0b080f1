"""Demo data of M3: demo_person's RT-II application (取证), addressed through the normal routing to
陕西省市场监督管理局 and left 待受理 for sn_reviewer; and demo_person's MT-II certificate, granted
by sn_reviewer through the engine years ago and expiring within 90 days, so demo_person's first
login finds a renewal (换证) due. Idempotent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ecqs import workflows
from ecqs.documents import rules as document_rules
from ecqs.documents import samples as document_samples
from ecqs.extensions import db
from ecqs.models import PersonnelProject, QualificationApplication, User
from ecqs.qualifications import operations as qualification_operations
from ecqs.services import workdays

DEMO_PERSON = "demo_person"
DEMO_PROJECT_CODE = "RT-II"  # provincial approval (TSG Z8001-2019 第四条)
EXPIRING_PROJECT_CODE = "MT-II"  # provincial as well
EXPIRES_IN_DAYS = 60  # within the 90 days in which 待办事项 lists a certificate


def _documents(project: PersonnelProject) -> dict:
    """Sample files for the documents an initial application of `project` requires."""
    needed = document_rules.requirements("qualification", project.personnel_type, "initial")
    return document_samples.sample_documents(needed)


def qualification_applications() -> int:
    person = db.session.execute(select(User).where(User.username == DEMO_PERSON)).scalar()
    project = db.session.execute(
        select(PersonnelProject).where(PersonnelProject.code == DEMO_PROJECT_CODE)
    ).scalar()
    if person is None or project is None:
        return 0
    exists = db.session.execute(
        select(QualificationApplication.id).where(
            QualificationApplication.applicant_id == person.id,
            QualificationApplication.project_id == project.id,
        )
    ).first()
    created = 0
    if not exists:
        qualification_operations.submit_qualification_application(
            person,
            project,
            "initial",
            work_unit="陕西省特种设备检验检测研究院",
            documents=_documents(project),
        )
        created += 1
    return created + _expiring_certificate(person)


def _expiring_certificate(person: User) -> int:
    """demo_person's MT-II application, received and approved by sn_reviewer with a certificate
    that was issued nearly four years ago and runs out in EXPIRES_IN_DAYS days."""
    project = db.session.execute(
        select(PersonnelProject).where(PersonnelProject.code == EXPIRING_PROJECT_CODE)
    ).scalar()
    reviewer = db.session.execute(select(User).where(User.username == "sn_reviewer")).scalar()
    if project is None or reviewer is None:
        return 0
    exists = db.session.execute(
        select(QualificationApplication.id).where(
            QualificationApplication.applicant_id == person.id,
            QualificationApplication.project_id == project.id,
        )
    ).first()
    if exists:
        return 0
    application = qualification_operations.submit_qualification_application(
        person, project, "initial", work_unit="陕西省特种设备检验检测研究院", documents=_documents(project)
    )
    workflows.transition(application, "receive", reviewer, comment="演示数据")
    valid_until = workdays.today() + timedelta(days=EXPIRES_IN_DAYS)
    workflows.transition(
        application,
        "approve",
        reviewer,
        comment="演示数据",
        number="",
        issued_on=valid_until - timedelta(days=4 * 365),
        valid_until=valid_until,
    )
    return 1
