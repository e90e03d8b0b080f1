"""Seed 004 §3.3.4 end to end in a real browser (M4 part 2): the unit selects registered
practitioners in 注册证书注销申请 with a reason each, prints the request (stamp box), uploads the
stamped scan with a courier number; association staff approve it from 注销审核; the person is
已注销, the unit's count drops, and the public 执业公示查询 (no login) shows the person 已注销.
The publicity certificate's QR link opens the same result without login."""

from __future__ import annotations

import re

import pytest

from ecqs.extensions import db
from ecqs.models import PractitionerDeregistration, PractitionerRegistration
from tests.browser.flow_helpers import (
    confirm_click,
    expect_flash,
    fresh,
    login,
    logout,
    open_menu,
    tiny_png,
    wait_for_url,
)
from tests.conftest import PASSWORD, make_user
from tests.registry.fixtures import add_branch, make_unit, register_person

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_deregistration_from_selection_to_public_query(page, live_server, artifacts, tmp_path):
    base = live_server
    unit = make_unit(name="西安浏览器检验有限公司")
    branch = add_branch(unit, "宝鸡分院")
    leaving = register_person(unit.org, real_name="张振")
    at_branch = register_person(branch, real_name="盛凌")
    staying = register_person(unit.org, real_name="石登山")
    staff = make_user("association")
    db.session.commit()
    unit_username, staff_username = unit.admin.username, staff.username
    leaving_id, leaving_number, leaving_name, leaving_idn = (
        leaving.id,
        leaving.number,
        leaving.person_name,
        leaving.id_number,
    )
    branch_reg_id, staying_id = at_branch.id, staying.id
    db.session.rollback()
    scan = tmp_path / "盖章申请表.png"
    scan.write_bytes(tiny_png())

    # 1. The unit: home count, then 注册证书管理 → 注册证书注销申请 → 新增.
    login(page, base, "institution", unit_username, PASSWORD)
    assert page.inner_text("#publicised-count") == "3"
    open_menu(page, "注册证书注销申请", "注册证书管理")
    page.click("a:has-text('新增')")
    wait_for_url(page, r".*/admin/unit_deregistrations/new/.*", "新增", artifacts)
    rows = page.locator("#deregistration-candidates tbody tr")
    assert rows.count() == 3
    page.check(f"#pick-{leaving_id}")
    page.fill(f"input[name=reason_{leaving_id}]", "已与本单位解除劳动合同")
    page.fill("#contact_name", "唐建")
    page.fill("#contact_phone", "0318-5708007")
    confirm_click(page, "#deregistration-submit")
    expect_flash(page, "注销申请已创建", artifacts)
    wait_for_url(page, r".*/admin/unit_deregistrations/details/.*", "申请注销", artifacts)
    assert "已与本单位解除劳动合同" in page.inner_text("#deregistration-people")
    db.session.rollback()
    request = db.session.query(PractitionerDeregistration).one()
    request_id, request_number = request.id, request.number
    db.session.rollback()

    # 2. Print the request: a clean page with the stamp box.
    page.click("#print-deregistration")
    wait_for_url(page, r".*/admin/unit_deregistrations/print/.*", "打印申请", artifacts)
    assert page.locator("#stamp-box").is_visible()
    assert leaving_name in page.inner_text("#print-people")
    assert page.locator("nav").count() == 0  # nothing but the sheet
    page.click("#print-back")

    # 3. Upload the stamped scan and the courier number (上传申请表).
    wait_for_url(page, r".*/admin/unit_deregistrations/details/.*", "返回", artifacts)
    page.set_input_files("#workflow-actions input[name=scan]", str(scan))
    page.fill("#workflow-actions input[name=courier_number]", "SF1402876543")
    confirm_click(page, "#workflow-actions button:has-text('上传申请表')")
    expect_flash(page, "操作成功", artifacts)
    assert fresh(PractitionerDeregistration, request_id).status == "submitted"
    db.session.rollback()
    logout(page)

    # 4. Staff approve it from 注销审核.
    login(page, base, "staff", staff_username, PASSWORD)
    open_menu(page, "注销审核", "执业单位审核")
    page.locator("tr", has_text=request_number).locator("a[href*='/details/']").first.click()
    wait_for_url(page, rf".*/admin/deregistration_review/details/.*id={request_id}.*", "details", artifacts)
    assert "SF1402876543" in page.inner_text("body")
    confirm_click(page, "#workflow-actions button:has-text('审核通过')")
    expect_flash(page, "操作成功", artifacts)
    assert fresh(PractitionerRegistration, leaving_id).status == "deregistered"
    assert fresh(PractitionerRegistration, branch_reg_id).status == "registered"
    assert fresh(PractitionerRegistration, staying_id).status == "registered"
    db.session.rollback()
    logout(page)

    # 5. The unit's count dropped; the certificate's QR link of another person opens its result.
    login(page, base, "institution", unit_username, PASSWORD)
    assert page.inner_text("#publicised-count") == "2"
    open_menu(page, "注册人员证书查询", "注册证书管理")
    page.locator("a[data-certificate]").first.click()
    wait_for_url(page, r".*/admin/unit_certificates/certificate/.*", "打印证书", artifacts)
    assert page.locator("#verify-qr").is_visible()
    verify_url = page.inner_text("#verify-url")
    page.click("#print-back")
    logout(page)
    page.goto(verify_url)
    assert page.locator("#verify-result").get_attribute("data-genuine") == "1"

    # 6. The public query (no login) shows the deregistered person 已注销, the ID masked.
    page.goto(f"{base}/")
    page.click("#home-practitioner-query")
    page.fill("#q-name", leaving_name)
    page.fill("#q-id-number", leaving_idn)
    page.click("#q-submit")
    page.wait_for_load_state()
    result = page.inner_text("#practitioner-result")
    assert leaving_number in result and "已注销" in result
    assert leaving_idn not in page.content()
    assert re.search(r"\d{3}\*+\w{3}", result)
    assert not page.js_errors, page.js_errors
