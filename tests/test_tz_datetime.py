"""TZDateTime keeps the instant of an aware timestamp in any zone, on SQLite as on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from ecqs.extensions import db
from ecqs.models import Upload
from tests.licences.fixtures import fake_upload

CST = timezone(timedelta(hours=8))


def _upload(created_at) -> Upload:
    upload = fake_upload(created_at=created_at)
    db.session.commit()
    return upload


def test_an_aware_time_in_china_is_stored_as_the_same_instant(app):
    beijing = datetime(2026, 12, 2, 8, 0, tzinfo=CST)  # 00:00 UTC
    upload = _upload(beijing)
    db.session.expire_all()
    stored = db.session.get(Upload, upload.id).created_at
    assert stored == beijing and stored.utcoffset() is not None
    assert stored.astimezone(UTC) == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)


def test_comparisons_see_the_same_instant_whatever_the_zone(app):
    _upload(datetime(2026, 12, 2, 7, 30, tzinfo=CST))  # 23:30 UTC the day before
    later = _upload(datetime(2026, 12, 2, 1, 0, tzinfo=UTC))  # 09:00 in China
    since = datetime(2026, 12, 2, 8, 30, tzinfo=CST)  # 00:30 UTC
    found = db.session.execute(select(Upload.id).where(Upload.created_at >= since)).scalars().all()
    assert found == [later.id]


def test_a_naive_time_is_taken_as_utc(app):
    upload = _upload(datetime(2026, 12, 2, 3, 0))
    db.session.expire_all()
    assert db.session.get(Upload, upload.id).created_at == datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
