"""Image captcha challenges: stored hashed, single use, expiring; spent and expired ones are
purged whenever a new one is written and by the hourly purge (schedules.py), so anonymous
requests cannot grow the table beyond what the rate limit lets in over one lifetime."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_

from ecqs.extensions import db
from ecqs.models import CaptchaChallenge, utcnow

LIFETIME = timedelta(minutes=5)
RATE_LIMIT = "20 per minute"  # per client address; a person needs a few per login


def purge(now: datetime | None = None) -> int:
    """Delete spent and expired challenges (expired at `now`, default the current time);
    returns how many."""
    now = now or utcnow()
    table = CaptchaChallenge.__table__
    result = db.session.execute(delete(table).where(or_(table.c.expires_at < now, table.c.used.is_(True))))
    return result.rowcount or 0


def store(token: str, answer_hash: str) -> CaptchaChallenge:
    """Purge, then add a challenge that expires after LIFETIME (the caller commits)."""
    purge()
    row = CaptchaChallenge(token=token, answer_hash=answer_hash, expires_at=utcnow() + LIFETIME)
    db.session.add(row)
    return row
