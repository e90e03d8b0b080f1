"""Fixtures of the M2 (production licence) tests: the catalogue, authorities, an enterprise,
an assessment institution and helpers that drive an application through its procedure."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ecqs import workflows
from ecqs.documents import catalogue as document_catalogue
from ecqs.documents import samples as document_samples
from ecqs.extensions import db
from ecqs.licences import form as licence_form
from ecqs.licences import operations as licence_applications
from ecqs.licences.seed import load_licence_items
from ecqs.models import LicenceItem
from tests.conftest import make_org, make_user


@pytest.fixture
def document_catalogue_loaded(app):
    """申请材料目录 of seed/application_documents.csv (truncated after every test like any table)."""
    document_catalogue.load_seed()
    db.session.commit()


@pytest.fixture
def licence_catalogue(app):
    """The catalogue is truncated after every test like any table; load it again."""
    load_licence_items()
    db.session.commit()


def item(item_name, level="", licence_type="制造", sub_item=None):
    stmt = select(LicenceItem).where(
        LicenceItem.item == item_name, LicenceItem.level == level, LicenceItem.licence_type == licence_type
    )
    if sub_item is not None:
        stmt = stmt.where(LicenceItem.sub_item == sub_item)
    return db.session.execute(stmt).scalars().first()


class World:
    """SAMR, two provincial bureaus (陕西 and 北京) with a reviewer each, an enterprise in 西安
    and one in 北京, and an assessment institution with its user."""

    def __init__(self):
        self.samr = make_org(
            "authority", name="国家市场监督管理总局", authority_level="national", division_code="110000"
        )
        self.shaanxi = make_org(
            "authority", name="陕西省市场监督管理局", authority_level="provincial", division_code="610000"
        )
        self.beijing = make_org(
            "authority", name="北京市市场监督管理局", authority_level="provincial", division_code="110000"
        )
        self.samr_reviewer = make_user("reviewer", org=self.samr)
        self.sn_reviewer = make_user("reviewer", org=self.shaanxi)
        self.bj_reviewer = make_user("reviewer", org=self.beijing)
        self.enterprise_org = make_org("enterprise", name="西安测试阀门有限公司", division_code="610113")
        self.enterprise = make_user("enterprise", org=self.enterprise_org)
        self.other_enterprise = make_user("enterprise", org=make_org("enterprise", division_code="110105"))
        self.assessor_org = make_org("assessor", name="测试鉴定评审中心", division_code="110000")
        self.assessor = make_user("assessor", org=self.assessor_org)
        self.other_assessor = make_user("assessor", org=make_org("assessor", division_code="110000"))
        self.admin = make_user("admin")


@pytest.fixture
def world(licence_catalogue):
    return World()


SAMPLE = {
    "text": "测试内容",
    "textarea": "测试内容\n第二行",
    "int": "12",
    "date": "2026-01-05",
    "email": "test@example.cn",
    "phone": "029-88886666",
    "postcode": "710065",
    "checkbox": "y",
}


def sample_values(page, organization=None) -> dict:
    values = {}
    for field in page.fields:
        if field.kind == "uscc":
            values[field.name] = organization.uscc if organization is not None else ""
        else:
            values[field.name] = SAMPLE[field.kind]
    return values


def complete_form(application):
    """Fill every page of the 许可申请书 with valid values, and attach a generated file to every
    required document (none when the test did not load 申请材料目录)."""
    for page in licence_form.PAGES:
        licence_form.save_page(application, page.key, sample_values(page, application.organization))
    document_samples.attach_samples(application, application.created_by)


def draft(world, items=None, category="first", licence_type="制造", fill=True):
    items = items if items is not None else [item("安全阀", "B")]
    application = licence_applications.create(
        world.enterprise_org, world.enterprise, category, licence_type, [i.id for i in items]
    )
    if fill:
        complete_form(application)
    db.session.commit()
    return application


STEPS = {
    "submitted": [("submit", "enterprise", {})],
    "correction": [("request_correction", "reviewer", {"comment": "1. 补充质量手册\n2. 补充人员证书"})],
    "accepted": [("accept", "reviewer", {"assessor_org_id": None})],
    "engaged": [("engage", "enterprise", {})],
    "scheduled": [("propose_dates", "assessor", {}), ("confirm_dates", "enterprise", {})],
    "reviewed": [("submit_report", "assessor", {})],
    "granted": [("grant", "reviewer", {})],
    "refused": [("refuse", "reviewer", {"comment": "评审不合格"})],
    "rejected": [("reject", "reviewer", {"comment": "不属于本机关受理范围"})],
    "withdrawn": [("withdraw", "enterprise", {})],
}
PATHS = {
    "draft": [],
    "submitted": ["submitted"],
    "correction": ["submitted", "correction"],
    "accepted": ["submitted", "accepted"],
    "engaged": ["submitted", "accepted", "engaged"],
    "scheduled": ["submitted", "accepted", "engaged", "scheduled"],
    "reviewed": ["submitted", "accepted", "engaged", "scheduled", "reviewed"],
    "granted": ["submitted", "accepted", "engaged", "scheduled", "reviewed", "granted"],
    "refused": ["submitted", "accepted", "engaged", "scheduled", "reviewed", "refused"],
    "rejected": ["submitted", "rejected"],
    "withdrawn": ["submitted", "withdrawn"],
}


def action_data(world, action, application):
    """Valid data for an action (what the view's form would post)."""
    from datetime import timedelta

    from ecqs.services import workdays

    today = workdays.today()
    if action == "accept":
        return {
            "assessor_org_id": world.assessor_org.id,
            "contact_name": "李评审",
            "contact_phone": "010-12345678",
        }
    if action in ("propose_dates", "counter_propose"):
        # The review starts today: the report may follow at once (not before the review).
        return {"start": today, "end": today + timedelta(days=2)}
    if action == "submit_report":
        return {"report": fake_upload(world.assessor), "conclusion": "pass"}
    if action == "grant":
        return {
            "licence_number": f"TS2261{application.id:03d}-2030",  # TSG 07-2019 附件 A
            "valid_from": today,
            "valid_until": today.replace(year=today.year + 4),
        }
    return {}


def fake_upload(user=None, **fields):
    from ecqs.models import Upload

    row = Upload(
        stored_name=f"test-{id(user)}-{db.session.execute(select(db.func.count(Upload.id))).scalar()}.pdf",
        original_name="评审报告.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
        uploaded_by_id=user.id if user else None,
        **fields,
    )
    db.session.add(row)
    db.session.flush()
    return row


def actor_for(world, role):
    return {
        "enterprise": world.enterprise,
        "reviewer": world.sn_reviewer,
        "assessor": world.assessor,
    }[role]


def advance(world, application, state):
    """Drive a (complete) draft to `state` through the workflow, as the parties would."""
    for step in PATHS[state]:
        for action, role, extra in STEPS[step]:
            data = action_data(world, action, application)
            data.update({k: v for k, v in extra.items() if v is not None})
            comment = data.pop("comment", None)
            workflows.transition(application, action, actor_for(world, role), comment=comment, **data)
            db.session.commit()
    assert application.status == state
    return application
