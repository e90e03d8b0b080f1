"""Login answers that do not tell a stranger which accounts exist: an unknown name costs the
same password hashing as a real one and is "locked" after the same number of failures, with
the same message, for the same time (counted in the rate-limit storage, as no row exists)."""

from __future__ import annotations

from functools import lru_cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from ecqs.services import rate_limits


@lru_cache(maxsize=8)
def _dummy_hash(method: str) -> str:
    return generate_password_hash("unknown-account-dummy-password", method=method)


def check_dummy_password(password: str) -> bool:
    """Hash `password` as a real account's check would (always False)."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    check_password_hash(_dummy_hash(method), password or "")
    return False


def _failures() -> str:
    return f"{current_app.config['LOCKOUT_THRESHOLD']} per {current_app.config['LOCKOUT_MINUTES']} minutes"


def _lock() -> str:
    # One hit starts a window of exactly LOCKOUT_MINUTES, as locked_until does for a real account.
    return f"1 per {current_app.config['LOCKOUT_MINUTES']} minutes"


def _key(username: str) -> str:
    return username.strip().lower()[:40]


def locked_minutes(username: str) -> int | None:
    """Minutes an unknown name stays "locked", or None."""
    seconds = rate_limits.seconds_left(_lock(), "login-unknown-lock", _key(username))
    return None if seconds is None else max(1, seconds // 60 + 1)


def record_failure(username: str) -> None:
    """Count a failed login for an unknown name; the LOCKOUT_THRESHOLD-th one locks it."""
    if not rate_limits.hit(_failures(), "login-unknown", _key(username), always=True):
        return
    if rate_limits.seconds_left(_failures(), "login-unknown", _key(username)) is not None:
        rate_limits.hit(_lock(), "login-unknown-lock", _key(username), always=True)
