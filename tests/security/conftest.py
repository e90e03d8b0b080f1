"""Apps with the production switches the session app turns off (2FA, rate limits), built on the
session's database; the global limiter's switch is restored afterwards."""

from __future__ import annotations

import pytest

from ecqs import create_app
from ecqs.extensions import db, limiter


@pytest.fixture
def make_app(app):
    """make_app(**config) -> an app on the test database with `config` overriding defaults."""
    was_enabled = limiter.enabled
    built = []

    def _make(**config):
        settings = {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "UPLOAD_DIR": app.config["UPLOAD_DIR"],
            "INSTANCE_DIR": app.config["INSTANCE_DIR"],
            "SECRET_KEY": "security-secret",
            "WTF_CSRF_ENABLED": False,
            "ECQS_CAPTCHA": False,
            "ECQS_STAFF_2FA": False,
            "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
        settings.update(config)
        new = create_app(settings)
        built.append(new)
        return new

    yield _make
    limiter.enabled = was_enabled
    for new in built:
        with new.app_context():
            db.session.remove()
            db.engine.dispose()
