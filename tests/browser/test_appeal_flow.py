"""Seed 004 §2.3.2 in a real browser: from the login page a unit's new contact files an account
appeal through the three steps 单位账号 → 新联系人 → 提交授权书, goes back and finds what they
typed, meets a Chinese refusal, and submits; nothing is stored before the last step."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from stdnum.cn import ric

from ecqs.extensions import db
from ecqs.models import UnitAccountAppeal
from tests.browser.flow_helpers import expect_flash, page_errors, submit_and_wait, tiny_png
from tests.conftest import make_mobile, make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _id_number(serial: int) -> str:
    first17 = f"44010619850101{serial % 1000:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")


def _appeals() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count(UnitAccountAppeal.id))).scalar()


def test_unit_account_appeal_three_steps(page, live_server, artifacts, tmp_path):
    org = make_org(kind="unit", name="广东华胜检验有限公司")
    make_user("unit", org=org)
    name, uscc = org.name, org.uscc
    db.session.commit()
    mobile = make_mobile()
    letter = tmp_path / "授权书.png"
    letter.write_bytes(tiny_png())

    page.goto(f"{live_server}/login")
    page.click("text=账号申诉")
    page.wait_for_url("**/appeal")
    assert page.locator("#appeal-steps li.active").inner_text() == "单位账号"
    page.fill("#unit_name", "别的单位")
    page.fill("#uscc", uscc)
    page.click("#appeal-next")
    assert "单位名称与统一社会信用代码不匹配" in page_errors(page)
    page.fill("#unit_name", name)
    submit_and_wait(page, "#appeal-next", r".*/appeal/contact$", artifacts)

    page.fill("#contact_name", "新联系人")
    page.fill("#contact_id_number", _id_number(5))
    page.fill("#contact_mobile", mobile)
    page.fill("#contact_email", "new@example.com")
    submit_and_wait(page, "#appeal-next", r".*/appeal/letter$", artifacts)
    assert "新联系人" in page.locator("#appeal-summary").inner_text()

    # Back twice: both steps still hold what was typed.
    submit_and_wait(page, "#appeal-back", r".*/appeal/contact$", artifacts)
    assert page.input_value("#contact_mobile") == mobile
    submit_and_wait(page, "#appeal-back", r".*/appeal/unit$", artifacts)
    assert page.input_value("#uscc") == uscc and page.input_value("#unit_name") == name
    submit_and_wait(page, "#appeal-next", r".*/appeal/contact$", artifacts)
    submit_and_wait(page, "#appeal-next", r".*/appeal/letter$", artifacts)
    assert _appeals() == 0

    page.check("input[value=staff_left]")
    page.click("#appeal-submit")  # no letter yet
    assert "请上传授权书" in page_errors(page)
    assert _appeals() == 0
    page.check("input[value=staff_left]")
    page.set_input_files("#letter", str(letter))
    submit_and_wait(page, "#appeal-submit", r".*/login$", artifacts)
    expect_flash(page, "申诉已提交")
    row = db.session.execute(select(UnitAccountAppeal)).scalar_one()
    assert (row.contact_mobile, row.reason, row.status) == (mobile, "staff_left", "pending")
    if artifacts is not None:
        page.screenshot(path=str(artifacts / "appeal_done.png"), full_page=True)
