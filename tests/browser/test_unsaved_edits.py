"""Leaving the 许可申请书 wizard with unsaved edits asks first (issue 11): a link out (the
menu) with edits asks, and staying keeps the edits; confirming leaves; saving never asks; a page
without edits leaves without a question. ecqs.js's guard runs under the CSP nonce."""

from __future__ import annotations

import pytest

from ecqs.extensions import db
from tests.browser.flow_helpers import login, open_menu, wait_for_url
from tests.conftest import PASSWORD
from tests.licences.fixtures import draft

pytestmark = [pytest.mark.browser]

CAT = "特种设备生产单位许可"


def test_leaving_the_wizard_with_unsaved_edits_asks_first(page, live_server, artifacts, world):
    application = draft(world, fill=False)
    app_id, username = application.id, world.enterprise.username
    db.session.commit()
    base = live_server
    login(page, base, "enterprise", username, PASSWORD)
    wizard = f"{base}/admin/licence_apply/{app_id}/basic"
    page.goto(wizard)
    page.locator("#wizard-form").wait_for()

    # Every question the page asks, answered with `answer["yes"]`.
    asked: list[str] = []
    answer = {"yes": False}

    def on_dialog(dialog):
        asked.append(dialog.message)
        dialog.accept() if answer["yes"] else dialog.dismiss()

    page.on("dialog", on_dialog)

    # No edits: the menu leaves without a question.
    open_menu(page, "生产企业许可申请管理", category=CAT)
    wait_for_url(page, r".*/admin/licence_applications/.*", "the grid", artifacts)
    assert asked == []

    # An edit, then the menu: asked; "no" stays on the page with the edit.
    page.goto(wizard)
    page.fill("#wizard-form [name=postcode]", "710065")
    open_menu(page, "生产企业许可申请管理", category=CAT)
    assert len(asked) == 1 and "尚未保存的修改" in asked[0]
    assert "/admin/licence_apply/" in page.url
    assert page.input_value("#wizard-form [name=postcode]") == "710065"

    # Saving never asks.
    with page.expect_navigation():
        page.click("#save-draft")
    assert len(asked) == 1
    assert page.input_value("#wizard-form [name=postcode]") == "710065"

    # An edit, then the menu, and "yes": leaves (the edit is dropped, as the user chose).
    answer["yes"] = True
    page.fill("#wizard-form [name=postcode]", "100000")
    open_menu(page, "生产企业许可申请管理", category=CAT)
    wait_for_url(page, r".*/admin/licence_applications/.*", "the grid after confirming", artifacts)
    assert len(asked) == 2 and "尚未保存的修改" in asked[1]
    assert page.js_errors == []
