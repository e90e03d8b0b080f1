"""Two concurrent transitions of one record leave exactly one effect (PostgreSQL only).

Each thread has its own application context, hence its own session and connection. Both load
the organisation (version 1) before either acts; the version column makes the loser's UPDATE
match no row, and transition() turns that into StaleTransition."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from ecqs import workflows
from ecqs.extensions import db
from ecqs.models import AuditEvent, Organization, User
from tests.conftest import make_org, make_user

pytestmark = pytest.mark.slow


@pytest.fixture
def postgres(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks and concurrent transactions need PostgreSQL (set DATABASE_URL)")


def _approvals(org_id: int) -> int:
    db.session.rollback()
    return db.session.execute(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.event == "transition",
            AuditEvent.object_type == "Organization",
            AuditEvent.object_id == org_id,
            AuditEvent.action == "approve",
        )
    ).scalar_one()


def _run(app, org_id: int, admin_id: int, loaded: threading.Barrier, step) -> dict:
    """Start two threads that each load the organisation, wait until both have, then call
    `step(name, org, actor)`; return {name: "committed" | exception}."""
    results: dict = {}

    def worker(name: str):
        with app.app_context():
            try:
                org = db.session.get(Organization, org_id)
                actor = db.session.get(User, admin_id)
                assert (org.status, org.version) == ("pending", 1)
                loaded.wait()
                step(name, org, actor)
                results[name] = "committed"
            except Exception as exc:
                db.session.rollback()
                results[name] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,), name=f"approve-{n}") for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a transition thread hung"
    return results


def _assert_one_effect(results: dict, org_id: int, admin_username: str) -> None:
    outcomes = sorted(type(r).__name__ if isinstance(r, Exception) else r for r in results.values())
    assert outcomes == ["StaleTransition", "committed"], results
    loser = next(r for r in results.values() if isinstance(r, Exception))
    assert "已被他人处理" in str(loser)
    assert _approvals(org_id) == 1
    org = db.session.get(Organization, org_id)
    assert (org.status, org.version) == ("approved", 2)
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.object_id == org_id, AuditEvent.action == "approve")
    ).scalar_one()
    assert (event.username, event.from_state, event.to_state) == (admin_username, "pending", "approved")


def test_two_concurrent_approvals_one_waits_on_the_row_and_goes_stale(app, postgres):
    admin = make_user("admin")
    org = make_org(status="pending")
    org_id, admin_id, admin_name = org.id, admin.id, admin.username
    loaded = threading.Barrier(2, timeout=20)
    a_flushed, b_started = threading.Event(), threading.Event()
    b_waited = {}

    def step(name, org, actor):
        if name == "a":
            workflows.transition(org, "approve", actor)  # UPDATE ... WHERE version = 1: row locked
            a_flushed.set()
            assert b_started.wait(20)
            time.sleep(0.5)  # b is now blocked on the row lock
            db.session.commit()
        else:
            assert a_flushed.wait(20)
            b_started.set()
            started = time.monotonic()
            try:
                workflows.transition(org, "approve", actor)  # waits for a's commit, then matches no row
                db.session.commit()
            finally:
                b_waited["seconds"] = time.monotonic() - started

    results = _run(app, org_id, admin_id, loaded, step)
    assert results["a"] == "committed", results
    assert isinstance(results["b"], workflows.StaleTransition), results
    assert b_waited["seconds"] >= 0.4  # it really waited for the other transaction
    _assert_one_effect(results, org_id, admin_name)


def test_two_concurrent_approvals_racing_freely_leave_one_effect(app, postgres):
    admin = make_user("admin")
    org = make_org(status="pending")
    org_id, admin_id, admin_name = org.id, admin.id, admin.username

    def step(name, org, actor):
        workflows.transition(org, "approve", actor)
        db.session.commit()

    results = _run(app, org_id, admin_id, threading.Barrier(2, timeout=20), step)
    _assert_one_effect(results, org_id, admin_name)
