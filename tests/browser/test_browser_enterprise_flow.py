"""Issue 2 end to end in a real browser: a new enterprise registers, staff approve it, the
enterprise logs in and sees its home page (待办事项) in Chinese."""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from sqlalchemy import select
from stdnum.cn import ric

from ecqs.extensions import db
from ecqs.models import AuditEvent, Organization, SmsMessage, User
from tests.conftest import PASSWORD, make_mobile, make_uscc, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ENTERPRISE_PASSWORD = "Qiye@2026Xian"
# Latin words allowed on a Chinese page: the product name and the language switch's own label.
ALLOWED_LATIN = {"e-CQS", "CQS", "English"}


def tiny_png() -> bytes:
    """A valid 1x1 PNG (the upload check looks at the content, not the name)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def valid_id_number(serial: int) -> str:
    """A resident ID that passes the GB 11643 checksum. (tests/conftest.make_id_number passes
    17 digits to ric.calc_check_digit, which expects 18, so its numbers fail the form's check.)"""
    first17 = f"61011319900101{serial % 1000:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")


def latest_sms_code(mobile: str) -> str:
    db.session.rollback()
    body = db.session.execute(
        select(SmsMessage.body).where(SmsMessage.mobile == mobile).order_by(SmsMessage.id.desc()).limit(1)
    ).scalar()
    db.session.rollback()
    assert body, f"no SMS in the outbox for {mobile}"
    return re.search(r"\d{6}", body).group(0)


def untranslated_words(text: str, allowed: set[str]) -> list[str]:
    """Latin words (three letters or more, digits and -_ joined) not in `allowed`."""
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9_\-]*", text)
    return sorted({w for w in words if len(re.findall(r"[A-Za-z]", w)) >= 3 and w not in allowed})


def page_errors(page) -> str:
    """The field errors and alerts a person would read on a re-displayed form."""
    return " | ".join(page.locator(".invalid-feedback, .alert").all_inner_texts())


def submit_and_wait(page, button: str, url: str, artifacts=None) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.click(button)
    try:
        page.wait_for_url(re.compile(url))
    except PlaywrightTimeout:
        if artifacts is not None:
            page.screenshot(path=str(artifacts / "failed_submit.png"), full_page=True)
        raise AssertionError(f"{button} did not lead to {url}; the page says: {page_errors(page)}") from None


def login(page, base: str, user_type: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.select_option("#user_type", user_type)
    page.fill("#username", username)
    page.fill("#password", password)
    submit_and_wait(page, "#login-submit", r".*/admin/.*")


def logout(page) -> None:
    page.click("#user-menu")
    page.click("#logout")
    page.wait_for_url(re.compile(r".*/login.*"))


def test_enterprise_registers_staff_approve_enterprise_sees_chinese_home(
    page, live_server, artifacts, tmp_path
):
    base = live_server
    admin = make_user("admin")
    admin_username = admin.username
    username = "xaqiye2026"
    name = "西安雁塔测试电梯有限公司"
    uscc = make_uscc()
    mobile = make_mobile()
    licence = tmp_path / "营业执照.png"
    licence.write_bytes(tiny_png())

    # 1. Registration, every field filled in as a person would.
    page.goto(f"{base}/register")
    page.click("a[href$='/register/enterprise']")
    page.wait_for_url(re.compile(r".*/register/enterprise$"))
    page.check("input[name=legal_form][value=legal]")
    page.fill("#username", username)
    page.fill("#password", ENTERPRISE_PASSWORD)
    page.fill("#password_confirm", ENTERPRISE_PASSWORD)
    page.fill("#name", name)
    page.select_option("#enterprise_type", index=1)
    page.fill("#uscc", uscc)
    page.set_input_files("#licence", str(licence))
    page.select_option("#province", label="陕西省")
    page.locator("#city option", has_text="西安市").wait_for(state="attached")
    page.select_option("#city", label="西安市")
    page.locator("#county option", has_text="雁塔区").wait_for(state="attached")
    page.select_option("#county", label="雁塔区")
    page.fill("#address", "雁塔路 1 号")
    page.fill("#legal_rep_name", "张三")
    page.fill("#legal_rep_id_number", valid_id_number(11))
    page.fill("#contact_name", "李四")
    page.fill("#contact_id_number", valid_id_number(12))
    page.fill("#mobile", mobile)
    page.click("[data-sms-send]")
    status = page.locator("[data-sms-status]")
    status.filter(has_text="验证码已发送").wait_for()
    page.fill("#sms_code", latest_sms_code(mobile))
    page.screenshot(path=str(artifacts / "1_enterprise_registration.png"), full_page=True)
    submit_and_wait(page, "#register-submit", r".*/login$", artifacts)
    assert "注册成功" in page.inner_text("body")

    db.session.rollback()
    org = db.session.execute(select(Organization).where(Organization.uscc == uscc)).scalar_one()
    assert (org.name, org.status, org.division_code) == (name, "pending", "610113")
    assert org.licence_upload is not None and org.licence_upload.original_name == "营业执照.png"
    org_id = org.id
    db.session.rollback()

    # 2. Staff approve it in 单位/机构管理, from the details page, accepting the confirmation.
    login(page, base, "staff", admin_username, PASSWORD)
    page.click("a.dropdown-toggle:has-text('系统管理')")
    page.click("a:has-text('单位/机构管理')")
    page.wait_for_url(re.compile(r".*/admin/organizations/.*"))
    row = page.locator("tr", has_text=name)
    row.locator("a[href*='/details/']").first.click()
    page.wait_for_url(re.compile(rf".*/admin/organizations/details/.*id={org_id}.*"))
    dialogs: list[str] = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    with page.expect_navigation():
        page.click("#workflow-actions button:has-text('审核通过')")
    page.locator(".alert", has_text="操作成功").wait_for()
    assert dialogs and "审核通过" in dialogs[0]
    page.screenshot(path=str(artifacts / "2_staff_approved.png"), full_page=True)
    db.session.rollback()
    org = db.session.get(Organization, org_id)
    assert org.status == "approved" and org.approved_at is not None
    approvals = db.session.execute(
        select(AuditEvent).where(
            AuditEvent.object_type == "Organization",
            AuditEvent.object_id == org_id,
            AuditEvent.action == "approve",
        )
    ).scalars()
    assert [e.username for e in approvals] == [admin_username]
    db.session.rollback()
    logout(page)

    # 3. The enterprise logs in and sees its home page in Chinese, no untranslated English.
    login(page, base, "enterprise", username, ENTERPRISE_PASSWORD)
    page.locator("text=待办事项").first.wait_for()
    body = page.inner_text("body")
    assert "待办事项" in body and name in body
    assert "等待人工审核" not in body  # approved: no pending banner any more
    assert page.title() and not untranslated_words(page.title(), ALLOWED_LATIN)
    assert untranslated_words(body, ALLOWED_LATIN | {username}) == []
    page.screenshot(path=str(artifacts / "3_enterprise_home.png"), full_page=True)
    assert not page.js_errors, page.js_errors
    db.session.rollback()
    user = db.session.execute(select(User).where(User.username == username)).scalar_one()
    assert user.organization_id == org_id and user.is_org_admin
