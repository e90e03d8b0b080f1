"""A request that only read ends its transaction with COMMIT, not ROLLBACK (PostgreSQL).

psycopg prepares a statement on the server after its fifth execution on a connection
(`prepare_threshold`), so that PostgreSQL stops planning it again — for the public instrument
query, planning is 0.8 of its 0.9 ms of server CPU (bench/RESULTS.md). But psycopg forgets its
prepared statements at every ROLLBACK, and Flask-SQLAlchemy ends every request with one (the
session's close), so nothing was ever prepared. For a transaction that ran only SELECTs, COMMIT and
ROLLBACK do the same on the server, and COMMIT keeps psycopg's cache.

A request counts as read-only while every statement it sent (on any connection) starts with
SELECT or is the grid's EXPLAIN (FORMAT JSON) SELECT …, and its session holds no pending change;
anything else (INSERT, UPDATE, DELETE, WITH, SAVEPOINT, SET, …) leaves the request's end as it
was: a ROLLBACK of whatever was not committed. A request that failed is rolled back as before."""

from __future__ import annotations

from flask import Flask, g, has_app_context
from sqlalchemy import event

from ecqs.extensions import db

_READ_PREFIXES = ("SELECT", "EXPLAIN (FORMAT JSON) SELECT")


def _before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
    if not has_app_context():
        return
    if not statement[:64].lstrip().upper().startswith(_READ_PREFIXES):
        g.ecqs_sql_wrote = True
    elif "ecqs_sql_wrote" not in g:
        g.ecqs_sql_wrote = False


def end_read_only_transaction(exc: BaseException | None = None) -> bool:
    """Commit the request's transaction if the request sent only reads; True if it did. Runs
    before Flask-SQLAlchemy's own teardown, which then closes the session (rolling back what is
    left, as before)."""
    if exc is not None or g.get("ecqs_sql_wrote", True) or not db.session.registry.has():
        return False
    session = db.session()
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return False
    try:
        session.commit()
    except Exception:  # the connection broke: Flask-SQLAlchemy's close rolls back and discards it
        return False
    return True


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        return
    event.listen(engine, "before_cursor_execute", _before_cursor_execute)
    # Teardown functions run in reverse order of registration: this one before Flask-SQLAlchemy's.
    app.teardown_appcontext(end_read_only_transaction)
