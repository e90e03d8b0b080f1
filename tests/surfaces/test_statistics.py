"""统计分析: figures per module through the grids' scope, filters, xlsx export, the page's
chart data under the CSP."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from ecqs.services import statistics, workdays
from tests.conftest import make_org, make_user
from tests.instruments.fixtures import make_instrument, make_reviewer

pytestmark = pytest.mark.usefixtures("instrument_kinds")


def _ledger():
    today = workdays.today()
    xa = make_org(division_code="610113")
    bj = make_org(division_code="110105")
    make_instrument(xa, valid_until=today - timedelta(days=3))
    make_instrument(xa, valid_until=today + timedelta(days=10))
    make_instrument(xa, usage_division_code="610302", status="stopped")
    make_instrument(xa, valid_until=today - timedelta(days=3), status="scrapped")
    make_instrument(bj, usage_division_code="110105", valid_until=today - timedelta(days=1))
    return xa, bj


def _report(reports, key):
    return next(r for r in reports if r.key == key)


def test_admin_sees_every_province_grouped_by_province(app):
    _ledger()
    from ecqs.instruments import statistics as instrument_statistics

    admin = make_user("admin")
    reports = instrument_statistics.compute(admin, statistics.Filters())
    division = _report(reports, "instrument_division")
    rows = {row[0]: row[1:] for row in division.rows}
    assert rows["陕西省"] == [4, 1, 1, 25.0]
    assert rows["北京市"] == [1, 1, 0, 100.0]
    status = dict((str(r[0]), r[1]) for r in _report(reports, "instrument_status").rows)
    assert status == {"在用": 3, "停用": 1, "报废": 1}


def test_provincial_reviewer_counts_its_province_only_by_city(app):
    _ledger()
    from ecqs.instruments import statistics as instrument_statistics

    reviewer = make_reviewer()
    reports = instrument_statistics.compute(reviewer, statistics.Filters())
    rows = {row[0]: row[1] for row in _report(reports, "instrument_division").rows}
    assert rows == {"西安市": 3, "宝鸡市": 1}
    assert _report(reports, "instrument_status").total == 4


def test_filters_status_and_division(app):
    _ledger()
    from ecqs.instruments import statistics as instrument_statistics

    admin = make_user("admin")
    filters = statistics.Filters.from_args({"division": "610100", "status": "in_use"})
    assert filters.division == "6101"
    reports = instrument_statistics.compute(admin, filters)
    assert _report(reports, "instrument_status").total == 2
    assert statistics.Filters.from_args({"date_from": "nonsense", "division": "x1"}).division == ""


def test_page_draws_from_json_without_inline_script(app, client, login_as):
    _ledger()
    login_as(make_reviewer())
    response = client.get("/admin/statistics/instruments/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "vendor/echarts/echarts.min.js" in page
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None or "nonce=" in page
    charts = [json.loads(html_unescape(m)) for m in re.findall(r'data-chart="([^"]*)"', page)]
    assert any(c["type"] == "pie" for c in charts)
    division = next(c for c in charts if c["title"].startswith("强检器具按区划"))
    assert division["categories"] == ["西安市", "宝鸡市"]
    assert "北京" not in page


def html_unescape(text):
    import html

    return html.unescape(text)


def test_export_is_a_workbook_of_the_same_tables(app, client, login_as):
    _ledger()
    login_as("admin")
    response = client.get("/admin/statistics/instruments/export/?status=in_use")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert len(book.sheetnames) == 4
    first = [[c.value for c in row] for row in book.worksheets[0].iter_rows()]
    assert first == [["状态", "数量"], ["在用", 3]]


def test_other_roles_are_refused(app, client, login_as):
    login_as("enterprise")
    assert client.get("/admin/statistics/instruments/").status_code == 403


def test_licence_and_qualification_pages_render(app, client, login_as):
    login_as("admin")
    for key in ("licences", "qualifications"):
        response = client.get(f"/admin/statistics/{key}/?date_from=2020-01-01&date_to=2030-12-31")
        assert response.status_code == 200, key
        assert client.get(f"/admin/statistics/{key}/export/").status_code == 200


def test_licence_clock_counts_decisions_against_the_statutory_days(app):
    from types import SimpleNamespace

    from ecqs.licences.statistics import used_days_at_decision

    accepted = workdays.add_working_days(workdays.today() - timedelta(days=90), 0)
    from datetime import datetime, time

    def at(day):
        return datetime.combine(day, time(10), tzinfo=workdays.CN)

    engaged = workdays.add_working_days(accepted, 5)
    reviewed = engaged + timedelta(days=30)
    decided = workdays.add_working_days(reviewed, 3)
    app_ = SimpleNamespace(
        accepted_at=at(accepted), engaged_at=at(engaged), reviewed_at=at(reviewed), decided_at=at(decided)
    )
    assert used_days_at_decision(app_) == 8


def test_booking_items_through_the_instrument_scope_equal_their_own_scope(app):
    """The statistics count booking items through their instrument's scope (cheap at 1M rows);
    for every role of the pages that is exactly the booking items' own scope."""
    from sqlalchemy import select

    from ecqs import access
    from ecqs.extensions import db
    from ecqs.instruments.statistics import _scoped_items
    from ecqs.models import BookingItem
    from tests.instruments.fixtures import make_booking

    xa, bj = _ledger()
    make_booking(xa, [make_instrument(xa)])
    make_booking(bj, [make_instrument(bj, usage_division_code="110105")])
    national = make_reviewer(level="national", division_code="110000")
    users = [make_reviewer(), national, make_user("admin"), make_user("association")]
    for user in users:
        own = set(db.session.execute(access.scoped(select(BookingItem.id), BookingItem, user)).scalars())
        joined = set(db.session.execute(_scoped_items(select(BookingItem.id), user)).scalars())
        assert own == joined, user.role
    assert len(set(db.session.execute(_scoped_items(select(BookingItem.id), users[0])).scalars())) == 1


def test_one_instrument_statistics_page_and_the_old_address_redirects(app, client, login_as):
    login_as("admin")
    home = client.get("/admin/").get_data(as_text=True)
    assert "/admin/instrument_stats/" not in home  # no second 统计 under 强检器具监管
    assert "/admin/statistics/instruments/" in home
    moved = client.get("/admin/instrument_stats/?period=2025")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith("/admin/statistics/instruments/?period=2025")
    export = client.get("/admin/instrument_stats/export/")
    assert export.status_code == 301 and "/admin/statistics/instruments/export/" in export.headers["Location"]
