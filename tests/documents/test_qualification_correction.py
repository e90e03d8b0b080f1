"""补正 of a qualification application (TSG Z8001-2019 第十二条): the reviewer of the addressed
authority asks for correction naming documents (待受理 → 待补正), the person cannot resubmit
until each named document has a new file, replaces it (the old file stays in the history) and
resubmits (→ 待受理); documents are frozen outside 待补正."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from ecqs import workflows
from ecqs.documents import operations as document_operations
from ecqs.documents import rules as document_rules
from ecqs.documents import samples
from ecqs.extensions import db
from ecqs.models import DocumentRequirement
from ecqs.qualifications import operations as qualification_operations
from ecqs.services import workdays
from tests.conftest import flashes, login
from tests.qualifications.fixtures import make_person


def submitted(person, projects):
    needed = document_rules.requirements("qualification", "无损检测人员", "initial")
    application = qualification_operations.submit_qualification_application(
        person, projects["RT-II"], "initial", documents=samples.sample_documents(needed)
    )
    db.session.commit()
    return application


def requirement(name) -> DocumentRequirement:
    return db.session.execute(
        select(DocumentRequirement).where(DocumentRequirement.name == name)
    ).scalar_one()


def test_correction_round_keeps_the_replaced_file(
    projects, authorities, reviewers, document_catalogue_loaded
):
    person = make_person("61")
    application = submitted(person, projects)
    eyes = requirement("视力证明")
    with pytest.raises(document_operations.DocumentError, match="不能修改申请材料"):
        document_operations.attach(application, eyes.id, [samples.sample_file(eyes)], person)
    with pytest.raises(workflows.WorkflowError):  # another province's reviewer is no party
        workflows.transition(
            application, "request_correction", reviewers["sichuan"], comment="补充", documents=[eyes.id]
        )
    db.session.rollback()
    workflows.transition(
        application,
        "request_correction",
        reviewers["shaanxi"],
        comment="视力证明不清晰",
        documents=[str(eyes.id)],
    )
    db.session.commit()
    assert application.status == "correction"
    assert application.correction_points.splitlines() == ["视力证明不清晰", "请更换以下申请材料：视力证明"]
    with pytest.raises(workflows.WorkflowError, match="补正告知书要求更换的材料尚未重新上传：视力证明"):
        workflows.transition(application, "resubmit", person)
    db.session.rollback()
    document_operations.attach(application, eyes.id, [samples.sample_file(eyes)], person)
    db.session.commit()
    files = [d for d in application.documents if d.requirement_id == eyes.id]
    assert [d.superseded_reason for d in files] == ["replaced", None]
    workflows.transition(application, "resubmit", person)
    db.session.commit()
    assert (application.status, application.resubmitted_on) == ("pending", workdays.today())
    workflows.transition(application, "receive", reviewers["shaanxi"])
    db.session.commit()
    assert application.status == "received"


def test_open_application_in_correction_blocks_a_second_one(
    projects, authorities, reviewers, document_catalogue_loaded
):
    person = make_person("61")
    application = submitted(person, projects)
    workflows.transition(application, "request_correction", reviewers["shaanxi"], comment="请补充学历证明")
    db.session.commit()
    with pytest.raises(workflows.WorkflowError, match="正在办理的申请（待补正）"):
        submitted(person, projects)
    db.session.rollback()
    workflows.transition(application, "withdraw", person)
    db.session.commit()
    assert application.status == "withdrawn"


def test_correction_through_the_pages(app, projects, authorities, reviewers, document_catalogue_loaded):
    person = make_person("61")
    application = submitted(person, projects)
    photo = requirement("近期 1 寸免冠正面白底彩色照片")
    staff = app.test_client()
    login(staff, reviewers["shaanxi"])
    details = staff.get(f"/admin/qualification_applications/details/?id={application.id}").get_data(
        as_text=True
    )
    assert 'id="correction-documents"' in details and f'value="{photo.id}"' in details
    response = staff.post(
        f"/admin/qualification_applications/transition/{application.id}/request_correction",
        data={"comment": "照片不符合要求", "documents": [str(photo.id)], "expected_state": "pending"},
        follow_redirects=True,
    )
    assert "操作成功" in flashes(response)
    page = response.get_data(as_text=True)
    assert "待补正" in page and "请更换以下申请材料：近期 1 寸免冠正面白底彩色照片" in page
    client = app.test_client()
    login(client, person)
    details = client.get(f"/admin/my_qualification_applications/details/?id={application.id}").get_data(
        as_text=True
    )
    assert 'id="link-correct"' in details and "照片不符合要求" in details
    url = f"/admin/my_qualification_applications/correct/?id={application.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="documents-replace"' in page
    response = client.post(
        url,
        data={
            "action": "upload",
            "requirement_id": str(photo.id),
            f"files_{photo.id}": (io.BytesIO(samples.sample_png()), "新照片.png"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "申请材料已上传" in flashes(response) and "新照片.png" in response.get_data(as_text=True)
    response = client.post(
        f"/admin/my_qualification_applications/transition/{application.id}/resubmit",
        data={"expected_state": "correction"},
        follow_redirects=True,
    )
    assert "操作成功" in flashes(response)
    db.session.expire_all()
    assert application.status == "pending"
    # Another person reaches neither the page nor the files.
    stranger = app.test_client()
    login(stranger, make_person("61"))
    assert stranger.get(url).status_code in (403, 404)
    history = staff.get(f"/admin/qualification_applications/details/?id={application.id}").get_data(
        as_text=True
    )
    history = history[history.index('id="documents-history"') :]
    old_id = re.search(r'data-document="(\d+)"', history).group(1)
    assert "已被替换" in history
    assert staff.get(f"/admin/qualification_applications/document/{old_id}").status_code == 200
    assert stranger.get(f"/admin/my_qualification_applications/document/{old_id}").status_code in (403, 404)
