"""Seed 004 end to end in a real browser (M4 part 1): a new inspection unit registers through the
four steps of §2.1, association staff approve it from 单位注册审核, the unit's admin logs in,
finds the seed's left menu and files a change request 单位信息变更 with a proof upload; staff
approve it and the unit's name changes."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from stdnum.cn import ric

from ecqs.extensions import db
from ecqs.models import Organization, SmsMessage, UnitChangeRequest
from tests.browser.flow_helpers import (
    confirm_click,
    expect_flash,
    login,
    logout,
    open_menu,
    submit_and_wait,
    tiny_png,
    wait_for_url,
)
from tests.conftest import PASSWORD, make_mobile, make_uscc, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UNIT_PASSWORD = "Danwei@2026Xian"


def _id_number(serial: int) -> str:
    first17 = f"61011319900101{serial % 1000:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")


def _sms_code(mobile: str) -> str:
    db.session.rollback()
    body = db.session.execute(
        select(SmsMessage.body).where(SmsMessage.mobile == mobile).order_by(SmsMessage.id.desc()).limit(1)
    ).scalar()
    db.session.rollback()
    assert body, f"no SMS for {mobile}"
    return re.search(r"\d{6}", body).group(0)


def test_unit_registers_is_approved_and_files_a_change_request(page, live_server, artifacts, tmp_path):
    base = live_server
    staff = make_user("association")
    staff_username = staff.username
    db.session.commit()
    uscc, mobile = make_uscc(), make_mobile()
    username = f"unit{mobile[-6:]}"
    name = "西安浏览器电梯检测有限公司"
    licence = tmp_path / "营业执照.png"
    licence.write_bytes(tiny_png())
    proof = tmp_path / "变更证明.png"
    proof.write_bytes(tiny_png())

    # 1. The four steps of seed 004 §2.1.
    page.goto(f"{base}/register/unit")
    page.fill("#name", name)
    page.fill("#uscc", uscc)
    page.fill("#legal_rep_name", "王霓")
    page.select_option("#province", label="陕西省")
    page.locator("#city option", has_text="西安市").wait_for(state="attached")
    page.select_option("#city", label="西安市")
    page.locator("#county option", has_text="雁塔区").wait_for(state="attached")
    page.select_option("#county", label="雁塔区")
    page.fill("#address", "雁塔路 2 号")
    page.fill("#postcode", "710061")
    page.fill("#phone", "029-88880000")
    submit_and_wait(page, "button:has-text('下一步')", r".*/register/unit/cert$", artifacts)
    page.set_input_files("#licence", str(licence))
    submit_and_wait(page, "button:has-text('下一步')", r".*/register/unit/qualifications$", artifacts)
    page.fill("#name", "电梯检验检测")
    page.fill("#number", "TS7161009-2030")
    page.fill("#issued_on", (date.today() - timedelta(days=30)).isoformat())
    page.fill("#valid_until", (date.today() + timedelta(days=1000)).isoformat())
    page.click("button:has-text('增加资质')")
    page.locator("td", has_text="TS7161009-2030").wait_for()
    submit_and_wait(page, "button[value=next]", r".*/register/unit/contact$", artifacts)
    page.fill("#contact_name", "唐建")
    page.fill("#contact_id_number", _id_number(31))
    page.fill("#email", "tangjian@example.com")
    page.fill("#contact_position", "质量负责人")
    page.fill("#mobile", mobile)
    page.click("[data-sms-send]")
    page.locator("[data-sms-status]").filter(has_text="验证码已发送").wait_for()
    page.fill("#sms_code", _sms_code(mobile))
    page.fill("#username", username)
    page.fill("#password", UNIT_PASSWORD)
    page.fill("#password_confirm", UNIT_PASSWORD)
    submit_and_wait(page, "button:has-text('完成注册')", r".*/login$", artifacts)
    assert "三个工作日" in page.inner_text("body")
    db.session.rollback()
    org = db.session.execute(select(Organization).where(Organization.uscc == uscc)).scalar_one()
    org_id = org.id
    assert (org.kind, org.status, len(org.qualifications)) == ("unit", "pending", 1)
    db.session.rollback()

    # 2. Association staff approve it from 单位注册审核 (deadline column shown).
    login(page, base, "staff", staff_username, PASSWORD)
    open_menu(page, "单位注册审核", "执业单位审核")
    assert "审核期限" in page.inner_text("table.model-list")
    page.locator("tr", has_text=name).locator("a[href*='/details/']").first.click()
    wait_for_url(page, rf".*/admin/unit_registrations/details/.*id={org_id}.*", "details", artifacts)
    confirm_click(page, "#workflow-actions button:has-text('审核通过')")
    expect_flash(page, "操作成功", artifacts)
    logout(page)
    db.session.rollback()
    assert db.session.get(Organization, org_id).status == "approved"
    db.session.rollback()

    # 3. The unit's admin finds the seed's menu and files a change request with a proof.
    login(page, base, "institution", username, UNIT_PASSWORD)
    body = page.inner_text("body")
    assert "单位首页" in body
    open_menu(page, "单位信息变更", "单位信息管理")
    page.click("a:has-text('新增')")
    wait_for_url(page, r".*/admin/unit_changes/new/.*", "新增", artifacts)
    assert page.input_value("#name") == name  # current values prefilled
    page.fill("#name", "西安浏览器电梯检验检测有限公司")
    page.set_input_files("#proof", str(proof))
    page.click("input[type=submit][value='保存'], button:has-text('保存')")
    page.wait_for_load_state()
    db.session.rollback()
    row = db.session.execute(
        select(UnitChangeRequest).where(UnitChangeRequest.organization_id == org_id)
    ).scalar()
    assert row is not None, page.inner_text("body")[:500]
    number, row_id = row.number, row.id
    db.session.rollback()
    logout(page)

    # 4. Staff approve the change; the unit's name changes.
    login(page, base, "staff", staff_username, PASSWORD)
    page.goto(f"{base}/admin/unit_change_review/details/?id={row_id}")
    assert number in page.inner_text("body")
    assert "希望变更为" in page.inner_text("#change-comparison")
    confirm_click(page, "#workflow-actions button:has-text('审核通过')")
    expect_flash(page, "操作成功", artifacts)
    db.session.rollback()
    assert db.session.get(Organization, org_id).name == "西安浏览器电梯检验检测有限公司"
    db.session.rollback()
    assert not page.js_errors, page.js_errors
