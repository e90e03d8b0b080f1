"""HTTPS settings of a production deployment, configured from the environment as the README's
checklist says: the session cookie is Secure, HttpOnly and SameSite, and HSTS is sent on
every HTTPS answer (also behind a TLS-terminating proxy)."""

from __future__ import annotations

from ecqs import config
from tests.conftest import PASSWORD, USER_TYPE, make_user


def _production_app(make_app, monkeypatch):
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "on")
    monkeypatch.setenv("PREFERRED_URL_SCHEME", "https")
    monkeypatch.setenv("ECQS_TRUSTED_PROXIES", "1")
    settings = config.from_environment()
    return make_app(
        SESSION_COOKIE_SECURE=settings["SESSION_COOKIE_SECURE"],
        PREFERRED_URL_SCHEME=settings["PREFERRED_URL_SCHEME"],
        ECQS_TRUSTED_PROXIES=settings["ECQS_TRUSTED_PROXIES"],
    )


def test_session_cookie_secure_and_hsts_behind_proxy(make_app, monkeypatch):
    app = _production_app(make_app, monkeypatch)
    user = make_user("person")
    client = app.test_client()
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    response = client.post(
        "/login",
        headers=https,
        data={
            "user_type": USER_TYPE["person"],
            "username": user.username,
            "password": PASSWORD,
            "captcha": "",
        },
    )
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
    assert "Strict-Transport-Security" in client.get("/login", headers=https).headers


def test_defaults_are_not_production_ready_without_the_settings(monkeypatch):
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    assert config.from_environment()["SESSION_COOKIE_SECURE"] is False  # the checklist must set it
