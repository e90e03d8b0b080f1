"""Seed 000 end to end in a real browser (M3, personnel qualification): a person applies for
RT-II (取证) through 特种设备检验、检测人员资格认定申请 → 资格认定申请, uploading the 申请材料 of
TSG Z8001 (several files for one document, a photo as PNG); the reviewer of the Shaanxi bureau
finds it in 待办事项, opens and downloads the documents, receives the materials (材料已接收) and approves it
(已审核) entering the certificate data; the person sees the certificate under 我的证书."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from ecqs.documents import rules as document_rules
from ecqs.documents.samples import sample_pdf
from ecqs.extensions import db
from ecqs.models import QualificationApplication, QualificationCertificate
from ecqs.services import workdays
from tests.browser.flow_helpers import (
    confirm_click,
    expect_flash,
    grid_headers,
    login,
    logout,
    open_menu,
    shot,
    submit_and_wait,
    tiny_png,
)
from tests.conftest import PASSWORD
from tests.qualifications.fixtures import make_person

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SEED_COLUMNS = [
    "申请年度",
    "人员类型",
    "项目代号",
    "项目名称",
    "申请类别",
    "申请状态",
    "提交机构",
    "申请日期",
    "受理日期",
]


def test_person_applies_reviewer_receives_and_approves_person_sees_certificate(
    page, live_server, artifacts, projects, reviewers, document_catalogue_loaded, tmp_path
):
    base = live_server
    person = make_person("61", real_name="王检测", username="wangjiance")
    person_id = person.id
    id_number = person.id_number
    reviewer = reviewers["shaanxi"]
    reviewer_username = reviewer.username
    other_reviewer_username = reviewers["sichuan"].username
    today = workdays.today()
    valid_until = today + timedelta(days=4 * 365)
    number = "TS-RT-610000-2026-0001"
    needed = [
        r for r in document_rules.requirements("qualification", "无损检测人员", "initial") if r.required
    ]
    files = {}
    for r in needed:
        path = tmp_path / (f"{r.name}.png" if "照片" in r.name else f"{r.name}.pdf")
        path.write_bytes(tiny_png() if "照片" in r.name else sample_pdf(f"document {r.id}"))
        files[r.id] = path
    eyes_id = next(r.id for r in needed if r.name == "视力证明")
    second_page = tmp_path / "视力证明-右眼.pdf"
    second_page.write_bytes(sample_pdf("right eye"))
    db.session.rollback()

    # 1. The person: menu → 资格认定申请, choose RT-II, category 取证, submit.
    login(page, base, "person", "wangjiance", PASSWORD)
    open_menu(page, "资格认定申请", category="特种设备检验、检测人员资格认定申请")
    page.wait_for_url(re.compile(r".*/admin/qualification_apply/.*"))
    assert page.locator("#province").input_value() == "610000"  # from the ID number
    page.locator("#project-table tr", has_text="RT-II").locator("input[type=radio]").first.check()
    submit_and_wait(page, "#next-step", r".*/qualification_apply/fill/.*")
    assert page.inner_text("#summary-code").strip() == "RT-II"
    assert page.inner_text("#summary-authority").strip() == "陕西省市场监督管理局"
    page.get_by_label("取证").check()
    page.fill("#work_unit", "陕西省特种设备检验检测研究院")
    shot(page, artifacts, "m3_1_person_fills_application.png")
    submit_and_wait(page, "#next-step", r".*/qualification_apply/documents/$")
    # 第三步：申请材料. Nothing uploaded yet: the list of what is missing, submit disabled.
    assert "视力证明" in page.inner_text("#documents-missing")
    assert page.locator("#submit-application").is_disabled()
    for requirement_id, path in files.items():
        row = page.locator(f"#documents-table tr[data-requirement='{requirement_id}']")
        chosen = [str(path), str(second_page)] if requirement_id == eyes_id else str(path)
        row.locator("input[type=file]").set_input_files(chosen)
        with page.expect_navigation():
            row.locator("button.upload-document").click()
        expect_flash(page, "申请材料已上传", artifacts)
    eyes = page.inner_text(f"#documents-table tr[data-requirement='{eyes_id}']")
    assert "视力证明.pdf" in eyes and "视力证明-右眼.pdf" in eyes
    page.locator("#documents-complete").wait_for()
    shot(page, artifacts, "m3_1b_person_uploads_documents.png")
    dialogs = confirm_click(page, "#submit-application")
    assert dialogs == ["确定提交该资格认定申请吗？"]
    expect_flash(page, "申请已提交，提交机构：陕西省市场监督管理局", artifacts)

    db.session.rollback()
    application = db.session.execute(
        select(QualificationApplication).where(QualificationApplication.applicant_id == person_id)
    ).scalar_one()
    app_id = application.id
    assert (application.project_code, application.category, application.status) == (
        "RT-II",
        "initial",
        "pending",
    )
    assert application.authority.name == "陕西省市场监督管理局"
    assert application.work_unit == "陕西省特种设备检验检测研究院"
    assert len(application.documents) == len(needed) + 1
    db.session.rollback()

    # The person's grid (seed 000 §1.6) has the seed's columns and shows the row as 待受理.
    open_menu(page, "检验、检测人员资格认定申请管理", category="特种设备检验、检测人员资格认定申请")
    page.wait_for_url(re.compile(r".*/admin/my_qualification_applications/.*"))
    assert grid_headers(page) == SEED_COLUMNS
    row = page.locator("table.model-list tbody tr", has_text="RT-II")
    assert row.count() == 1
    cells = row.inner_text()
    seen = (str(today.year), "无损检测人员", "射线胶片照相检测", "取证", "待受理", "陕西省市场监督管理局")
    for expected in seen:
        assert expected in cells, (expected, cells)
    assert today.isoformat() in cells
    logout(page)

    # A reviewer of another province has nothing to do with it.
    login(page, base, "staff", other_reviewer_username, PASSWORD)
    assert "王检测" not in page.inner_text("#inbox")
    logout(page)

    # 2. The Shaanxi reviewer finds it in 待办事项 and opens it.
    login(page, base, "staff", reviewer_username, PASSWORD)
    item = page.locator("#inbox tr", has_text="王检测")
    assert "接收材料" in item.inner_text()
    item.locator("a").first.click()
    page.wait_for_url(re.compile(rf".*/admin/qualification_applications/details/.*id={app_id}.*"))
    assert "待受理" in page.inner_text("#current-state")
    documents = page.inner_text("#application-documents")
    assert "视力证明-右眼.pdf" in documents and "近期 1 寸免冠正面白底彩色照片.png" in documents
    with page.expect_download() as download:
        page.locator("#documents-table a.document-link", has_text="视力证明-右眼.pdf").click()
    assert download.value.suggested_filename == "视力证明-右眼.pdf"

    # 材料已接收
    dialogs = confirm_click(page, "#workflow-actions button[data-action=receive]")
    assert dialogs and "接收" in dialogs[0]
    expect_flash(page, "操作成功", artifacts)
    assert "材料已接收" in page.inner_text("#current-state")
    application = db.session.get(QualificationApplication, app_id)
    assert (application.status, application.accepted_on) == ("received", today)
    db.session.rollback()

    # 已审核, entering the certificate data.
    page.fill("#cert-number", number)
    page.fill("#cert-issued-on", today.isoformat())
    page.fill("#cert-valid-until", valid_until.isoformat())
    shot(page, artifacts, "m3_2_reviewer_approves.png")
    dialogs = confirm_click(page, "#workflow-actions button[data-action=approve]")
    assert dialogs and "审核通过" in dialogs[0]
    expect_flash(page, f"已审核通过，证书编号：{number}", artifacts)
    assert "已审核" in page.inner_text("#current-state")
    timeline = page.inner_text("#timeline")
    assert "待受理 → 材料已接收" in timeline and "材料已接收 → 已审核" in timeline

    db.session.rollback()
    application = db.session.get(QualificationApplication, app_id)
    cert = application.certificate
    assert application.status == "approved" and cert is not None
    assert (cert.number, cert.holder_id, cert.project_code, cert.level, cert.status) == (
        number,
        person_id,
        "RT-II",
        "II",
        "valid",
    )
    assert (cert.issued_on, cert.valid_until) == (today, valid_until)
    assert cert.authority.name == "陕西省市场监督管理局"
    assert db.session.query(QualificationCertificate).count() == 1
    db.session.rollback()
    logout(page)

    # 3. The person sees the certificate under 我的证书, and 已审核 with 受理日期 in the grid.
    login(page, base, "person", "wangjiance", PASSWORD)
    assert "已审核通过" in page.inner_text("body")  # in-app notice on the home page
    open_menu(page, "我的证书")
    page.wait_for_url(re.compile(r".*/admin/my_certificates/.*"))
    cert_row = page.locator("table.model-list tbody tr", has_text=number)
    assert cert_row.count() == 1
    text = cert_row.inner_text()
    seen = ("RT-II", "射线胶片照相检测", today.isoformat(), valid_until.isoformat(), "陕西省市场监督管理局")
    seen += ("有效",)
    for expected in seen:
        assert expected in text, (expected, text)
    shot(page, artifacts, "m3_3_person_certificate.png")

    open_menu(page, "检验、检测人员资格认定申请管理", category="特种设备检验、检测人员资格认定申请")
    row_text = page.locator("table.model-list tbody tr", has_text="RT-II").inner_text()
    assert "已审核" in row_text and row_text.count(today.isoformat()) == 2  # 申请日期 and 受理日期
    shot(page, artifacts, "m3_4_person_grid.png")

    # 4. The person prints the certificate from 我的证书 (A4 page, full ID for the holder) ...
    open_menu(page, "我的证书")
    page.locator("table.model-list tbody tr", has_text=number).locator("a[title]").first.click()
    page.wait_for_url(re.compile(r".*/admin/my_certificates/details/.*"))
    page.click("#certificate-print")
    page.wait_for_url(re.compile(r".*/admin/my_certificates/print/.*"))
    assert page.inner_text("#document-title").strip() == "特种设备检验检测人员资格证书"
    assert page.inner_text("#certificate-number").strip() == number
    assert page.inner_text("#certificate-holder").strip() == "王检测"
    assert page.inner_text("#certificate-id-number").strip() == id_number
    assert page.inner_text("#certificate-project-code").strip() == "RT-II"
    validity = page.inner_text("#certificate-validity").split()
    assert validity == [today.isoformat(), "至", valid_until.isoformat()]
    assert page.inner_text("#certificate-authority").strip() == "陕西省市场监督管理局"
    qr = page.locator("#verify-qr")
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    shot(page, artifacts, "m3_5_certificate_print.png")
    verify_url = page.inner_text("#verify-url").strip()
    assert verify_url.startswith(base + "/verify/certificate/")
    page.click("#print-back")
    page.wait_for_url(re.compile(r".*/admin/my_certificates/details/.*"))
    logout(page)

    # ... and anyone opening its QR code's address, without logging in, reads it as genuine.
    page.goto(verify_url)
    result = page.locator("#verify-result")
    assert result.get_attribute("data-standing") == "valid"
    assert "该资格证书真实有效" in result.inner_text()
    details = page.inner_text("#verify-details")
    assert number in details and "王检测" in details and id_number not in details
    assert id_number[:3] + "*" * 12 + id_number[-3:] in details
    shot(page, artifacts, "m3_6_certificate_verified.png")

    # 5. The issuing authority revokes it with a reason; the public page then says 已撤销.
    login(page, base, "staff", reviewer_username, PASSWORD)
    open_menu(page, "人员资格证书")
    page.locator("table.model-list tbody tr", has_text=number).locator("a[title]").first.click()
    page.wait_for_url(re.compile(r".*/admin/qualification_certificates/details/.*"))
    page.fill("#workflow-actions textarea[name=comment]", "以欺骗手段取得证书")
    dialogs = confirm_click(page, "#workflow-actions button[data-action=revoke]")
    assert dialogs == ["撤销后该证书不再有效，确定撤销吗？"]
    expect_flash(page, "操作成功", artifacts)
    assert "已撤销" in page.inner_text("#current-state")
    logout(page)
    page.goto(verify_url)
    result = page.locator("#verify-result")
    assert result.get_attribute("data-standing") == "revoked"
    assert f"该资格证书已撤销（撤销日期 {today.isoformat()}）" in result.inner_text()
    shot(page, artifacts, "m3_7_certificate_revoked.png")
    assert not page.js_errors, page.js_errors
