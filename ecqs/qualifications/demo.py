"""Demo data of M3: demo_person's RT-II application (取证), addressed through the normal routing to
陕西省市场监督管理局 and left 待受理 for sn_reviewer. Idempotent."""

from __future__ import annotations

from sqlalchemy import select

from ecqs.documents import rules as document_rules
from ecqs.documents import samples as document_samples
from ecqs.extensions import db
from ecqs.models import PersonnelProject, QualificationApplication, User
from ecqs.qualifications import operations as qualification_operations

DEMO_PERSON = "demo_person"
DEMO_PROJECT_CODE = "RT-II"  # provincial approval (TSG Z8001-2019 第四条)


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
    if exists:
        return 0
    needed = document_rules.requirements("qualification", project.personnel_type, "initial")
    qualification_operations.submit_qualification_application(
        person,
        project,
        "initial",
        work_unit="陕西省特种设备检验检测研究院",
        documents=document_samples.sample_documents(needed),
    )
    return 1
