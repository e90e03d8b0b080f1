"""检定结果录入 in batches in a real browser (issue 11): the institution selects three accepted
pressure gauges in its grid, chooses 选中的 → 批量录入检定结果, sees 检定日期 defaulting to
today and each item's 有效期至 proposed from the kind's 检定周期 (6 months), changes one date,
types a certificate number per item, confirms, and the enterprise's receipt shows the results
with the institution's contact and phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from ecqs import workflows
from ecqs.extensions import db
from ecqs.instruments import results as batch_results
from ecqs.models import BookingItem
from ecqs.services import workdays
from tests.browser.flow_helpers import confirm_click, expect_flash, login, logout, open_menu, shot
from tests.conftest import PASSWORD, make_org, make_user
from tests.instruments.fixtures import authorise, kind, make_booking, make_instrument

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_institution_records_one_result_for_several_items(page, live_server, artifacts, instrument_kinds):
    base = live_server
    today = workdays.today()
    enterprise_org = make_org("enterprise", name="西安示范锅炉制造有限公司", division_code="610113")
    enterprise = make_user("enterprise", org=enterprise_org)
    institution = make_org(
        "metrology",
        name="陕西省计量科学研究院",
        division_code="610000",
        address="西安市未央区凤城八路 1 号",
        phone="029-86000007",
    )
    institution.contact_name = "李检定"
    metrology = make_user("metrology", org=institution)
    authorise(institution, kind("0101"), "610000")
    gauges = [make_instrument(enterprise_org, serial_no=f"PL-{i}") for i in range(3)]
    booking = make_booking(enterprise_org, gauges, user=enterprise)
    workflows.transition(booking, "submit", enterprise)
    for item in booking.items:
        workflows.transition(item, "accept", metrology)
    db.session.commit()
    item_ids = [i.id for i in booking.items]
    booking_items = list(booking.items)
    proposal = batch_results.proposed_valid_until(booking.items[0], today)
    changed = today + timedelta(days=90)
    booking_id, enterprise_username, metrology_username = booking.id, enterprise.username, metrology.username
    db.session.rollback()

    # 1. 检定结果录入: select the three gauges, 选中的 → 批量录入检定结果.
    login(page, base, "institution", metrology_username, PASSWORD)
    open_menu(page, "检定结果录入")
    page.wait_for_url(re.compile(r".*/admin/verification_results/.*"))
    for item_id in item_ids:
        page.check(f"input.action-checkbox[value='{item_id}']")
    page.locator("a.dropdown-toggle", has_text="选中的").first.click()
    page.click("a[data-model-action=batch_result]")
    page.wait_for_selector("#batch-result-form")
    page.wait_for_load_state("load")  # ecqs.js binds the 检定日期 listener once the page has loaded
    assert page.input_value("#batch-verified-on") == today.isoformat()
    for item_id in item_ids:
        until = page.input_value(f"input[name=valid_until_{item_id}]")
        assert until == proposal.isoformat()  # 6 months from today, the day before
    # A 检定日期 of yesterday moves the proposals with it (the server proposes the same).
    yesterday = today - timedelta(days=1)
    page.fill("#batch-verified-on", yesterday.isoformat())
    page.dispatch_event("#batch-verified-on", "change")
    proposal = batch_results.proposed_valid_until(booking_items[0], yesterday)
    for item_id in item_ids:
        assert page.input_value(f"input[name=valid_until_{item_id}]") == proposal.isoformat()
    page.select_option("#batch-result", label="合格")
    for n, item_id in enumerate(item_ids):
        page.fill(f"input[name=certificate_no_{item_id}]", f"SXJL-2026-{n:04d}")
    page.fill(f"input[name=valid_until_{item_ids[2]}]", changed.isoformat())
    shot(page, artifacts, "m1_batch_1_form.png")
    dialogs = confirm_click(page, "#batch-submit")
    assert dialogs == ["确定为以上 3 件器具录入检定结果吗？"]
    expect_flash(page, "已录入 3 件器具的检定结果", artifacts)
    db.session.rollback()
    items = [db.session.get(BookingItem, i) for i in item_ids]
    assert [i.status for i in items] == ["verified"] * 3
    assert [i.certificate_no for i in items] == ["SXJL-2026-0000", "SXJL-2026-0001", "SXJL-2026-0002"]
    assert [i.new_valid_until for i in items] == [proposal, proposal, changed]
    assert {i.verified_on for i in items} == {yesterday}
    assert items[2].instrument.valid_until == changed
    db.session.rollback()
    shot(page, artifacts, "m1_batch_2_done.png")
    logout(page)

    # 2. The enterprise's receipt: results, and the institution's contact, phone and address.
    login(page, base, "enterprise", enterprise_username, PASSWORD)
    page.goto(f"{base}/admin/bookings/details/?id={booking_id}")
    row = page.locator("#booking-items tbody tr", has_text="PL-2")
    assert "已检定" in row.inner_text() and "SXJL-2026-0002" in row.inner_text()
    assert row.locator(".institution-contact").inner_text().strip() == "李检定"
    assert row.locator(".institution-phone").inner_text().strip() == "029-86000007"
    assert "凤城八路" in row.locator(".institution-address").inner_text()
    shot(page, artifacts, "m1_batch_3_receipt.png")
    assert not page.js_errors, page.js_errors
