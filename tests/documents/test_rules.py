"""申请材料 rules: a missing required document blocks the submission (licence and qualification,
by the same rule the pages show), an optional one never does; the catalogue's types and
categories choose what an application needs; a 补正告知书 naming documents waits for new files."""

from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from ecqs import workflows
from ecqs.documents import operations as document_operations
from ecqs.documents import rules as document_rules
from ecqs.documents import samples
from ecqs.extensions import db
from ecqs.models import ApplicationDocument, DocumentRequirement
from ecqs.qualifications import operations as qualification_operations
from ecqs.workflows import GuardFailed
from tests.licences.fixtures import advance, complete_form, draft
from tests.qualifications.fixtures import make_person


def requirement(domain, name) -> DocumentRequirement:
    return db.session.execute(
        select(DocumentRequirement).where(
            DocumentRequirement.domain == domain, DocumentRequirement.name == name
        )
    ).scalar_one()


def names(rows) -> set[str]:
    return {r.name for r in rows}


def test_licence_requirements_follow_type_and_category(document_catalogue_loaded):
    first = names(document_rules.requirements("licence", "制造", "first"))
    assert {
        "营业执照",
        "质量保证手册",
        "产品设计文件（试设计文件）",
        "型式试验报告（产品需型式试验的）",
    } <= first
    assert "原许可证" not in first and "自我声明承诺书（申请免鉴定评审换证的）" not in first
    renewal = names(document_rules.requirements("licence", "安装改造修理", "renewal"))
    assert {"原许可证", "自我声明承诺书（申请免鉴定评审换证的）"} <= renewal
    assert "产品设计文件（试设计文件）" not in renewal and "型式试验报告（产品需型式试验的）" not in renewal
    ndt = names(document_rules.requirements("qualification", "无损检测人员", "initial"))
    assert {"视力证明", "学历证明", "身份证明"} <= ndt and "体检证明" not in ndt
    inspector = names(document_rules.requirements("qualification", "检验人员", "exam_renewal"))
    assert "体检证明" in inspector and "学历证明" not in inspector


def test_missing_required_licence_document_blocks_submit(world, document_catalogue_loaded):
    application = draft(world, fill=False)
    complete_form(application)  # fills the pages and attaches every required document
    licence = requirement("licence", "营业执照")
    document = next(
        d for d in document_rules.current_documents(application) if d.requirement_id == licence.id
    )
    document_operations.remove(application, document.id, world.enterprise)
    db.session.commit()
    assert [r.name for r in document_rules.missing_for(application)] == ["营业执照"]
    with pytest.raises(workflows.WorkflowError, match="以下必须提交的申请材料尚未上传：营业执照"):
        workflows.transition(application, "submit", world.enterprise)
    db.session.rollback()
    assert application.status == "draft"
    document_operations.attach(application, licence.id, [samples.sample_file(licence)], world.enterprise)
    workflows.transition(application, "submit", world.enterprise)
    assert application.status == "submitted"


def test_optional_licence_documents_do_not_block(world, document_catalogue_loaded):
    application = draft(world)  # required documents only
    optional = [r for r in document_rules.application_requirements(application) if not r.required]
    assert optional and not document_rules.missing_for(application)
    present = {d.requirement_id for d in document_rules.current_documents(application)}
    assert present.isdisjoint(r.id for r in optional)
    workflows.transition(application, "submit", world.enterprise)
    assert application.status == "submitted"


def test_missing_required_qualification_document_blocks_submit(
    projects, authorities, document_catalogue_loaded
):
    person = make_person("61")
    needed = document_rules.requirements("qualification", "无损检测人员", "initial")
    files = samples.sample_documents(needed)
    eyes = requirement("qualification", "视力证明")
    without_eyes = {k: v for k, v in files.items() if k != eyes.id}
    with pytest.raises(GuardFailed, match="以下必须提交的申请材料尚未上传：视力证明"):
        qualification_operations.submit_qualification_application(
            person, projects["RT-II"], "initial", documents=without_eyes
        )
    db.session.rollback()
    assert db.session.execute(select(ApplicationDocument)).first() is None
    optional = {r.id: [samples.sample_file(r)] for r in needed if not r.required}
    application = qualification_operations.submit_qualification_application(
        person, projects["RT-II"], "initial", documents=samples.sample_documents(needed) | optional
    )
    db.session.commit()
    assert application.status == "pending"
    assert {d.requirement_id for d in application.documents} == {r.id for r in needed}


def test_only_the_application_s_own_documents_and_types(world, document_catalogue_loaded):
    application = draft(world)
    foreign = requirement("qualification", "视力证明")
    with pytest.raises(document_operations.DocumentError, match="不属于本申请"):
        document_operations.attach(application, foreign.id, [samples.sample_file(foreign)], world.enterprise)
    licence = requirement("licence", "营业执照")
    html = FileStorage(BytesIO(b"<html><script>alert(1)</script></html>"), filename="执照.pdf")
    with pytest.raises(document_operations.DocumentError, match="只能上传 JPG、PNG 图片或 PDF 文件"):
        document_operations.attach(application, licence.id, [html], world.enterprise)
    big = FileStorage(BytesIO(b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024)), filename="大文件.pdf")
    with pytest.raises(document_operations.DocumentError, match="5 MB"):
        document_operations.attach(application, licence.id, [big], world.enterprise)
    with pytest.raises(document_operations.DocumentError, match="不能修改申请材料"):
        document_operations.attach(
            application, licence.id, [samples.sample_file(licence)], world.other_enterprise
        )


def test_submitted_application_documents_are_frozen(world, document_catalogue_loaded):
    application = advance(world, draft(world), "submitted")
    licence = requirement("licence", "营业执照")
    with pytest.raises(document_operations.DocumentError, match="不能修改申请材料"):
        document_operations.attach(application, licence.id, [samples.sample_file(licence)], world.enterprise)
    document = document_rules.current_documents(application)[0]
    with pytest.raises(document_operations.DocumentError, match="不能修改申请材料"):
        document_operations.remove(application, document.id, world.enterprise)
