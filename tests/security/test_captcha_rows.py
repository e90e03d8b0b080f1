"""Finding 8: each anonymous GET /captcha.png wrote a row that was never purged. Requests are
rate limited per address, challenges expire, and spent or expired rows go on every write."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from ecqs.extensions import db
from ecqs.models import CaptchaChallenge, utcnow
from tests.accounts.fixtures import count


def test_captcha_requests_rate_limited(make_app):
    limited = make_app(ECQS_CAPTCHA=True, RATELIMIT_ENABLED=True)
    client = limited.test_client()
    codes = [client.get("/captcha.png").status_code for _ in range(25)]
    assert codes[:20] == [200] * 20
    assert 429 in codes[20:]
    assert count(CaptchaChallenge) <= 20


def test_expired_and_spent_challenges_purged_on_write(client):
    for _ in range(5):
        assert client.get("/captcha.png").status_code == 200
    assert count(CaptchaChallenge) == 5
    db.session.execute(update(CaptchaChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    client.get("/captcha.png")
    assert count(CaptchaChallenge) == 1
    db.session.execute(update(CaptchaChallenge).values(used=True))
    db.session.commit()
    client.get("/captcha.png")
    assert count(CaptchaChallenge) == 1


def test_challenges_expire():
    from ecqs.services import captcha

    row = captcha.store("t" * 20, "h" * 64)
    assert timedelta(minutes=1) <= row.expires_at - utcnow() <= timedelta(minutes=10)
