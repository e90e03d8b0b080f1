"""Finding 5: the unit wizard stored a business licence (up to 5 MB) at step 2 for anyone, with
no limit and no clean-up. Files of anonymous steps go to a quarantine that expires and is
purged on write, anonymous uploads are rate limited, and only the last step claims a file."""

from __future__ import annotations

import os
import time

import pytest

from ecqs.models import Upload
from ecqs.services import uploads
from tests.accounts.fixtures import count, pdf
from tests.accounts.test_registration import UNIT_BASIC, UNIT_CERT, _unit_contact, post_form
from tests.conftest import make_uscc


@pytest.fixture(autouse=True)
def _empty_quarantine(app):
    for path in uploads.quarantine_dir().iterdir():
        path.unlink()


def _to_cert_step(client):
    response = client.post("/register/unit/basic", data=dict(UNIT_BASIC, uscc=make_uscc()))
    assert response.headers["Location"].endswith("/register/unit/cert")


def _stored(app) -> set[str]:
    return {p.name for p in uploads.upload_dir().iterdir() if p.is_file()}


def test_step_two_file_is_quarantined_then_claimed(app, client):
    before = _stored(app)
    _to_cert_step(client)
    response = post_form(client, "/register/unit/cert", dict(UNIT_CERT, licence=pdf()))
    assert response.headers["Location"].endswith("/register/unit/qualifications")
    assert _stored(app) == before  # nothing among claimed files yet
    held = list(uploads.quarantine_dir().iterdir())
    assert len(held) == 1
    # Sending another file replaces the first one in quarantine.
    post_form(client, "/register/unit/cert", dict(UNIT_CERT, licence=pdf()))
    assert [p.name for p in uploads.quarantine_dir().iterdir()] != [held[0].name]
    assert len(list(uploads.quarantine_dir().iterdir())) == 1
    client.post("/register/unit/qualifications", data={"op": "next"})
    response = client.post("/register/unit/contact", data=_unit_contact(client))
    assert response.status_code in (200, 302)
    assert count(Upload) == 1
    assert not list(uploads.quarantine_dir().iterdir())


def test_abandoned_files_are_purged_on_write(app, client):
    _to_cert_step(client)
    post_form(client, "/register/unit/cert", dict(UNIT_CERT, licence=pdf()))
    (old,) = uploads.quarantine_dir().iterdir()
    stale = time.time() - uploads.QUARANTINE_LIFETIME.total_seconds() - 60
    os.utime(old, (stale, stale))
    other = app.test_client()
    _to_cert_step(other)
    post_form(other, "/register/unit/cert", dict(UNIT_CERT, licence=pdf()))
    names = [p.name for p in uploads.quarantine_dir().iterdir()]
    assert old.name not in names and len(names) == 1


def test_anonymous_uploads_rate_limited(make_app):
    limited = make_app(RATELIMIT_ENABLED=True)
    client = limited.test_client()
    _to_cert_step(client)
    statuses = []
    for _ in range(12):
        response = post_form(client, "/register/unit/cert", dict(UNIT_CERT, licence=pdf()))
        statuses.append(response.status_code)
    assert statuses[:10] == [302] * 10
    assert 200 in statuses[10:]
    page = response.get_data(as_text=True)
    assert "上传过于频繁" in page
    assert len(list(uploads.quarantine_dir().iterdir())) == 1
    assert count(Upload) == 0


def test_quarantine_has_a_total_cap(app, client, monkeypatch):
    monkeypatch.setattr(uploads, "QUARANTINE_MAX_BYTES", 10)
    _to_cert_step(client)
    post_form(client, "/register/unit/cert", dict(UNIT_CERT, licence=pdf()))
    other = app.test_client()
    _to_cert_step(other)
    page = post_form(other, "/register/unit/cert", dict(UNIT_CERT, licence=pdf())).get_data(as_text=True)
    assert "系统繁忙" in page
