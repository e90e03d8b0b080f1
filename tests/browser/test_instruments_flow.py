"""Seed 003 end to end in a real browser (M1, compulsory-verification instruments): an enterprise
adds the manual's 压力表 to its ledger (强检器具台账维护 → 新增, every field as in the manual),
books it (强检器具预约申请 → 新增 → 提交申请); the metrology institution authorised for 西安市
accepts it (预约受理 → 受理) and records the result (检定结果录入: 合格, certificate number,
date, new 有效期至); the enterprise's ledger shows the new 有效期至."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from ecqs.extensions import db
from ecqs.models import Booking, BookingItem, Instrument
from ecqs.services import workdays
from tests.browser.flow_helpers import (
    confirm_click,
    expect_flash,
    login,
    logout,
    open_menu,
    shot,
    submit_and_wait,
    wait_for_url,
)
from tests.conftest import PASSWORD, make_org, make_user
from tests.instruments.fixtures import authorise, kind

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CAT = "强制检定工作计量器具业务管理系统"


def test_enterprise_adds_and_books_a_pressure_gauge_institution_verifies_it(
    page, live_server, artifacts, instrument_kinds
):
    base = live_server
    today = workdays.today()
    first_valid_until = today + timedelta(days=20)  # due soon: the reason to book it
    new_valid_until = today + timedelta(days=182)
    verified_on = today - timedelta(days=1)
    enterprise_org = make_org(
        "enterprise",
        name="西安示范锅炉制造有限公司",
        division_code="610113",
        address="西安市雁塔区科技路 1 号",
    )
    enterprise = make_user("enterprise", org=enterprise_org, real_name="刘台账")
    institution = make_org(
        "metrology",
        name="陕西省计量科学研究院",
        division_code="610000",
        address="西安市未央区经开区",
        phone="029-86123456",
    )
    metrology = make_user("metrology", org=institution, real_name="陈检定")
    authorise(institution, kind("0101"), "610100")  # 指示类压力表 in 西安市
    enterprise_username, metrology_username, org_id = (
        enterprise.username,
        metrology.username,
        enterprise_org.id,
    )
    db.session.rollback()

    # 1. The enterprise adds the 压力表 exactly as the manual shows it.
    login(page, base, "enterprise", enterprise_username, PASSWORD)
    open_menu(page, "强检器具台账维护", category=CAT)
    page.wait_for_url(re.compile(r".*/admin/instruments/.*"))
    page.locator("a[href*='/admin/instruments/new/']").first.click()
    page.wait_for_url(re.compile(r".*/admin/instruments/new/.*"))
    page.fill("#name", "压力表")
    page.select_option("#instrument_type", label="工作计量器具")
    page.select_option("#item_id", label="压力仪表（01）")
    page.select_option("#kind_id", label="指示类压力表（0101）")
    page.fill("#model_spec", "(0-1) MPa")
    page.fill("#measuring_range", "(0-1) MPa")
    page.fill("#accuracy_class", "1.6")
    page.fill("#serial_no", "HY37")
    page.fill("#manufacturer", "上海银普仪表有限公司")
    page.select_option("#origin", label="国产")
    page.select_option("#usage_division_code-1", label="陕西省")
    page.locator("#usage_division_code-2 option", has_text="西安市").wait_for(state="attached")
    page.select_option("#usage_division_code-2", label="西安市")
    page.locator("#usage_division_code-3 option", has_text="雁塔区").wait_for(state="attached")
    page.select_option("#usage_division_code-3", label="雁塔区")
    page.fill("#usage_place", "锅炉房")
    page.fill("#quantity", "1")
    page.select_option("#purpose", label="安全防护")
    page.select_option("#delivery_mode", label="送检")
    page.fill("#valid_until", first_valid_until.isoformat())
    shot(page, artifacts, "m1_1_add_pressure_gauge.png")
    submit_and_wait(
        page,
        "form.admin-form input[type=submit][value=保存]",
        r".*/admin/instruments/(\?.*)?$",
        artifacts,
    )

    db.session.rollback()
    gauge = db.session.execute(select(Instrument).where(Instrument.organization_id == org_id)).scalar_one()
    gauge_id = gauge.id
    assert (gauge.name, gauge.instrument_type, gauge.kind.code, gauge.kind.item.name) == (
        "压力表",
        "working",
        "0101",
        "压力仪表",
    )
    assert (gauge.model_spec, gauge.measuring_range, gauge.accuracy_class, gauge.serial_no) == (
        "(0-1) MPa",
        "(0-1) MPa",
        "1.6",
        "HY37",
    )
    assert (gauge.manufacturer, gauge.origin, gauge.usage_division_code, gauge.usage_place) == (
        "上海银普仪表有限公司",
        "domestic",
        "610113",
        "锅炉房",
    )
    assert (gauge.quantity, gauge.purpose, gauge.delivery_mode, gauge.valid_until, gauge.status) == (
        1,
        "safety",
        "send",
        first_valid_until,
        "in_use",
    )
    db.session.rollback()
    row = page.locator("table.model-list tbody tr", has_text="HY37")
    assert first_valid_until.isoformat() in row.inner_text()
    assert "row-due-soon" in (row.get_attribute("class") or "")  # yellow: due within 30 days

    # 2. 强检器具预约申请: 新增 → choose the gauge → 提交申请.
    open_menu(page, "强检器具预约申请", category=CAT)
    page.click("#booking-new")
    page.wait_for_url(re.compile(r".*/admin/bookings/choose/.*"))
    page.check(f"#choose-{gauge_id}")
    page.click("#booking-submit")
    wait_for_url(page, r".*/admin/bookings/details/.*", "提交申请", artifacts)
    expect_flash(page, "预约申请已提交，1 件器具已分配至计量技术机构", artifacts)
    receipt = page.locator("#booking-items tbody tr", has_text="HY37").inner_text()
    assert "陕西省计量科学研究院" in receipt and "待受理" in receipt and "029-86123456" in receipt
    db.session.rollback()
    booking = db.session.execute(select(Booking).where(Booking.organization_id == org_id)).scalar_one()
    item = booking.items[0]
    item_id, booking_number = item.id, booking.number
    assert (booking.status, item.status, item.institution_id) == ("submitted", "allocated", institution.id)
    db.session.rollback()
    logout(page)

    # 3. The institution accepts it (预约受理 → 受理).
    login(page, base, "institution", metrology_username, PASSWORD)
    open_menu(page, "预约受理")
    page.wait_for_url(re.compile(r".*/admin/booking_acceptance/.*"))
    row = page.locator("table.model-list tbody tr", has_text="HY37")
    assert booking_number in row.inner_text() and "待受理" in row.inner_text()
    row.locator("a[href*='/details/']").first.click()
    page.wait_for_url(re.compile(rf".*/admin/booking_acceptance/details/.*id={item_id}.*"))
    confirm_click(page, "#workflow-actions button[data-action=accept]")
    expect_flash(page, "操作成功", artifacts)
    assert db.session.get(BookingItem, item_id).status == "accepted"
    db.session.rollback()

    # 4. 检定结果录入: 合格, certificate number, date, new 有效期至.
    open_menu(page, "检定结果录入")
    page.wait_for_url(re.compile(r".*/admin/verification_results/.*"))
    row = page.locator("table.model-list tbody tr", has_text="HY37")
    row.locator("a[href*='/result/']").first.click()
    page.wait_for_url(re.compile(r".*/admin/verification_results/result/.*"))
    page.select_option("#result", label="合格")
    page.fill("#certificate_no", "SXJL-2026-0037")
    page.fill("#verified_on", verified_on.isoformat())
    page.fill("#valid_until", new_valid_until.isoformat())
    shot(page, artifacts, "m1_2_record_result.png")
    submit_and_wait(page, "#result-submit", r".*/admin/verification_results/(\?.*)?$", artifacts)
    expect_flash(page, "检定结果已录入", artifacts)
    db.session.rollback()
    item = db.session.get(BookingItem, item_id)
    assert (item.status, item.result, item.certificate_no) == ("verified", "qualified", "SXJL-2026-0037")
    assert (item.verified_on, item.new_valid_until) == (verified_on, new_valid_until)
    assert db.session.get(Instrument, gauge_id).valid_until == new_valid_until
    db.session.rollback()
    logout(page)

    # 5. The enterprise's ledger shows the new 有效期至 (no longer yellow); the receipt the result.
    login(page, base, "enterprise", enterprise_username, PASSWORD)
    open_menu(page, "强检器具台账维护", category=CAT)
    row = page.locator("table.model-list tbody tr", has_text="HY37")
    text = row.inner_text()
    assert new_valid_until.isoformat() in text and first_valid_until.isoformat() not in text
    assert "row-due-soon" not in (row.get_attribute("class") or "")
    shot(page, artifacts, "m1_3_ledger_new_expiry.png")
    open_menu(page, "强检器具预约申请", category=CAT)
    page.locator("table.model-list tbody tr", has_text=booking_number).locator(
        "a[href*='/details/']"
    ).first.click()
    receipt = page.locator("#booking-items tbody tr", has_text="HY37").inner_text()
    assert "已检定" in receipt and "合格" in receipt and "SXJL-2026-0037" in receipt
    assert not page.js_errors, page.js_errors
