"""Fixtures of M3 (personnel qualification): the project catalogue (truncated after every test
like all non-reference tables, so loaded per test), authorities in two provinces plus SAMR,
people with resident IDs of a chosen province, and a helper driving an application to a state."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from stdnum.cn import ric

from ecqs import seeding, workflows
from ecqs.extensions import db
from ecqs.models import PersonnelProject, QualificationApplication
from ecqs.qualifications import catalogue as personnel_catalogue
from ecqs.qualifications import operations as qualification_operations
from ecqs.services import workdays
from tests.conftest import make_org, make_user

_ids = itertools.count(100)


def id_number_in(province_prefix: str) -> str:
    """A valid resident ID whose first two digits are `province_prefix` (e.g. '61', '51')."""
    n = next(_ids)
    first17 = f"{province_prefix}0103199001{1 + n % 28:02d}{n % 1000:03d}"
    return first17 + ric.calc_check_digit(first17)


@pytest.fixture
def projects():
    personnel_catalogue.load_personnel_projects(seeding.read_csv("personnel_projects.csv"))
    db.session.commit()
    rows = db.session.execute(select(PersonnelProject)).scalars()
    return {p.code or p.name: p for p in rows}


@pytest.fixture
def authorities():
    samr = make_org(
        kind="authority", name="国家市场监督管理总局", division_code="110000", authority_level="national"
    )
    shaanxi = make_org(
        kind="authority", name="陕西省市场监督管理局", division_code="610000", authority_level="provincial"
    )
    sichuan = make_org(
        kind="authority", name="四川省市场监督管理局", division_code="510000", authority_level="provincial"
    )
    return {"samr": samr, "shaanxi": shaanxi, "sichuan": sichuan}


@pytest.fixture
def reviewers(authorities):
    return {
        key: make_user("reviewer", org=org, real_name=f"{org.name}审批员") for key, org in authorities.items()
    }


def make_person(province_prefix: str = "61", **kw):
    return make_user("person", id_number=id_number_in(province_prefix), **kw)


def submit(person, project, category="initial", **kw) -> QualificationApplication:
    app = qualification_operations.submit_qualification_application(person, project, category, **kw)
    db.session.commit()
    return app


def approve_data(years: int = 4) -> dict:
    today = workdays.today()
    return {"issued_on": today, "valid_until": today + timedelta(days=365 * years)}


def drive_to(app: QualificationApplication, state: str, reviewer, person) -> QualificationApplication:
    """Move a fresh (待受理) application to `state` through the workflow as its real actors would."""
    steps = {
        "pending": [],
        "received": [("receive", reviewer, {})],
        "approved": [("receive", reviewer, {}), ("approve", reviewer, approve_data())],
        "rejected": [("receive", reviewer, {}), ("reject", reviewer, {"comment": "材料不全"})],
        "withdrawn": [("withdraw", person, {})],
    }[state]
    for action, actor, data in steps:
        workflows.transition(app, action, actor, **data)
    db.session.commit()
    assert app.status == state
    return app


def give_certificate(person, project, reviewer, valid_until: date | None = None):
    """A person holding a valid certificate of `project`, issued through the workflow."""
    app = submit(person, project)
    drive_to(app, "approved", reviewer, person)
    cert = app.certificate
    if valid_until is not None:
        cert.issued_on = valid_until - timedelta(days=4 * 365)
        cert.valid_until = valid_until
        db.session.commit()
    return cert
