"""Finding 3: open redirect. Every `next`/`url` target (login, after the staff SMS factor, the
language switch, Flask-Admin's return `url`) must stay on this site whatever the encoding."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from ecqs.extensions import db
from ecqs.models import Notice
from ecqs.services.safe_redirect import is_safe_target
from tests.accounts.fixtures import last_sms_code
from tests.conftest import PASSWORD, USER_TYPE, login, make_user

# Known bypasses of naive "starts with one slash" checks.
BYPASSES = [
    "//evil.example",
    "///evil.example",
    "////evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    "/%09/evil.example",
    "/%0a/evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "%2F%2Fevil.example",
    "/%252F/evil.example",
    "https://evil.example",
    "http:evil.example",
    "https:/\\evil.example",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "//evil.example@localhost",
]
LOCAL = ["/admin/", "/admin/users/?page=2&search=%E5%BC%A0", "/admin/?url=%2Fadmin%2F", "/account/password"]


def leaves_site(location: str) -> bool:
    """Would a browser given this Location leave http://localhost/? (browsers drop tabs and
    newlines and read a backslash as a slash)."""
    normal = re.sub(r"[\t\n\r]", "", location).replace("\\", "/").strip()
    parts = urlsplit(normal)
    if parts.scheme and parts.scheme.lower() not in ("http", "https"):
        return True
    return parts.netloc not in ("", "localhost")


@pytest.mark.parametrize("target", BYPASSES)
def test_bypass_refused_by_the_shared_check(target):
    assert not is_safe_target(target)


@pytest.mark.parametrize("target", LOCAL)
def test_local_paths_accepted(target):
    assert is_safe_target(target)


def test_login_next(client):
    user = make_user("person")
    for target in BYPASSES:
        client.post("/logout")
        response = client.post(
            "/login",
            query_string={"next": target},
            data={"user_type": "person", "username": user.username, "password": PASSWORD, "captcha": ""},
        )
        assert response.status_code == 302
        assert not leaves_site(response.headers["Location"]), (target, response.headers["Location"])
    # The reported form, raw in the query string.
    client.post("/logout")
    response = client.post(
        "/login?next=/%09/evil.example",
        data={"user_type": "person", "username": user.username, "password": PASSWORD, "captcha": ""},
    )
    assert response.headers["Location"] == "/admin/"


def test_next_after_staff_sms_factor(make_app):
    strict = make_app(ECQS_STAFF_2FA=True)
    admin = make_user("admin")
    for target in [*BYPASSES[:12], "/admin/users/"]:
        client = strict.test_client()
        data = {"user_type": USER_TYPE["admin"], "username": admin.username, "password": PASSWORD}
        response = client.post("/login", query_string={"next": target}, data=data)
        assert response.headers["Location"].endswith("/login/verify")
        code = last_sms_code(admin.mobile)
        response = client.post("/login/verify", data={"code": code})
        assert response.status_code == 302
        location = response.headers["Location"]
        assert not leaves_site(location), (target, location)
        if target == "/admin/users/":
            assert location == "/admin/users/"
        db.session.execute(db.text("DELETE FROM sms_codes"))  # stay under the daily SMS quota
        db.session.commit()


def test_language_switch_next(client):
    for target in BYPASSES:
        response = client.post("/lang/en", data={"next": target})
        assert response.status_code == 302
        assert not leaves_site(response.headers["Location"]), (target, response.headers["Location"])
    assert client.post("/lang/en", data={"next": "/register"}).headers["Location"] == "/register"


def test_flask_admin_return_url(client):
    """Flask-Admin's own doors (delete, actions) and our transition doors read `url`."""
    login(client, make_user("admin"))
    for target in BYPASSES:
        notice = Notice(title="公告", body="x", audience="all")
        db.session.add(notice)
        db.session.commit()
        for path, data in (
            ("/admin/notices/delete/", {"id": notice.id, "url": target}),
            ("/admin/notices/action/", {"action": "delete", "rowid": notice.id, "url": target}),
        ):
            response = client.post(path, data=data)
            assert response.status_code == 302, (path, response.status_code)
            assert not leaves_site(response.headers["Location"]), (path, target, response.headers["Location"])
    from flask import current_app

    for rule in current_app.url_map.iter_rules():
        if "/transition/" in rule.rule or "/act/" in rule.rule:
            url = rule.rule.replace("<id>", "1").replace("<action_name>", "x")
            for target in BYPASSES[:6]:
                response = client.post(url, data={"url": target})
                location = response.headers.get("Location", "")
                assert not leaves_site(location), (url, target, location)
