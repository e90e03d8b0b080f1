"""Fixtures of M4 part 1 (inspection units): a unit with its admin account, a sub-account and a
branch; helpers filing change and qualification requests; a small PNG as proof."""

from __future__ import annotations

import io
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from werkzeug.datastructures import FileStorage

from ecqs.extensions import db
from ecqs.registry import operations
from tests.conftest import make_org, make_user

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def png(name="proof.png") -> FileStorage:
    return FileStorage(stream=io.BytesIO(PNG), filename=name, content_type="image/png")


def not_an_image(name="proof.png") -> FileStorage:
    return FileStorage(stream=io.BytesIO(b"MZ this is an executable"), filename=name)


def make_unit(**kw) -> SimpleNamespace:
    org = make_org("unit", **kw)
    admin = make_user("unit", org=org)
    return SimpleNamespace(org=org, admin=admin)


def add_branch(unit, name="分支机构") -> object:
    branch = operations.create_branch(unit.admin, name)
    db.session.commit()
    return branch


def file_qualification(user, **kw):
    values = {
        "qual_type": "type_test",
        "certificate_number": "TS7110001-2027",
        "issued_on": date.today() - timedelta(days=100),
        "valid_until": date.today() + timedelta(days=1000),
        "certificate": png(),
        **kw,
    }
    row = operations.file_qualification_request(user, **values)
    db.session.commit()
    return row


def file_change(user, kind="info", values=None, **kw):
    row = operations.file_change_request(user, kind, values or {}, proof=kw.pop("proof", png()), **kw)
    db.session.commit()
    return row


@pytest.fixture
def unit():
    u = make_unit(
        name="广东华胜检验有限公司",
        legal_rep_name="王霓",
        address="饶阳县马屯工业园区正港路1号",
        postcode="053900",
    )
    u.sub = make_user("unit", org=u.org, is_org_admin=False)
    return u


@pytest.fixture
def other_unit():
    return make_unit(name="北京另一检验单位", division_code="110105")


@pytest.fixture
def casei():
    return make_user("association")


# ---- part 2: published registrations (a small factory through record_registration) ------------


def project(code="RT-II"):
    """A personnel project of the catalogue (loaded on first use: only divisions outlive a test)."""
    from sqlalchemy import select

    from ecqs import seeding
    from ecqs.models import PersonnelProject
    from ecqs.qualifications import catalogue as personnel_catalogue

    stmt = select(PersonnelProject).where(PersonnelProject.code == code)
    row = db.session.execute(stmt).scalar()
    if row is None:
        personnel_catalogue.load_personnel_projects(seeding.read_csv("personnel_projects.csv"))
        db.session.commit()
        row = db.session.execute(stmt).scalar_one()
    return row


def register_person(org, codes=("RT-II",), days_ago=400, valid_days=1000, **person):
    """A person (role person) registered at `org` (a unit or a branch) through the operation."""
    from ecqs.registry import registrations

    user = make_user("person", **person)
    items = [(project(code), code.split("-")[-1]) for code in codes]
    today = date.today()
    row = registrations.record_registration(
        user,
        org,
        items,
        today - timedelta(days=days_ago),
        today - timedelta(days=days_ago) + timedelta(days=valid_days),
    )
    db.session.commit()
    return row
