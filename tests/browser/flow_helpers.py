"""Steps shared by the business-module browser scenarios (tests/browser/test_<module>_flow.py):
log in and out, open a menu entry, click a workflow button accepting its confirmation, and
read what the page says when something went wrong."""

from __future__ import annotations

import re
import struct
import zlib

from ecqs.extensions import db


def tiny_png() -> bytes:
    """A valid 1x1 PNG (uploads are checked by content, not by name)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def page_errors(page) -> str:
    """The field errors and alerts a person would read on a re-displayed form."""
    return " | ".join(page.locator(".invalid-feedback, .alert, .help-block").all_inner_texts())


def shot(page, artifacts, name: str) -> None:
    if artifacts is not None:
        page.screenshot(path=str(artifacts / name), full_page=True)


def wait_for_url(page, url: str, what: str, artifacts=None) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_url(re.compile(url))
    except PlaywrightTimeout:
        shot(page, artifacts, "failed_step.png")
        raise AssertionError(
            f"{what} did not lead to {url} (now {page.url}); the page says: {page_errors(page)}"
        ) from None


def submit_and_wait(page, button: str, url: str, artifacts=None) -> None:
    page.click(button)
    wait_for_url(page, url, button, artifacts)


def login(page, base: str, user_type: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.select_option("#user_type", user_type)
    page.fill("#username", username)
    page.fill("#password", password)
    submit_and_wait(page, "#login-submit", r".*/admin/.*")


def logout(page) -> None:
    # The drop-down opens by script: right after a navigation, wait until the page has loaded it.
    page.wait_for_load_state("load")
    page.click("#user-menu")
    page.click("#logout")
    page.wait_for_url(re.compile(r".*/login.*"))


def open_menu(page, entry: str, category: str | None = None) -> None:
    """Click a menu entry (inside its drop-down `category` if any), as a person would."""
    nav = page.locator("nav")
    if category is not None:
        nav.locator("a.dropdown-toggle", has_text=category).first.click()
    nav.locator("a", has_text=re.compile(rf"^\s*{re.escape(entry)}\s*$")).first.click()
    page.wait_for_load_state()


def confirm_click(page, selector: str) -> list[str]:
    """Click a button whose form asks `window.confirm` (data-confirm), accept, wait for the
    next page; returns the dialog texts."""
    dialogs: list[str] = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    with page.expect_navigation():
        page.click(selector)
    return dialogs


def expect_flash(page, text: str, artifacts=None) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.locator(".alert", has_text=text).first.wait_for(timeout=5_000)
    except PlaywrightTimeout:
        shot(page, artifacts, "failed_flash.png")
        raise AssertionError(f"expected the message “{text}”; the page says: {page_errors(page)}") from None


def grid_headers(page) -> list[str]:
    """The column headings of a Flask-Admin list (without the row-action and checkbox columns)."""
    texts = [t.strip() for t in page.locator("table.model-list thead th").all_inner_texts()]
    return [t for t in texts if t]


def fresh(model, ident):
    """The row as the database has it now (the server committed in another session)."""
    db.session.rollback()
    obj = db.session.get(model, ident)
    return obj
