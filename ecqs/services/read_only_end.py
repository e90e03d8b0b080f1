"""A request that only read ends its transaction with COMMIT, not ROLLBACK (PostgreSQL).

psycopg prepares a statement on the server after its fifth execution on a connection
(`prepare_threshold`), so that PostgreSQL stops planning it again — for the public instrument
query, planning is 0.8 of its 0.9 ms of server CPU (bench/RESULTS.md). But psycopg forgets its
prepared statements at every ROLLBACK, and Flask-SQLAlchemy ends every request with one (the
session's close), so nothing was ever prepared. For a transaction that ran only SELECTs, COMMIT and
ROLLBACK do the same on the server, and COMMIT keeps psycopg's cache.

A request's transaction counts as read-only while every statement its connection sent starts
with SELECT or is the grid's EXPLAIN (FORMAT JSON) SELECT …, and the session holds no pending
change; anything else (INSERT, UPDATE, DELETE, WITH, SAVEPOINT, SET, …) leaves the request's end as it
was: a ROLLBACK of whatever was not committed. A request that failed is rolled back as before."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event

from ecqs.extensions import db

_READ_PREFIXES = ("SELECT", "EXPLAIN (FORMAT JSON) SELECT")
_WROTE = "ecqs_transaction_wrote"  # on the connection, for its current transaction
_CONNECTION = "ecqs_connection"  # on the session: the connection its transaction runs on


def _before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
    if not statement[:64].lstrip().upper().startswith(_READ_PREFIXES):
        conn.info[_WROTE] = True


def _begin(conn):
    conn.info.pop(_WROTE, None)


def _after_begin(session, transaction, connection):
    session.info[_CONNECTION] = connection


def end_read_only_transaction(exc: BaseException | None = None) -> bool:
    """Commit the request's transaction if its connection sent only reads; True if it did. Runs
    before Flask-SQLAlchemy's own teardown, which then closes the session (rolling back what is
    left, as before). Statements on other connections (the rate limiter's, which commit
    themselves) do not count."""
    if exc is not None or not db.session.registry.has():
        return False
    session = db.session()
    connection = session.info.get(_CONNECTION)
    if connection is None or connection.closed or not session.in_transaction():
        return False
    if session.new or session.dirty or session.deleted or connection.info.get(_WROTE):
        return False
    # Nothing is read after this (Flask-SQLAlchemy's teardown closes the session next): the
    # commit need not expire every loaded row, which costs more than the commit itself.
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    except Exception:  # the connection broke: Flask-SQLAlchemy's close rolls back and discards it
        return False
    finally:
        session.expire_on_commit = expire
    return True


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        return
    event.listen(engine, "before_cursor_execute", _before_cursor_execute)
    event.listen(engine, "begin", _begin)
    session_class = db.session.session_factory.class_
    if not event.contains(session_class, "after_begin", _after_begin):
        event.listen(session_class, "after_begin", _after_begin)
    # Teardown functions run in reverse order of registration: this one before Flask-SQLAlchemy's.
    app.teardown_appcontext(end_read_only_transaction)
