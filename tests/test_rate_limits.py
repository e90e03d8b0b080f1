"""The database-backed Flask-Limiter storage: counters shared through the database."""

import time

from ecqs.services.rate_limits import DatabaseStorage


def test_counts_and_expires(app):
    storage = DatabaseStorage("ecqsdb://")
    assert storage.incr("k1", expiry=60) == 1
    assert storage.incr("k1", expiry=60) == 2
    assert storage.get("k1") == 2
    assert storage.get_expiry("k1") > time.time()
    assert storage.incr("k2", expiry=0) == 1  # already expired window
    assert storage.incr("k2", expiry=60) == 1  # a new window starts
    storage.clear("k1")
    assert storage.get("k1") == 0
    assert storage.check()


def test_login_limit_enforced(app):
    from ecqs import create_app
    from ecqs.extensions import limiter

    # The limiter is one global extension object: restore its switch for the other tests.
    was_enabled = limiter.enabled
    try:
        _check_limit(app, create_app)
    finally:
        limiter.enabled = was_enabled


def _check_limit(app, create_app):
    limited = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "x",
            "WTF_CSRF_ENABLED": False,
            "ECQS_CAPTCHA": False,
            "RATELIMIT_ENABLED": True,
            "UPLOAD_DIR": app.config["UPLOAD_DIR"],
        }
    )
    client = limited.test_client()
    codes = [
        client.post("/login", data={"user_type": "person", "username": "nobody", "password": "x"}).status_code
        for _ in range(31)
    ]
    assert codes[:30] == [200] * 30
    assert codes[30] == 429
