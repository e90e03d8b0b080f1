"""The applicant's document pages through HTTP: the licence wizard's 申请材料 page (several files
per document, remove keeps the file in the history, the missing list and the submit guard), and
the qualification application's third step (files wait in the draft until the submission)."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from ecqs.documents import operations
from ecqs.documents import rules as document_rules
from ecqs.documents.samples import sample_pdf, sample_png
from ecqs.extensions import db
from ecqs.models import ApplicationDocument, DocumentRequirement, LicenceApplication, QualificationApplication
from tests.conftest import flashes
from tests.licences.fixtures import complete_form, draft
from tests.qualifications.fixtures import make_person


def text(response) -> str:
    return response.get_data(as_text=True)


def upload(client, url, requirement_id, *files):
    data = {"action": "upload", "requirement_id": str(requirement_id)}
    data[f"files_{requirement_id}"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(url, data=data, content_type="multipart/form-data", follow_redirects=True)


def test_licence_wizard_documents_page(client, login_as, world, document_catalogue_loaded):
    application = draft(world, fill=False)
    complete_form(application)
    for d in document_rules.current_documents(application):  # start with no document at all
        operations.remove(application, d.id, world.enterprise)
    db.session.commit()
    login_as(world.enterprise)
    url = f"/admin/licence_apply/{application.id}/documents"
    page = text(client.get(url))
    assert 'data-page="documents"' in page and 'id="documents-missing"' in page
    for name in ("营业执照", "质量保证手册", "型式试验报告（产品需型式试验的）"):
        assert f'data-name="{name}"' in page
    submit = client.post(
        f"/admin/licence_apply/{application.id}/submit",
        data={"expected_state": "draft"},
        follow_redirects=True,
    )
    assert "以下必须提交的申请材料尚未上传：" in flashes(submit) and "营业执照" in flashes(submit)
    needed = [r for r in document_rules.application_requirements(application) if r.required]
    licence = needed[0]
    response = upload(client, url, licence.id, ("执照正本.pdf", sample_pdf()), ("执照副本.png", sample_png()))
    assert "申请材料已上传" in flashes(response)
    assert "执照正本.pdf" in text(response) and "执照副本.png" in text(response)
    bad = upload(client, url, licence.id, ("病毒.pdf", b"MZ\x90\x00 not a pdf"))
    assert "只能上传 JPG、PNG 图片或 PDF 文件" in flashes(bad)
    for requirement in needed[1:]:
        upload(client, url, requirement.id, (f"{requirement.name}.pdf", sample_pdf()))
    page = text(client.get(url))
    assert 'id="documents-complete"' in page and 'data-page="documents"' in page
    # Remove one of the two files: the page stops listing it, the history keeps it.
    second = db.session.execute(
        select(ApplicationDocument).where(ApplicationDocument.upload.has(original_name="执照副本.png"))
    ).scalar_one()
    response = client.post(
        url, data={"action": "remove", "document_id": str(second.id)}, follow_redirects=True
    )
    assert "文件已删除" in flashes(response) and "执照副本.png" not in text(response)
    db.session.expire_all()
    assert db.session.get(ApplicationDocument, second.id).superseded_reason == "removed"
    response = client.post(
        f"/admin/licence_apply/{application.id}/submit",
        data={"expected_state": "draft"},
        follow_redirects=True,
    )
    assert "已提交至" in flashes(response)
    assert db.session.get(LicenceApplication, application.id).status == "submitted"
    details = text(client.get(f"/admin/licence_applications/details/?id={application.id}"))
    assert "执照正本.pdf" in details and 'id="documents-history"' in details and "已删除" in details


def test_qualification_documents_step(client, login_as, projects, authorities, document_catalogue_loaded):
    person = make_person("61")
    login_as(person)
    project = projects["RT-II"]
    response = client.post(
        "/admin/qualification_apply/fill/",
        data={
            "project_id": project.id,
            "province": "610000",
            "category": "initial",
            "work_unit": "西安检测公司",
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/qualification_apply/documents/"
    )
    url = "/admin/qualification_apply/documents/"
    page = text(client.get(url))
    assert "第三步：上传申请材料并提交" in page and 'id="documents-missing"' in page
    assert 'data-name="视力证明"' in page and 'data-name="体检证明"' not in page
    # Submitting without the required files is refused with the list of what is missing.
    refused = client.post(url, data={"action": "submit"})
    assert refused.status_code == 200 and "以下必须提交的申请材料尚未上传：" in text(refused)
    assert db.session.execute(select(func.count(QualificationApplication.id))).scalar() == 0
    needed = document_rules.requirements("qualification", "无损检测人员", "initial")
    for requirement in needed:
        if requirement.required:
            name = "照片.png" if "照片" in requirement.name else f"{requirement.name}.pdf"
            content = sample_png() if name.endswith(".png") else sample_pdf()
            assert "申请材料已上传" in flashes(upload(client, url, requirement.id, (name, content)))
    eyes = next(r for r in needed if r.name == "视力证明")
    upload(client, url, eyes.id, ("视力证明-第二页.pdf", sample_pdf()))
    page = text(client.get(url))
    assert 'id="documents-complete"' in page and "视力证明-第二页.pdf" in page
    index = re.search(r'data-file="(\d+)">\s*<span class="mr-2">视力证明-第二页.pdf', page).group(1)
    removed = client.post(
        url, data={"action": "remove", "requirement_id": str(eyes.id), "index": index}, follow_redirects=True
    )
    assert "文件已删除" in flashes(removed) and "视力证明-第二页.pdf" not in text(removed)
    done = client.post(url, data={"action": "submit"})
    assert done.status_code == 302
    application = db.session.execute(select(QualificationApplication)).scalar_one()
    assert application.status == "pending" and application.work_unit == "西安检测公司"
    files = {d.requirement.name: d.upload.original_name for d in application.documents}
    assert files["视力证明"] == "视力证明.pdf" and len(files) == sum(r.required for r in needed)
    details = text(client.get(done.headers["Location"]))
    assert 'id="application-documents"' in details and "视力证明.pdf" in details
    # The draft is gone: the documents step now sends the person back to the start.
    again = client.get(url)
    assert again.status_code == 302


def test_unknown_requirement_in_the_draft_is_refused(
    client, login_as, projects, authorities, document_catalogue_loaded
):
    login_as(make_person("61"))
    client.post(
        "/admin/qualification_apply/fill/",
        data={"project_id": projects["RT-II"].id, "province": "610000", "category": "initial"},
    )
    inspector_only = db.session.execute(
        select(DocumentRequirement).where(DocumentRequirement.name == "体检证明")
    ).scalar_one()
    response = upload(
        client, "/admin/qualification_apply/documents/", inspector_only.id, ("体检.pdf", sample_pdf())
    )
    assert "所选材料不属于本申请" in flashes(response)
