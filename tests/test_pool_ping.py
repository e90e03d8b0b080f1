"""services/pool_ping.py: a pooled connection is pinged only after it lay idle, and one that died
while idle is replaced without the request seeing an error."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from ecqs.services import pool_ping


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(pool_ping, "clock", lambda: now[0])
    return now


def _engine(tmp_path):
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'ping.db'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    engine = create_engine(url, pool_size=1, max_overflow=0)
    pool_ping.install(engine, idle_seconds=10)
    return engine


def _count_pings(monkeypatch, engine):
    pings = []
    original = engine.dialect.do_ping

    def counting(dbapi_connection):
        pings.append(1)
        return original(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return pings


def test_a_connection_in_use_is_not_pinged_an_idle_one_is(tmp_path, clock, monkeypatch):
    engine = _engine(tmp_path)
    pings = _count_pings(monkeypatch, engine)
    for _ in range(3):  # requests one after the other: no ping
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
        clock[0] += 2
    assert pings == []
    clock[0] += 11  # idle for longer than 10 s
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    assert pings == [1]
    engine.dispose()


def test_a_connection_that_died_while_idle_is_replaced(tmp_path, clock):
    engine = _engine(tmp_path)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        raw = conn.connection.dbapi_connection
    raw.close()  # as a server restart or a dropped TCP connection leaves it
    clock[0] += 60
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
        assert conn.connection.dbapi_connection is not raw
    engine.dispose()


def test_without_the_idle_ping_the_dead_connection_fails(tmp_path, clock):
    """The test above would pass without a ping if the pool noticed by itself: it does not."""
    engine = _engine(tmp_path)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        raw = conn.connection.dbapi_connection
    raw.close()
    clock[0] += 5  # not idle long enough to be pinged
    with pytest.raises(Exception), engine.connect() as conn:  # noqa: B017 (the driver's own error)
        conn.execute(text("SELECT 1"))
    engine.dispose()


def test_postgresql_backend_terminated_while_idle(clock):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("a server-side termination needs PostgreSQL")
    engine = _engine(None)
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(engine.url, poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    clock[0] += 60
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    engine.dispose()
