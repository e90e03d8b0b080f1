"""Seed 004 §3.3 and §4 in a real browser (M4 part 2): the unit's admin searches a certificate
holder in 新建注册申报单, sees the type 初始, creates the application, prints the form, requests
the practitioner's SMS code (after the three-factor check), uploads the signed form with the
code; association staff approve it in 执业公示审核 and the registration is published."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ecqs.extensions import db
from ecqs.models import PractitionerRegistration, PublicityApplication, SmsMessage
from tests.browser.flow_helpers import (
    confirm_click,
    expect_flash,
    login,
    logout,
    open_menu,
    tiny_png,
    wait_for_url,
)
from tests.conftest import PASSWORD, make_user
from tests.registry.application_fixtures import holder, qualified_unit

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _sms_code(mobile: str) -> str:
    db.session.rollback()
    body = db.session.execute(
        select(SmsMessage.body).where(SmsMessage.mobile == mobile).order_by(SmsMessage.id.desc()).limit(1)
    ).scalar()
    db.session.rollback()
    assert body, f"no SMS for {mobile}"
    return re.search(r"\d{6}", body).group(0)


def test_publicity_application_from_search_to_published_registration(page, live_server, artifacts, tmp_path):
    base = live_server
    unit = qualified_unit(name="河北渤海石油装备检验有限公司")
    person = holder(name="张振", codes=("RT-II", "RT-III"))
    staff = make_user("association")
    unit_username, staff_username = unit.admin.username, staff.username
    name, id_number, mobile = person.real_name, person.id_number, person.mobile
    db.session.commit()
    form = tmp_path / "申报单.png"
    form.write_bytes(tiny_png())

    # 1. 人员检索: the system decides the type and shows the items (highest level only).
    login(page, base, "institution", unit_username, PASSWORD)
    open_menu(page, "新建注册申报单", "注册申报管理")
    page.fill("#name", name)
    page.fill("#id_number", id_number)
    page.click("#search-person")
    page.locator("#detected-kind").wait_for()
    assert page.get_attribute("#detected-kind", "data-kind") == "initial"
    assert "初始" in page.inner_text("#candidate-table")
    items = page.inner_text("#item-table")
    assert "RT-III" in items and "RT-II\t" not in items

    # 2. Create after the declaration.
    page.check("#consent")
    page.click("#create-application")
    wait_for_url(page, r".*/admin/publicity_applications/details/.*", "创建申报单", artifacts)
    expect_flash(page, "已创建", artifacts)
    db.session.rollback()
    application = db.session.execute(
        select(PublicityApplication).where(PublicityApplication.id_number == id_number)
    ).scalar_one()
    number, app_id = application.number, application.id
    db.session.rollback()

    # 3. The grid with the seed's columns and the 7-day countdown, then the printable form.
    open_menu(page, "执业公示申报单", "注册申报管理")
    grid = page.inner_text("table.model-list")
    for heading in (
        "申报单号",
        "申报人姓名",
        "申报人身份证",
        "注册类型",
        "申报日期",
        "倒计时",
        "审核结果",
        "审核状态",
    ):
        assert heading in grid, heading
    assert number in grid and "7天" in grid
    page.click(f"a[data-print-link='{number}']")
    wait_for_url(page, rf".*/admin/publicity_applications/print/{app_id}$", "打印", artifacts)
    sheet = page.inner_text("main")
    for text in (number, name, id_number, "执业人签字", "单位授权人签字", "单位公章", "RT-III"):
        assert text in sheet, text
    page.go_back()

    # 4. Upload: the three-factor check passes (the person's own account), the code goes out.
    page.click(f"a[data-upload-link='{number}']")
    wait_for_url(page, rf".*/admin/publicity_applications/upload/{app_id}$", "上传", artifacts)
    assert "三要素" in page.inner_text("#three-factor-notice")
    page.click("#send-code")
    expect_flash(page, "短信验证码已发送", artifacts)
    assert page.get_attribute("#three-factor-state", "data-state") == "passed"
    page.set_input_files("#form_file", str(form))
    page.fill("#code", _sms_code(mobile))
    confirm_click(page, "#submit-upload")
    expect_flash(page, "已提交审核", artifacts)
    logout(page)

    # 5. Association staff approve in 执业公示审核: the registration is published.
    login(page, base, "staff", staff_username, PASSWORD)
    open_menu(page, "执业公示审核", "执业单位审核")
    page.locator("tr", has_text=number).locator("a[href*='/details/']").first.click()
    wait_for_url(page, rf".*/admin/publicity_review/details/.*id={app_id}.*", "details", artifacts)
    assert "RT-III" in page.inner_text("#application-items")
    confirm_click(page, "#workflow-actions button:has-text('审核通过')")
    expect_flash(page, "操作成功", artifacts)
    db.session.rollback()
    registration = db.session.execute(
        select(PractitionerRegistration).where(PractitionerRegistration.id_number == id_number)
    ).scalar_one()
    assert (
        registration.status == "registered"
        and registration.organization.name == "河北渤海石油装备检验有限公司"
    )
    assert [item.project_code for item in registration.items] == ["RT-III"]
    reg_number = registration.number
    db.session.rollback()
    logout(page)

    # 6. The public query 执业公示查询 (no login) finds the published registration, ID masked.
    page.goto(f"{base}/")
    page.click("#home-practitioner-query")
    page.fill("#q-name", name)
    page.fill("#q-id-number", id_number)
    page.click("#q-submit")
    page.wait_for_load_state()
    result = page.inner_text("#practitioner-result")
    assert reg_number in result and "已注册" in result and "河北渤海石油装备检验有限公司" in result
    assert "RT-III" in result
    assert id_number not in page.content()
    assert not page.js_errors, page.js_errors
