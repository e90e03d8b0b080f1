"""A pooled connection is pinged before use only when it has lain idle, not on every checkout.

SQLAlchemy's `pool_pre_ping` sends `SELECT 1` (and two autocommit switches) each time a request
takes a connection from the pool: a round trip to the database on every page, more than the
server's share of a page's own small queries (bench/RESULTS.md). A connection that was in use a
moment ago is alive; what dies unnoticed is one that lay idle while the server restarted or a
firewall dropped it. So the pool pings a connection only when it was checked in more than
`DB_PING_IDLE_SECONDS` ago (default 10; 0 pings on every checkout, as pool_pre_ping did) — the
"pessimistic" recipe of SQLAlchemy's pooling documentation, with a clock: a failed ping raises
DisconnectionError, and the pool replaces the connection and tries again.

Connections dropped while in use are still caught by SQLAlchemy's usual disconnect handling (the
failing statement invalidates the pool)."""

from __future__ import annotations

import time

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

_CHECKED_IN = "ecqs_checked_in"  # in the connection record's info: monotonic time of its checkin
clock = time.monotonic  # tests replace it


def install(engine: Engine, idle_seconds: float) -> None:
    """Ping `engine`'s pooled connections on checkout after `idle_seconds` of idleness."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection, record):
        if record is not None:
            record.info[_CHECKED_IN] = clock()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, proxy):
        since = record.info.pop(_CHECKED_IN, None)
        if since is None or clock() - since <= idle_seconds:
            return  # new (just connected) or recently used
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as error:
            if not dialect.is_disconnect(error, dbapi_connection, None):
                raise
            alive = False
        if not alive:
            raise exc.DisconnectionError("the idle connection no longer answers")
