"""Fixtures of M4 part 2 (publicity applications): a qualified unit, certificate holders with
personal accounts, registrations at a unit, and helpers to create and upload an application."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from stdnum.cn import ric

from ecqs import workflows
from ecqs.extensions import db
from ecqs.models import (
    PersonnelProject,
    PractitionerRegistration,
    PractitionerRegistrationItem,
    QualificationCertificate,
    SmsCode,
)
from ecqs.registry import application_operations as ops
from ecqs.services import workdays
from tests.conftest import make_org, make_user
from tests.registry.fixtures import file_qualification, make_unit, png

_numbers = iter(range(1, 100000))


def project(code: str, name: str = "射线胶片照相检测", level: str | None = None) -> PersonnelProject:
    row = db.session.execute(select(PersonnelProject).where(PersonnelProject.code == code)).scalar()
    if row is None:
        row = PersonnelProject(
            personnel_type="无损检测人员",
            code=code,
            name=name,
            level=level or code.rsplit("-", 1)[-1],
            approval_level="national",
        )
        db.session.add(row)
        db.session.flush()
    return row


def certificate(person, code: str, valid_until: date | None = None, status: str = "valid", **kw):
    proj = project(code, kw.pop("name", "射线胶片照相检测"))
    today = workdays.today()
    valid_until = valid_until or today + timedelta(days=1000)
    authority = kw.pop("authority", None) or make_org("authority", name="国家市场监督管理总局")
    cert = QualificationCertificate(
        number=f"RY-TEST-{next(_numbers):06d}",
        holder_id=person.id,
        holder_name=person.real_name,
        holder_id_number=person.id_number,
        project_id=proj.id,
        personnel_type=proj.personnel_type,
        project_code=proj.code,
        project_name=proj.name,
        level=proj.level,
        issued_on=valid_until - timedelta(days=1500),
        valid_until=valid_until,
        authority_id=authority.id,
        status=status,
        revoked_on=today if status == "revoked" else None,
    )
    db.session.add(cert)
    db.session.commit()
    return cert


def register(
    person, org, registered_on: date | None = None, valid_until: date | None = None, codes=("RT-II",)
):
    today = workdays.today()
    registered_on = registered_on or today - timedelta(days=400)
    row = PractitionerRegistration(
        number=f"ZCTEST{next(_numbers):06d}",
        person_id=person.id,
        person_name=person.real_name,
        id_number=person.id_number,
        mobile=person.mobile,
        organization_id=org.id,
        registered_on=registered_on,
        valid_until=valid_until or registered_on + timedelta(days=3 * 365),
    )
    for code in codes:
        proj = project(code)
        row.items.append(
            PractitionerRegistrationItem(
                project_id=proj.id,
                project_code=proj.code,
                project_name=proj.name,
                level=proj.level,
                added_on=today,
            )
        )
    db.session.add(row)
    db.session.commit()
    return row


def id_number() -> str:
    """A valid resident ID of 河北 (a practitioner of the seed's 河北 units)."""
    n = next(_numbers)
    first17 = f"1301021985{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")  # stdnum drops the last character


def holder(name: str = "张振", codes=("RT-II",)):
    person = make_user("person", real_name=name, id_number=id_number())
    for code in codes:
        certificate(person, code)
    return person


def qualified_unit(**kw) -> SimpleNamespace:
    unit = make_unit(**kw)
    qualification = file_qualification(unit.admin)
    workflows.transition(qualification, "approve", make_user("association"))
    db.session.commit()
    return unit


def create(unit, person, **kw):
    row = ops.create_application(unit.admin, person.real_name, person.id_number, **kw)
    db.session.commit()
    return row


def sent_code(application, unit) -> str:
    code = ops.send_code(application, unit.admin)
    db.session.commit()
    return code


def upload(application, unit, code=None):
    code = code or sent_code(application, unit)
    ops.submit(application, unit.admin, png("form.png"), code)
    db.session.commit()
    return application


def latest_code(mobile) -> SmsCode:
    return db.session.execute(
        select(SmsCode).where(SmsCode.mobile == mobile).order_by(SmsCode.id.desc()).limit(1)
    ).scalar()


@pytest.fixture
def qunit():
    return qualified_unit(name="河北渤海检验有限公司")


@pytest.fixture
def other_qunit():
    return qualified_unit(name="北京特检有限公司", division_code="110105")
