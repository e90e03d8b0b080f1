"""Seed 001 end to end in a real browser (M2, production licence), with one correction round:
an enterprise starts 生产企业许可申请 (category, licence type, items; the approving authority is
shown before anything is saved), fills the pages of the 许可申请书 saving drafts and prints the
current page, uploads its 申请材料 (several files for one document), submits; the Shaanxi
reviewer asks for correction (待补正, two points and the 质量保证手册 to replace); the enterprise
reads the 补正告知书, edits, replaces the manual and resubmits; the reviewer (who sees the
replaced manual in the history and downloads the new one) accepts (初审通过, choosing
the assessment institution); the enterprise engages it; the assessor proposes review dates; the
enterprise confirms them; the assessor submits report and conclusion; the enterprise fills the
评审反馈表; the reviewer grants 准予许可 with licence number and validity; the enterprise sees
准予许可 and the printable certificate, whose QR verification page (public) says genuine."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from ecqs.documents import rules as document_rules
from ecqs.documents.samples import sample_pdf
from ecqs.extensions import db
from ecqs.licences import documents as licence_documents
from ecqs.licences import form as licence_form
from ecqs.models import LicenceApplication, LicenceReviewFeedback
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
    wait_for_url,
)
from tests.conftest import PASSWORD
from tests.licences.fixtures import item

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CAT = "特种设备生产单位许可"
SEED_COLUMNS = ["申请号", "申请类别", "许可类型", "申请项目", "申请状态", "提交时间", "提交机构"]
# What the enterprise writes on each page of the 许可申请书 (the basic page is partly prefilled
# from the registration; these complete it).
FORM_VALUES = {
    "address": "西安市雁塔区科技路 18 号",
    "postcode": "710065",
    "legal_rep": "赵法人",
    "email": "zhiliang@example.cn",
    "production_address": "西安市高陵区泾河工业园 6 号",
    "floor_area": "3200",
    "main_equipment": "数控车床 6 台\n加工中心 2 台",
    "test_equipment": "安全阀校验台 2 台",
    "technical_lead": "钱技术",
    "quality_engineer": "孙质保",
    "employees": "86",
    "technicians": "14",
    "certified_workers": "22",
    "manual_version": "A/0",
    "quality_policy": "质量第一，安全至上",
    "product_name": "弹簧全启式安全阀",
    "product_model": "A42Y-16C DN50",
    "performance": "近三年共生产安全阀 1.2 万台",
    "remarks": "无",
    "signatory": "赵法人",
}


def fill_page(page, key: str, today) -> None:
    """Fill the fields of the wizard page `key` that are still empty, as a person would."""
    form_page = licence_form.page(key)
    for field in form_page.fields:
        selector = f"#wizard-form [name={field.name}]"
        if field.kind == "checkbox":
            page.check(selector)
            continue
        if page.input_value(selector).strip():
            continue
        value = today.isoformat() if field.kind == "date" else FORM_VALUES[field.name]
        page.fill(selector, value)


def upload_documents(page, requirements, folder, artifacts) -> None:
    """On the wizard's 申请材料 page: one PDF per required document, uploaded as a person would."""
    for requirement in requirements:
        path = folder / f"{requirement.name}.pdf"
        path.write_bytes(sample_pdf(f"document {requirement.id}"))
        row = page.locator(f"#documents-table tr[data-requirement='{requirement.id}']")
        row.locator("input[type=file]").set_input_files(str(path))
        with page.expect_navigation():
            row.locator("button.upload-document").click()
        expect_flash(page, "申请材料已上传", artifacts)
        assert (
            path.name
            in page.locator(f"#documents-table tr[data-requirement='{requirement.id}']").inner_text()
        )


def test_enterprise_applies_with_one_correction_round_to_a_verified_licence(
    page, browser, live_server, artifacts, world, tmp_path, document_catalogue_loaded
):
    base = live_server
    world.enterprise_org.address = "西安市雁塔区科技路 18 号"  # demo-like registration data
    world.enterprise.real_name = "赵经理"
    db.session.commit()
    today = workdays.today()
    enterprise, reviewer, assessor = (
        world.enterprise.username,
        world.sn_reviewer.username,
        world.assessor.username,
    )
    assessor_org_id, enterprise_name = world.assessor_org.id, world.enterprise_org.name
    valve_id, boiler_id = item("安全阀", "B").id, item("锅炉", "A").id
    # The review starts today, so the assessor may report at once (never before the review).
    review_start, review_end = today, today + timedelta(days=1)
    licence_number = "TS2161001-2030"
    valid_until = today + timedelta(days=4 * 365)
    report = tmp_path / "评审报告.png"
    report.write_bytes(tiny_png())
    needed = [r for r in document_rules.requirements("licence", "制造", "first") if r.required]
    manual_id = next(r.id for r in needed if r.name == "质量保证手册")
    photo = tmp_path / "营业执照副本.png"
    photo.write_bytes(tiny_png())
    db.session.rollback()

    # 1. The enterprise starts the application: category, type, items; the authority is shown.
    login(page, base, "enterprise", enterprise, PASSWORD)
    open_menu(page, "生产企业许可申请", category=CAT)
    page.wait_for_url(re.compile(r".*/admin/licence_apply/$"))
    page.check("#category-first")
    page.select_option("#licence_type", "制造")
    page.check(f"#item-{boiler_id}")  # a national item: the authority becomes SAMR
    assert page.inner_text("#authority-name") == "国家市场监督管理总局"
    page.uncheck(f"#item-{boiler_id}")
    page.check(f"#item-{valve_id}")
    assert page.inner_text("#authority-name") == "陕西省市场监督管理局"
    submit_and_wait(page, "#create-application", r".*/licence_apply/\d+/basic$", artifacts)
    expect_flash(page, "审批机关：陕西省市场监督管理局", artifacts)
    db.session.rollback()
    application = db.session.execute(
        select(LicenceApplication).where(LicenceApplication.organization_id == world.enterprise_org.id)
    ).scalar_one()
    app_id, number = application.id, application.number
    assert (application.status, application.category, application.licence_type) == ("draft", "first", "制造")
    assert [i.id for i in application.items] == [valve_id]
    db.session.rollback()

    # 2. The pages of the 许可申请书: the first saved as a draft and printed, then page by page.
    assert page.input_value("#company_name") == enterprise_name  # prefilled from registration
    fill_page(page, "basic", today)
    page.click("#save-draft")
    expect_flash(page, "“申请单位基本情况”已保存", artifacts)
    assert page.locator("#wizard-pages [data-page=basic] [data-complete]").count() == 1
    with page.context.expect_page() as printed:
        page.click("#print-page")
    print_view = printed.value
    print_view.wait_for_load_state()
    assert print_view.inner_text("#print-page-title") == "申请单位基本情况"
    assert "赵法人" in print_view.inner_text("main") and number in print_view.inner_text("main")
    assert print_view.locator("#print-button").is_visible()
    assert print_view.locator("nav").count() == 0  # a clean page: no menu
    shot(print_view, artifacts, "m2_1_print_current_page.png")
    print_view.close()
    for key in ("basic", "site", "staff", "quality", "products", "documents", "remarks", "declaration"):
        page.wait_for_url(re.compile(rf".*/licence_apply/{app_id}/{key}$"))
        if key == "documents":
            # 申请材料: what is missing is listed; one PDF per required document, and a second
            # file (a PNG) for the business licence.
            missing = page.inner_text("#documents-missing")
            assert "营业执照" in missing and "质量保证手册" in missing
            assert "型式试验报告" not in missing  # optional
            upload_documents(page, needed, tmp_path, artifacts)
            licence_row = page.locator("#documents-table tr[data-name='营业执照']")
            licence_row.locator("input[type=file]").set_input_files(str(photo))
            with page.expect_navigation():
                licence_row.locator("button.upload-document").click()
            licence_files = page.locator("#documents-table tr[data-name='营业执照']").inner_text()
            assert "营业执照.pdf" in licence_files and "营业执照副本.png" in licence_files
            page.locator("#documents-complete").wait_for()
            assert page.locator("#wizard-pages [data-page=documents] [data-complete]").count() == 1
            shot(page, artifacts, "m2_1b_documents_uploaded.png")
        else:
            fill_page(page, key, today)
        page.click("#next-page")
    page.wait_for_url(re.compile(rf".*/licence_apply/{app_id}/submit$"))
    assert page.inner_text("#submit-authority") == "陕西省市场监督管理局"
    page.locator("#submit-ready").wait_for()
    shot(page, artifacts, "m2_2_ready_to_submit.png")
    dialogs = confirm_click(page, "#submit-application")
    assert dialogs and "陕西省市场监督管理局" in dialogs[0]
    expect_flash(page, f"申请 {number} 已提交至 陕西省市场监督管理局", artifacts)
    # The seed's grid (seed 001 §1.6).
    assert grid_headers(page)[: len(SEED_COLUMNS)] == SEED_COLUMNS
    row = page.locator("table.model-list tbody tr", has_text=number).inner_text()
    for expected in ("首次", "制造单位许可", "安全阀B", "已提交", "陕西省市场监督管理局"):
        assert expected in row, (expected, row)
    assert db.session.get(LicenceApplication, app_id).status == "submitted"
    db.session.rollback()
    logout(page)

    # 3. The reviewer of the addressed authority asks for correction with two points.
    login(page, base, "staff", reviewer, PASSWORD)
    page.locator("#inbox a", has_text=number).click()
    wait_for_url(page, rf".*/details/.*id={app_id}.*", "the inbox link", artifacts)
    page.fill("#correction-points", "1. 质量保证手册版本号有误，请更正\n2. 补充生产场地面积说明")
    assert "营业执照.pdf" in page.inner_text("#application-documents")
    page.check(f"#correction-document-{manual_id}")  # the manual must be replaced
    confirm_click(page, "#form-request_correction button[data-action=request_correction]")
    expect_flash(page, "操作成功", artifacts)
    assert page.inner_text("#licence-status") == "待补正"
    db.session.rollback()
    application = db.session.get(LicenceApplication, app_id)
    assert application.status == "correction"
    # The reviewer's own numbering is dropped: the notice numbers its points once.
    assert application.correction_points.splitlines() == [
        "质量保证手册版本号有误，请更正",
        "补充生产场地面积说明",
        "请更换以下申请材料：质量保证手册",
    ]
    assert application.correction_documents == [manual_id]
    db.session.rollback()
    logout(page)

    # 4. The enterprise reads the 补正告知书, corrects the page and resubmits.
    login(page, base, "enterprise", enterprise, PASSWORD)
    open_menu(page, "生产企业许可申请管理", category=CAT)
    row = page.locator("table.model-list tbody tr", has_text=number)
    assert "待补正" in row.inner_text()
    row.locator("a[data-link=notice]").click()
    assert "质量保证手册版本号有误" in page.inner_text("main")
    assert page.locator("#correction-list li").all_inner_texts() == [
        "质量保证手册版本号有误，请更正",
        "补充生产场地面积说明",
        "请更换以下申请材料：质量保证手册",
    ]
    page.go_back()
    page.locator("table.model-list tbody tr", has_text=number).locator("a[data-link=edit]").click()
    page.wait_for_url(re.compile(rf".*/licence_apply/{app_id}/items$"))
    page.click("#wizard-pages [data-page=quality]")  # the page navigation saves and moves
    page.wait_for_url(re.compile(rf".*/licence_apply/{app_id}/quality$"))
    page.fill("#manual_version", "B/1")
    page.click("#wizard-pages [data-page=site]")
    page.wait_for_url(re.compile(rf".*/licence_apply/{app_id}/site$"))
    page.fill("#main_equipment", "数控车床 6 台\n加工中心 2 台\n（生产场地面积 3200 平方米，含装配车间）")
    page.click("#wizard-pages [data-page=submit]")
    page.wait_for_url(re.compile(rf".*/licence_apply/{app_id}/submit$"))
    assert "质量保证手册" in page.inner_text("#submit-problems")  # not replaced yet
    page.click("#wizard-pages [data-page=documents]")
    page.wait_for_url(re.compile(rf".*/licence_apply/{app_id}/documents$"))
    assert "质量保证手册" in page.inner_text("#documents-replace")
    new_manual = tmp_path / "质量保证手册B1版.pdf"
    new_manual.write_bytes(sample_pdf("quality manual B/1"))
    manual_row = page.locator(f"#documents-table tr[data-requirement='{manual_id}']")
    manual_row.locator("input[type=file]").set_input_files(str(new_manual))
    with page.expect_navigation():
        manual_row.locator("button.upload-document").click()
    expect_flash(page, "申请材料已上传", artifacts)
    manual_files = page.locator(f"#documents-table tr[data-requirement='{manual_id}']").inner_text()
    assert "质量保证手册B1版.pdf" in manual_files and "质量保证手册.pdf" not in manual_files
    assert page.locator("#documents-replace").count() == 0
    page.click("#wizard-pages [data-page=submit]")
    page.wait_for_url(re.compile(rf".*/licence_apply/{app_id}/submit$"))
    assert page.inner_text("#submit-application") == "补正后重新提交"
    confirm_click(page, "#submit-application")
    expect_flash(page, f"申请 {number} 已提交至 陕西省市场监督管理局", artifacts)
    db.session.rollback()
    application = db.session.get(LicenceApplication, app_id)
    assert application.status == "submitted"
    assert application.form_data["quality"]["manual_version"] == "B/1"
    assert "3200 平方米" in application.form_data["site"]["main_equipment"]
    db.session.rollback()
    logout(page)

    # 5. The reviewer sees the replaced manual in the history, downloads the new one, and
    # accepts (初审通过), choosing the assessment institution.
    login(page, base, "staff", reviewer, PASSWORD)
    page.locator("#inbox a", has_text=number).click()
    wait_for_url(page, rf".*/details/.*id={app_id}.*", "the inbox link", artifacts)
    history = page.inner_text("#documents-history")
    assert "质量保证手册.pdf" in history and "已被替换" in history
    link = page.locator("#documents-table a.document-link", has_text="质量保证手册B1版.pdf")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "质量保证手册B1版.pdf"
    shot(page, artifacts, "m2_2b_reviewer_documents.png")
    page.select_option("#assessor_org_id", str(assessor_org_id))
    page.fill("#contact_name", "李评审")
    page.fill("#contact_phone", "010-12345678")
    confirm_click(page, "#form-accept button[data-action=accept]")
    expect_flash(page, "操作成功", artifacts)
    assert page.inner_text("#licence-status") == "初审通过"
    logout(page)

    # 6. The enterprise reads the 受理决定书 and engages the institution.
    login(page, base, "enterprise", enterprise, PASSWORD)
    page.locator("#inbox a", has_text=number).click()
    wait_for_url(page, rf".*/details/.*id={app_id}.*", "the inbox link", artifacts)
    page.click("#link-decision")
    decision = page.inner_text("main")
    assert "测试鉴定评审中心" in decision and "李评审" in decision and "010-12345678" in decision
    page.go_back()
    confirm_click(page, "#workflow-actions button[data-action=engage]")
    expect_flash(page, "操作成功", artifacts)
    assert page.inner_text("#licence-status") == "已约请机构"
    logout(page)

    # 7. The assessor proposes review dates.
    login(page, base, "institution", assessor, PASSWORD)
    page.locator("#inbox a", has_text=number).click()
    wait_for_url(page, rf".*/details/.*id={app_id}.*", "the inbox link", artifacts)
    page.fill("#propose_dates-start", review_start.isoformat())
    page.fill("#propose_dates-end", review_end.isoformat())
    with page.expect_navigation():
        page.click("#form-propose_dates button[data-action=propose_dates]")
    expect_flash(page, "操作成功", artifacts)
    db.session.rollback()
    application = db.session.get(LicenceApplication, app_id)
    assert (application.proposed_start, application.proposed_end, application.proposed_by) == (
        review_start,
        review_end,
        "assessor",
    )
    db.session.rollback()
    logout(page)

    # 8. The enterprise confirms them (协商鉴定评审时间).
    login(page, base, "enterprise", enterprise, PASSWORD)
    open_menu(page, "生产企业许可申请管理", category=CAT)
    page.locator("table.model-list tbody tr", has_text=number).locator("a[data-link=negotiate]").click()
    assert review_start.isoformat() in page.inner_text("#pending-proposal")
    confirm_click(page, "#confirm-dates")
    expect_flash(page, "操作成功", artifacts)
    db.session.rollback()
    application = db.session.get(LicenceApplication, app_id)
    assert (application.status, application.review_start, application.review_end) == (
        "scheduled",
        review_start,
        review_end,
    )
    db.session.rollback()
    logout(page)

    # 9. The assessor reads the documents, submits report and conclusion.
    login(page, base, "institution", assessor, PASSWORD)
    page.locator("#inbox a", has_text=number).click()
    wait_for_url(page, rf".*/details/.*id={app_id}.*", "the inbox link", artifacts)
    with page.expect_download() as download:
        page.locator("#documents-table a.document-link", has_text="营业执照.pdf").click()
    assert download.value.suggested_filename == "营业执照.pdf"
    page.set_input_files("#report", str(report))
    page.select_option("#conclusion", "pass")
    page.fill("#form-submit_report textarea[name=comment]", "质量保证体系运转正常，符合许可条件")
    confirm_click(page, "#form-submit_report button[data-action=submit_report]")
    expect_flash(page, "操作成功", artifacts)
    assert page.inner_text("#licence-status") == "评审完成"
    logout(page)

    # 10. The enterprise fills the 评审反馈表.
    login(page, base, "enterprise", enterprise, PASSWORD)
    open_menu(page, "生产企业许可申请管理", category=CAT)
    page.locator("table.model-list tbody tr", has_text=number).locator("a[data-link=feedback]").click()
    page.locator("#feedback-form").wait_for()
    assert page.input_value("#company_name") == enterprise_name
    assert page.input_value("#institution_name") == "测试鉴定评审中心"
    page.get_by_label("其他", exact=True).check()
    page.fill("#reviewers", "周评审、吴评审")
    for question in ("q1", "q2", "q3"):
        page.check(f"input[name={question}][value=no]")
    page.check("input[name=satisfied][value=yes]")
    shot(page, artifacts, "m2_3_feedback_form.png")
    submit_and_wait(page, "#feedback-submit", r".*/admin/licence_applications/.*", artifacts)
    expect_flash(page, "评审反馈表已提交", artifacts)
    db.session.rollback()
    feedback = db.session.execute(
        select(LicenceReviewFeedback).where(LicenceReviewFeedback.application_id == app_id)
    ).scalar_one()
    assert (feedback.reviewers, feedback.review_categories, feedback.satisfied) == (
        "周评审、吴评审",
        "其他",
        True,
    )
    assert not (feedback.q1_has_issue or feedback.q2_has_issue or feedback.q3_has_issue)
    db.session.rollback()
    logout(page)

    # 11. The reviewer reads the feedback and grants the licence.
    login(page, base, "staff", reviewer, PASSWORD)
    page.locator("#inbox a", has_text=number).click()
    wait_for_url(page, rf".*/details/.*id={app_id}.*", "the inbox link", artifacts)
    assert "满意" in page.inner_text("#licence-feedback")
    page.fill("#licence_number", licence_number)
    page.fill("#valid_from", today.isoformat())
    page.fill("#valid_until", valid_until.isoformat())
    confirm_click(page, "#form-grant button[data-action=grant]")
    expect_flash(page, "操作成功", artifacts)
    assert page.inner_text("#licence-status") == "准予许可"
    timeline = page.inner_text("#timeline")
    for step in (
        "补正告知",
        "补正后重新提交",
        "初审通过",
        "提出评审时间",
        "确认评审时间",
        "提交评审报告",
        "准予许可",
    ):
        assert step in timeline, step
    db.session.rollback()
    application = db.session.get(LicenceApplication, app_id)
    assert (application.status, application.licence_number) == ("granted", licence_number)
    assert (application.licence_valid_from, application.licence_valid_until) == (today, valid_until)
    db.session.rollback()
    logout(page)

    # 12. The enterprise sees 准予许可 and the certificate; its QR opens the public check.
    login(page, base, "enterprise", enterprise, PASSWORD)
    assert f"许可证编号 {licence_number}" in page.inner_text("body")  # the in-app notice
    open_menu(page, "生产企业许可申请管理", category=CAT)
    row = page.locator("table.model-list tbody tr", has_text=number)
    assert "准予许可" in row.inner_text()
    row.locator("a[data-link=certificate]").click()
    page.locator("#licence-number").wait_for()
    assert page.inner_text("#licence-number") == licence_number
    assert page.inner_text("#licence-validity") == f"{today.isoformat()} 至 {valid_until.isoformat()}"
    assert "西安市雁塔区科技路 18 号" in page.inner_text("main")
    verify_url = page.inner_text("#verify-url").strip()
    assert verify_url.startswith(f"{base}/verify/licence/")
    assert page.get_attribute("#verify-qr", "src") == licence_documents.qr_data_uri(verify_url)
    assert page.evaluate("document.getElementById('verify-qr').naturalWidth") > 0  # the image renders
    shot(page, artifacts, "m2_4_licence_certificate.png")
    assert not page.js_errors, page.js_errors

    public = browser.new_context(locale="zh-CN")  # a stranger scanning the code: no session
    try:
        check = public.new_page()
        check.goto(verify_url)
        assert "/login" not in check.url
        result = check.locator("#verify-result")
        assert result.get_attribute("data-genuine") == "1" and result.get_attribute("data-current") == "1"
        assert result.inner_text() == "该许可证真实有效"
        details = check.inner_text("#verify-details")
        assert licence_number in details and enterprise_name in details and "安全阀B" in details
        shot(check, artifacts, "m2_5_public_verification.png")
    finally:
        public.close()
