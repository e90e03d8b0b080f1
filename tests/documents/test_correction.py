"""补正告知书 naming documents: the reviewer names documents to replace, the applicant cannot
resubmit until each has a new file, the replaced files stay in the history (reviewers see and
download them), nothing is deleted."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from ecqs import workflows
from ecqs.documents import operations as document_operations
from ecqs.documents import rules as document_rules
from ecqs.documents import samples
from ecqs.extensions import db
from ecqs.models import ApplicationDocument, DocumentRequirement, Upload
from tests.conftest import flashes, login
from tests.licences.fixtures import advance, draft


def by_name(name) -> DocumentRequirement:
    return db.session.execute(
        select(DocumentRequirement).where(
            DocumentRequirement.domain == "licence", DocumentRequirement.name == name
        )
    ).scalar_one()


def test_correction_names_documents_and_replacing_keeps_history(world, document_catalogue_loaded):
    application = advance(world, draft(world), "submitted")
    manual = by_name("质量保证手册")
    old = [d for d in document_rules.current_documents(application) if d.requirement_id == manual.id]
    assert len(old) == 1
    uploads_before = db.session.execute(select(func.count(Upload.id))).scalar()
    workflows.transition(
        application,
        "request_correction",
        world.sn_reviewer,
        comment="质量保证手册版本过期",
        documents=[str(manual.id)],
    )
    db.session.commit()
    assert application.status == "correction" and application.correction_documents == [manual.id]
    assert application.correction_points.splitlines() == [
        "质量保证手册版本过期",
        "请更换以下申请材料：质量保证手册",
    ]
    # Not resubmittable before the new file.
    with pytest.raises(workflows.WorkflowError, match="补正告知书要求更换的材料尚未重新上传：质量保证手册"):
        workflows.transition(application, "resubmit", world.enterprise)
    db.session.rollback()
    new_file = samples.sample_file(manual)
    new_file.filename = "质量保证手册（第二版）.pdf"
    document_operations.attach(application, manual.id, [new_file], world.enterprise)
    db.session.commit()
    rows = (
        db.session.execute(
            select(ApplicationDocument)
            .where(ApplicationDocument.requirement_id == manual.id)
            .order_by(ApplicationDocument.id)
        )
        .scalars()
        .all()
    )
    assert [(r.superseded_reason, r.upload.original_name) for r in rows] == [
        ("replaced", old[0].upload.original_name),
        (None, "质量保证手册（第二版）.pdf"),
    ]
    assert db.session.execute(select(func.count(Upload.id))).scalar() == uploads_before + 1  # nothing deleted
    workflows.transition(application, "resubmit", world.enterprise)
    db.session.commit()
    assert application.status == "submitted"


def test_correction_refuses_documents_of_another_application_kind(world, document_catalogue_loaded):
    application = advance(world, draft(world), "submitted")
    other = (
        db.session.execute(select(DocumentRequirement).where(DocumentRequirement.domain == "qualification"))
        .scalars()
        .first()
    )
    with pytest.raises(workflows.WorkflowError, match="不属于本申请"):
        workflows.transition(
            application,
            "request_correction",
            world.sn_reviewer,
            comment="补充材料",
            documents=[str(other.id)],
        )
    db.session.rollback()
    assert application.status == "submitted"


def test_reviewer_names_documents_in_the_form_and_sees_the_history(
    app, client, login_as, world, document_catalogue_loaded
):
    application = advance(world, draft(world), "submitted")
    licence = by_name("营业执照")
    login_as(world.sn_reviewer)
    details = client.get(f"/admin/licence_applications/details/?id={application.id}").get_data(as_text=True)
    assert 'id="correction-documents"' in details and f'value="{licence.id}"' in details
    assert 'id="application-documents"' in details and "营业执照" in details
    response = client.post(
        f"/admin/licence_applications/transition/{application.id}/request_correction",
        data={"comment": "营业执照已过期", "documents": [str(licence.id)], "expected_state": "submitted"},
        follow_redirects=True,
    )
    assert "操作成功" in flashes(response)
    notice = client.get(f"/admin/licence_applications/notice/?id={application.id}").get_data(as_text=True)
    assert "请更换以下申请材料：营业执照" in notice
    # The applicant's wizard page says what to replace; an upload replaces the earlier file.
    enterprise_client = app.test_client()
    login(enterprise_client, world.enterprise)
    page = enterprise_client.get(f"/admin/licence_apply/{application.id}/documents").get_data(as_text=True)
    assert 'id="documents-replace"' in page and "营业执照" in page
    new_file = samples.sample_file(licence)
    response = enterprise_client.post(
        f"/admin/licence_apply/{application.id}/documents",
        data={
            "action": "upload",
            "requirement_id": str(licence.id),
            f"files_{licence.id}": (new_file.stream, "新营业执照.pdf"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "申请材料已上传" in flashes(response)
    response = enterprise_client.post(
        f"/admin/licence_apply/{application.id}/submit",
        data={"expected_state": "correction"},
        follow_redirects=True,
    )
    assert "已提交至" in flashes(response)
    # The reviewer sees the replaced file in the history and can still download it.
    details = client.get(f"/admin/licence_applications/details/?id={application.id}").get_data(as_text=True)
    history = details[details.index('id="documents-history"') :]
    assert "已被替换" in history and "营业执照.pdf" in history
    old_id = re.search(r'data-document="(\d+)"', history).group(1)
    download = client.get(f"/admin/licence_applications/document/{old_id}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert "attachment" in download.headers["Content-Disposition"]
