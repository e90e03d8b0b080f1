"""How many rows a big grid holds, at the cost of a page, not of a full count.

Grids over large tables (the instrument ledger, bookings, the audit trail) page without Flask-
Admin's count(*). Their total comes from here:

- PostgreSQL: the planner's row estimate of the scoped, filtered query (EXPLAIN, which for a bare
  table is pg_class.reltuples). Small results are counted exactly, bounded by EXACT_LIMIT, so an
  estimate that is far too low never starts a count over the whole table.
- SQLite has no usable estimate: a count bounded by SQLITE_CAP; beyond it "超过 1万 条".
"""

from __future__ import annotations

import json

from sqlalchemy import func, select

from ecqs.extensions import db
from ecqs.services import short_cache

EXACT_LIMIT = 50_000  # rows an exact count may visit on PostgreSQL
SQLITE_CAP = 10_000  # rows a bounded count visits on SQLite (a few ms through an index)


class GridTotal(int):
    """A grid's total: `kind` is "exact", "estimate" (PostgreSQL's planner) or "capped" (more
    than `int(self)` rows, SQLite)."""

    kind: str

    def __new__(cls, value: int, kind: str = "exact"):
        obj = super().__new__(cls, max(int(value), 0))
        obj.kind = kind
        return obj

    def at_least(self, rows: int) -> GridTotal:
        """The same total, raised to `rows` where the estimate fell short of what was seen."""
        return self if rows <= self else GridTotal(rows, self.kind)


def _statement(query):
    """The SELECT of a Flask-Admin (legacy) Query or a Select, without its ORDER BY."""
    stmt = query.statement if hasattr(query, "statement") else query
    return stmt.order_by(None)


def bounded_count(query, limit: int) -> int:
    """count(*) of at most limit + 1 rows of `query`, on the session's connection (a count
    needs none of the ORM's execution path, which costs more calls than the count)."""
    inner = _statement(query).limit(limit + 1).subquery()
    session = db.session()
    session.flush()  # as the session's own execute would: rows added here count
    return session.connection().execute(select(func.count()).select_from(inner)).scalar()


def planner_estimate(query) -> int:
    """PostgreSQL's estimate of the rows `query` returns (EXPLAIN, nothing is executed)."""
    stmt = _statement(query)
    connection = db.session.connection()
    # IN (…) lists are expanded into the text (render_postcompile), as the driver needs them.
    compiled = stmt.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class Plan:
    """How a grid's total is found for `query` (scoped, filtered, searched; or a callable that
    builds it), decided before the page is read: `limit` is the bound of the count to run (the
    page may carry it: `count_column`), or None where no count is needed (PostgreSQL's estimate
    above EXACT_LIMIT: `total` then gives the estimate). With `cache_key` (it must name the scope:
    view, user, filters) PostgreSQL's estimate is remembered a few seconds (services/
    short_cache.py): it only decides whether to count, and a count is bounded by EXACT_LIMIT
    whatever the estimate said, so a stale estimate costs at most one bounded count. Counts
    themselves are never remembered."""

    def __init__(self, query, cache_key=None):
        self.query = _Lazy(query) if callable(query) else _Lazy(lambda: query)
        self.estimate = None
        if db.session.get_bind().dialect.name == "postgresql":
            estimate = short_cache.lookup("planner_estimates", cache_key) if cache_key else None
            if estimate is None:
                estimate = planner_estimate(self.query.get())
                if cache_key:
                    short_cache.store("planner_estimates", cache_key, estimate)
            self.estimate = estimate
            self.limit = EXACT_LIMIT if estimate <= EXACT_LIMIT else None
        else:
            self.limit = SQLITE_CAP

    def count_column(self, query=None):
        """The bounded count as a column of another statement (the page's own SELECT: one round
        trip for both; PostgreSQL runs an uncorrelated subquery once)."""
        inner = _statement(self.query.get() if query is None else query).limit(self.limit + 1).subquery()
        return select(func.count()).select_from(inner).scalar_subquery().label("ecqs_grid_total")

    def count(self) -> int:
        return bounded_count(self.query.get(), self.limit)

    def total(self, counted: int | None = None) -> GridTotal:
        """The total from the bounded count (counted here when not given)."""
        if self.limit is None:
            return GridTotal(max(self.estimate, EXACT_LIMIT + 1), "estimate")
        n = self.count() if counted is None else counted
        if n <= self.limit:
            return GridTotal(n)
        if self.estimate is not None:  # PostgreSQL: more than the exact limit, so the estimate
            return GridTotal(max(self.estimate, EXACT_LIMIT + 1), "estimate")
        return GridTotal(SQLITE_CAP, "capped")


def total(query, cache_key=None) -> GridTotal:
    """The grid's total for `query` (scoped, filtered, searched; or a callable that builds it):
    exact where that is cheap (Plan)."""
    return Plan(query, cache_key).total()


class _Lazy:
    """A query built on first use (a grid with a remembered big estimate never builds it)."""

    def __init__(self, build):
        self._build, self._query = build, None

    def get(self):
        if self._query is None:
            self._query = self._build()
        return self._query
