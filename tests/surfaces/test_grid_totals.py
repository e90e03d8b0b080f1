"""Grid totals of big grids (simple_list_pager): exact where cheap, "约 N 条" from PostgreSQL's
planner estimate, "超过 N 条" from SQLite's bounded count, always with page numbers. Each
database's path runs when the suite runs on it (DATABASE_URL=postgresql://… for PostgreSQL)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from ecqs.extensions import db
from ecqs.models import AuditEvent
from ecqs.services import audit, grid_counts


def _events(n: int) -> None:
    for i in range(n):
        audit.record("scheduled_run", comment=f"event {i}")
    db.session.commit()


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def test_small_results_are_counted_exactly(app):
    _events(7)
    total = grid_counts.total(select(AuditEvent).where(AuditEvent.event == "scheduled_run"))
    assert (int(total), total.kind) == (7, "exact")


def test_sqlite_counts_up_to_a_cap(app, monkeypatch):
    if _dialect() != "sqlite":
        pytest.skip("SQLite's path")
    monkeypatch.setattr(grid_counts, "SQLITE_CAP", 5)
    _events(9)
    total = grid_counts.total(select(AuditEvent))
    assert (int(total), total.kind) == (5, "capped")
    assert grid_counts.total(select(AuditEvent).where(AuditEvent.comment == "event 1")).kind == "exact"


def test_postgresql_estimates_from_the_planner(app, monkeypatch):
    if _dialect() != "postgresql":
        pytest.skip("PostgreSQL's path")
    monkeypatch.setattr(grid_counts, "EXACT_LIMIT", 50)
    _events(400)
    db.session.execute(text("ANALYZE audit_events"))
    total = grid_counts.total(select(AuditEvent))
    assert total.kind == "estimate" and 200 <= int(total) <= 800
    # The planner's estimate of a filtered query, which is then counted exactly.
    assert grid_counts.planner_estimate(select(AuditEvent).where(AuditEvent.comment == "event 1")) < 50
    one = grid_counts.total(select(AuditEvent).where(AuditEvent.comment == "event 1"))
    assert (int(one), one.kind) == (1, "exact")
    # IN (…) lists, as grids' scopes and filters write them.
    two = grid_counts.total(select(AuditEvent).where(AuditEvent.comment.in_(("event 1", "event 2"))))
    assert (int(two), two.kind) == (2, "exact")


def test_big_grid_shows_a_total_and_page_numbers(client, login_as, monkeypatch):
    login_as("admin")
    _events(120)  # the audit grid pages by 50 without Flask-Admin's count(*)
    page = client.get("/admin/audit/?page=1").get_data(as_text=True)
    total = re.search(r'id="grid-total" data-total-kind="exact">共 ([\d,]+) 条', page)
    assert total and int(total.group(1).replace(",", "")) >= 121
    assert 'class="pagination"' in page and ">3</a>" in page  # page numbers, not only "< >"
    cap, kind = ("SQLITE_CAP", "capped") if _dialect() == "sqlite" else ("EXACT_LIMIT", "estimate")
    monkeypatch.setattr(grid_counts, cap, 60)
    if kind == "estimate":
        db.session.execute(text("ANALYZE audit_events"))
        db.session.commit()
    page = client.get("/admin/audit/").get_data(as_text=True)
    word = "超过" if kind == "capped" else "约"
    assert re.search(rf'data-total-kind="{kind}">{word} [\d.]+ 条', page), page[page.find("grid-pager") :][
        :400
    ]
    assert ">2</a>" in page


def test_the_total_comes_with_the_page_in_the_default_order(client, login_as):
    """In the default order the bounded count is read with the page's own rows (one statement,
    here the ORM's rows of the audit grid); sorted, it is counted on its own. Both give the
    number of rows there are."""
    from sqlalchemy import func

    from tests.conftest import recorded_statements

    login_as("admin")
    _events(70)  # more than a page of 50
    expected = db.session.scalar(select(func.count()).select_from(AuditEvent))
    for url, along in (("/admin/audit/", True), ("/admin/audit/?sort=0", False)):
        with recorded_statements() as statements:
            page = client.get(url).get_data(as_text=True)
        total = re.search(r'id="grid-total" data-total-kind="exact">共 ([\d,]+) 条', page)
        assert total and int(total.group(1).replace(",", "")) == expected, url
        reads = [s for s in statements if "FROM audit_events" in s and "count(*)" in s]
        assert len(reads) == 1, reads
        assert ("ecqs_grid_total" in reads[0]) is along, reads[0]
