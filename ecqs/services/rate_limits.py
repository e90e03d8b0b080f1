"""A Flask-Limiter (limits) storage kept in the application's own database, so that request
limits hold across gunicorn workers and hosts with no extra service. Selected by
RATELIMIT_STORAGE_URI = "ecqsdb://" (the default); a Redis URI works as well."""

from __future__ import annotations

import time

from flask import abort, current_app, g, has_app_context, request
from limits import parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from ecqs.extensions import db, limiter
from ecqs.models import RateCounter


class DatabaseStorage(Storage):
    """Fixed-window counters in the rate_counters table (INSERT ... ON CONFLICT DO UPDATE)."""

    STORAGE_SCHEME = ["ecqsdb"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def _insert(self, dialect_name: str):
        return (postgresql if dialect_name == "postgresql" else sqlite).insert(RateCounter.__table__)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        table = RateCounter.__table__
        now = time.time()
        with db.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.key == key, table.c.expires_at <= now))
            stmt = self._insert(conn.dialect.name).values(key=key, count=amount, expires_at=now + expiry)
            stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"count": table.c.count + amount})
            conn.execute(stmt)
            return conn.execute(select(table.c.count).where(table.c.key == key)).scalar_one()

    def get(self, key: str) -> int:
        table = RateCounter.__table__
        with db.engine.connect() as conn:
            value = conn.execute(
                select(table.c.count).where(table.c.key == key, table.c.expires_at > time.time())
            ).scalar()
        return int(value or 0)

    def get_expiry(self, key: str) -> float:
        table = RateCounter.__table__
        with db.engine.connect() as conn:
            value = conn.execute(select(table.c.expires_at).where(table.c.key == key)).scalar()
        return float(value) if value else time.time()

    def check(self) -> bool:
        if not has_app_context():
            return True
        try:
            with db.engine.connect() as conn:
                conn.execute(select(1))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with db.engine.begin() as conn:
            return conn.execute(delete(RateCounter.__table__)).rowcount

    def clear(self, key: str) -> None:
        with db.engine.begin() as conn:
            conn.execute(delete(RateCounter.__table__).where(RateCounter.__table__.c.key == key))


def purge_expired(now: float | None = None) -> int:
    """Delete counter rows whose window ended by `now` (a timestamp, default the current time).
    incr() only clears the row of the key it counts, so the windows of addresses, mobiles and
    names that never come back stay until this runs (the hourly purge, schedules.py); returns
    how many rows went. Nothing to do where the limits live in Redis (keys expire there)."""
    table = RateCounter.__table__
    cutoff = time.time() if now is None else now
    return db.session.execute(delete(table).where(table.c.expires_at <= cutoff)).rowcount or 0


# ---- limits counted by the code (not per route) ------------------------------------------------


def hit(limit: str, *key: str, always: bool = False) -> bool:
    """Count one event against `limit` (e.g. "5 per hour") for `key` in the limiter's storage
    (so across workers and hosts); False once the limit is reached. Off where rate limiting is
    switched off (RATELIMIT_ENABLED), unless `always` (a rule of the product, not a limit)."""
    if not (limiter.enabled or always):
        return True
    return _strategy().hit(parse(limit), "ecqs", *key)


def _strategy():
    """A fixed-window limiter over the app's RATELIMIT_STORAGE_URI, also where Flask-Limiter
    is switched off (the lockout of unknown names and the SMS quota are rules, not limits)."""
    strategy = current_app.extensions.get("ecqs_counters")
    if strategy is None:
        uri = current_app.config.get("RATELIMIT_STORAGE_URI") or "ecqsdb://"
        strategy = FixedWindowRateLimiter(storage_from_string(uri))
        current_app.extensions["ecqs_counters"] = strategy
    return strategy


def seconds_left(limit: str, *key: str) -> int | None:
    """Seconds until `key`'s window of `limit` resets if the limit is reached, else None."""
    item = parse(limit)
    if _strategy().test(item, "ecqs", *key):
        return None
    reset_at, _remaining = _strategy().get_window_stats(item, "ecqs", *key)
    return max(1, int(reset_at - time.time()))


def client_address() -> str:
    """The client's address (behind trusted proxies, the one they report; see ProxyFix)."""
    return request.remote_addr or "unknown"


def refuse_over(limit: str, *key: str) -> None:
    """hit(), aborting the request with 429 and a Chinese page once the limit is reached."""
    if not hit(limit, *key):
        abort(429)


AVAILABILITY_LIMIT = "20 per hour"  # per address: forms that say "该用户名已被注册" and the like


def count_availability_check() -> None:
    """Count a request that answers whether a username, mobile or code is taken (once per
    request, per client address); over AVAILABILITY_LIMIT the request ends with 429."""
    if g.get("_availability_counted"):
        return
    g._availability_counted = True
    refuse_over(AVAILABILITY_LIMIT, "availability", client_address())
