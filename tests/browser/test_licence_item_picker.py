"""The licence item picker (issue 11): about 70 items per licence type, grouped by 设备类别 with
a search box that narrows them in the browser (no CDN, under the CSP); a checked item stays
checked and visible while the search hides others."""

from __future__ import annotations

import pytest

from tests.browser.flow_helpers import login
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser]


VISIBLE = (
    "els => els.filter(e => e.offsetParent !== null)"
    ".map(e => e.getAttribute('data-group') || e.innerText.trim())"
)


def visible(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, VISIBLE)


def test_items_grouped_by_category_and_searchable(page, live_server, world):
    login(page, live_server, "enterprise", world.enterprise.username, PASSWORD)
    page.goto(f"{live_server}/admin/licence_apply/")
    page.select_option("#licence_type", "制造")
    groups = visible(page, "#licence-items [data-group]")
    assert {"锅炉", "压力容器", "安全附件", "电梯"} <= set(groups) and len(groups) == len(set(groups))

    page.fill("#licence-items-search", "安全阀")
    rows = visible(page, "#licence-items .form-check")
    assert rows and all("安全阀" in row for row in rows)
    assert visible(page, "#licence-items [data-group]") == ["安全附件"]
    page.locator("#licence-items .form-check:visible input").first.check()

    page.fill("#licence-items-search", "锅炉")
    groups = visible(page, "#licence-items [data-group]")
    assert "锅炉" in groups and "安全附件" in groups  # the checked 安全阀 stays in sight
    assert page.locator("#licence-items input:checked").count() == 1

    page.fill("#licence-items-search", "没有这种设备")
    assert page.is_visible("#licence-items-none")
    page.fill("#licence-items-search", "")
    assert len(visible(page, "#licence-items [data-group]")) >= 8
    assert page.js_errors == []
