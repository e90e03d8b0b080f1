"""The 补正告知 rule, written once in ecqs/documents/rules.py: correction_guard checks the
points and the named documents, apply_correction writes the notice; the licence and the
qualification state tables both run these two, so the same posting gives the same notice and
the same refusals on either application."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ecqs import workflows
from ecqs.documents import rules as document_rules
from ecqs.documents import samples
from ecqs.extensions import db
from ecqs.models import DocumentRequirement, LicenceApplication, QualificationApplication
from ecqs.qualifications import operations as qualification_operations
from ecqs.workflows import GuardFailed
from tests.licences.fixtures import advance, draft
from tests.qualifications.fixtures import make_person


def requirement(domain, name) -> DocumentRequirement:
    return db.session.execute(
        select(DocumentRequirement).where(
            DocumentRequirement.domain == domain, DocumentRequirement.name == name
        )
    ).scalar_one()


@pytest.fixture
def licence_case(world, document_catalogue_loaded):
    application = advance(world, draft(world), "submitted")
    return (
        application,
        world.sn_reviewer,
        requirement("licence", "质量保证手册"),
        requirement("qualification", "视力证明"),
    )


@pytest.fixture
def qualification_case(projects, authorities, reviewers, document_catalogue_loaded):
    needed = document_rules.requirements("qualification", "无损检测人员", "initial")
    application = qualification_operations.submit_qualification_application(
        make_person("61"), projects["RT-II"], "initial", documents=samples.sample_documents(needed)
    )
    db.session.commit()
    return (
        application,
        reviewers["shaanxi"],
        requirement("qualification", "视力证明"),
        requirement("licence", "质量保证手册"),
    )


@pytest.fixture(params=["licence_case", "qualification_case"])
def case(request):
    return request.getfixturevalue(request.param)


def test_both_state_tables_run_the_one_rule():
    for model in (LicenceApplication, QualificationApplication):
        t = workflows.workflow_for(model).get("request_correction")
        assert t.guard is document_rules.correction_guard
        assert t.effect is document_rules.apply_correction


def test_guard_then_effect_write_the_notice(case):
    application, reviewer, own, _foreign = case
    status = application.status
    data = {"comment": "1. 照片不清晰\n\n（2）缺少签字", "documents": [str(own.id), str(own.id)]}
    document_rules.correction_guard(application, reviewer, data)
    assert data["_documents"] == [own]  # named once, though posted twice
    document_rules.apply_correction(application, reviewer, data)
    assert application.correction_points.splitlines() == [
        "照片不清晰",
        "缺少签字",
        f"请更换以下申请材料：{own.name}",
    ]
    assert application.correction_documents == [own.id]
    assert application.correction_requested_at is not None
    assert document_rules.correction_pending(application) == [own]
    assert application.status == status  # the engine, not the rule, changes the state


def test_points_alone_name_no_documents(case):
    application, reviewer, _own, _foreign = case
    data = {"points": ["营业执照已过期", " "]}
    document_rules.correction_guard(application, reviewer, data)
    document_rules.apply_correction(application, reviewer, data)
    assert application.correction_points == "营业执照已过期"
    assert application.correction_documents == []
    assert document_rules.correction_pending(application) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "请逐条填写需要补正的内容（每行一条），或选择需要更换的申请材料"),
        ({"comment": " \n "}, "请逐条填写需要补正的内容"),
        (
            {"comment": "补充", "documents": ["foreign"]},
            "所选需要更换的申请材料不属于本申请，请刷新页面后重试",
        ),
        ({"comment": "补充", "documents": ["x"]}, "不属于本申请"),
        ({"points": [f"第{i}条" for i in range(51)]}, "补正内容最多 50 条，每条不超过 500 个字"),
        ({"points": ["长" * 501]}, "补正内容最多 50 条"),
    ],
)
def test_guard_refusals(case, data, message):
    application, reviewer, _own, foreign = case
    if data.get("documents") == ["foreign"]:
        data = {**data, "documents": [str(foreign.id)]}
    with pytest.raises(GuardFailed, match=message):
        document_rules.correction_guard(application, reviewer, data)
    assert "_documents" not in data
    assert application.correction_points is None and not application.correction_documents


def test_fifty_points_of_500_characters_pass(case):
    application, reviewer, _own, _foreign = case
    data = {"points": ["长" * 500] * 50}
    document_rules.correction_guard(application, reviewer, data)
    assert data["_documents"] == []
