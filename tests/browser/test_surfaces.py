"""Surfaces in a real browser: the statistics page draws its ECharts charts under the CSP, the
axe-core run (axe-playwright-python) finds no serious or critical violation on the login page,
the public pages, each role's home, a grid, a details page, a form and a statistics page, and
nothing overflows the page at 390 px and 1024 px."""

from __future__ import annotations

import pytest

from ecqs.extensions import db
from ecqs.models import Notice, Notification
from tests.browser.flow_helpers import login, shot
from tests.conftest import PASSWORD, USER_TYPE, make_org, make_user
from tests.instruments.fixtures import make_instrument, make_reviewer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SERIOUS = {"serious", "critical"}
# The elements reaching past the right edge of the window (the report of an overflow).
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .slice(-5).map(e => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`)"""


def _violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{page.url} {v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in SERIOUS
    ]


def _csp_errors(page) -> list[str]:
    messages: list[str] = []
    page.on(
        "console",
        lambda msg: messages.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return messages


@pytest.mark.usefixtures("instrument_kinds")
def test_statistics_page_draws_charts_under_the_csp(page, live_server, artifacts):
    org = make_org(division_code="610113")
    for status in ("in_use", "in_use", "stopped"):
        make_instrument(org, status=status)
    reviewer = make_reviewer()
    username = reviewer.username
    db.session.rollback()
    csp = _csp_errors(page)
    login(page, live_server, "staff", username, PASSWORD)
    page.goto(f"{live_server}/admin/statistics/instruments/")
    page.wait_for_selector("[data-chart][data-drawn] svg")
    shot(page, artifacts, "statistics_instruments.png")
    assert page.locator("[data-chart][data-drawn]").count() == page.locator("[data-chart]").count() >= 2
    assert not page.js_errors, page.js_errors
    assert not csp, csp
    assert "西安市" in page.locator("#report-instrument_division table").inner_text()


@pytest.mark.usefixtures("instrument_kinds")
def test_axe_finds_no_serious_violation(browser, live_server, artifacts):
    users = {role: make_user(role) for role in ("person", "enterprise", "metrology", "assessor", "unit")}
    users["reviewer"] = make_reviewer()
    users["association"] = make_user("association")
    users["admin"] = make_user("admin")
    make_instrument(users["enterprise"].organization)
    notice = Notice(title="关于开展强检器具登记的通知", body="正文", audience="all")
    message = Notification(user_id=users["admin"].id, title="测试消息", link="/admin/")
    db.session.add_all([notice, message])
    db.session.commit()
    message_id = message.id
    logins = {role: (USER_TYPE[role], user.username) for role, user in users.items()}
    db.session.rollback()

    problems: list[str] = []
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    for url in (
        "/",
        "/login",
        "/public/instruments/",
        "/public/instruments/institutions",
        "/public/instruments/catalogue",
        "/public/instruments/query",
    ):
        page.goto(live_server + url)
        problems += _violations(page)
    for role, (user_type, username) in logins.items():
        login(page, live_server, user_type, username, PASSWORD)
        problems += _violations(page)  # the role's home (待办事项)
        if role == "enterprise":
            page.goto(f"{live_server}/admin/instruments/")  # a grid
            problems += _violations(page)
        if role == "admin":
            for url in (
                f"/admin/notifications/details/?id={message_id}",
                "/admin/notices/new/",
                "/admin/statistics/instruments/",
            ):
                page.goto(live_server + url)
                problems += _violations(page)
        context.clear_cookies()
    context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.usefixtures("instrument_kinds")
@pytest.mark.parametrize("width", [390, 1024])
def test_nothing_overflows(browser, live_server, artifacts, width):
    enterprise = make_user("enterprise")
    for _ in range(3):
        make_instrument(enterprise.organization)
    username = enterprise.username
    admin_username = make_user("admin").username  # the longest menu
    db.session.rollback()
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
    page = context.new_page()
    problems = []
    page.goto(f"{live_server}/")
    for url in ("/", "/appeal", "/admin/", "/admin/instruments/"):
        if url not in ("/", "/appeal"):
            if "/login" not in page.url and url == "/admin/":
                login(page, live_server, "enterprise", username, PASSWORD)
            page.goto(live_server + url)
        shot(page, artifacts, f"width_{width}{url.replace('/', '_')}.png")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            wide = page.evaluate(WIDEST)
            problems.append(f"{url} at {width}px overflows by {overflow}px: {wide}")
        if width == 1024:
            navbar = page.locator("nav.navbar").first
            height = navbar.evaluate("el => el.getBoundingClientRect().height") if navbar.count() else 0
            if height > 80:
                problems.append(f"{url} at 1024px: the top menu wraps ({height}px high)")
    context.clear_cookies()
    login(page, live_server, "staff", admin_username, PASSWORD)
    shot(page, artifacts, f"width_{width}_admin_home.png")
    if page.evaluate("document.documentElement.scrollWidth - window.innerWidth") > 0:
        problems.append(f"the admin's home at {width}px overflows: {page.evaluate(WIDEST)}")
    # A big grid with its total and page numbers, and the statistics page with its charts.
    for url in ("/admin/audit/", "/admin/statistics/instruments/"):
        page.goto(live_server + url)
        shot(page, artifacts, f"width_{width}{url.replace('/', '_')}.png")
        if page.evaluate("document.documentElement.scrollWidth - window.innerWidth") > 0:
            problems.append(f"{url} at {width}px overflows: {page.evaluate(WIDEST)}")
    height = page.locator("nav.navbar").first.evaluate("el => el.getBoundingClientRect().height")
    if height > 80:
        problems.append(f"the admin's top menu at {width}px wraps ({height}px high)")
    context.close()
    assert not problems, "\n".join(problems)
