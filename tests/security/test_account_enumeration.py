"""Finding 7: a stranger could tell which accounts exist from the login time, the lockout
message, /sms/send, /forgot and the registration availability answers. Each now answers the
same for unknown and known accounts, or is rate limited."""

from __future__ import annotations

import time

from ecqs.extensions import db
from ecqs.models import SmsCode
from tests.accounts.fixtures import count, last_sms_code, text
from tests.conftest import PASSWORD, make_mobile, make_user


def _login(client, username, password=None):
    return client.post(
        "/login",
        data={
            "user_type": "person",
            "username": username,
            "password": password or "Wrong#Pass1",
            "captcha": "",
        },
    )


def test_unknown_name_costs_the_same_hashing(make_app, monkeypatch):
    from werkzeug import security

    slow = make_app(PASSWORD_HASH_METHOD="pbkdf2:sha256:200000")
    user = make_user("person")
    user.password_hash = security.generate_password_hash(PASSWORD, method="pbkdf2:sha256:200000")
    db.session.commit()
    client = slow.test_client()
    calls = []
    real = security.check_password_hash
    monkeypatch.setattr(
        "ecqs.services.unknown_accounts.check_password_hash", lambda *a: calls.append(1) or real(*a)
    )

    def timed(name):
        start = time.perf_counter()
        _login(client, name)
        return time.perf_counter() - start

    timed("warm-up-name")
    known = min(timed(user.username) for _ in range(3))
    unknown = min(timed(f"nobody{n}") for n in range(3))
    assert calls, "no password hashed for an unknown name"
    assert unknown > known * 0.5, (known, unknown)


def test_unknown_names_lock_like_real_ones(client):
    user = make_user("person")
    for name in (user.username, "no-such-user"):
        pages = [text(_login(client, name)) for _ in range(5)]
        assert all("用户名或密码错误" in p for p in pages[:4]), name
        assert "账号已锁定" in pages[4], name
        assert "账号已锁定" in text(_login(client, name, PASSWORD)), name


def test_sms_send_answers_the_same(client):
    user = make_user("person")
    free = make_mobile()
    answers = [
        client.post("/sms/send", data={"mobile": user.mobile, "purpose": "register"}),
        client.post("/sms/send", data={"mobile": free, "purpose": "reset"}),
        client.post("/sms/send", data={"mobile": free, "purpose": "register"}),
    ]
    assert {(r.status_code, r.get_json()["message"]) for r in answers} == {
        (200, answers[2].get_json()["message"])
    }
    assert count(SmsCode) == 1  # only the free mobile's registration code went out
    # The quota answer comes at the same point for a mobile that gets no code.
    statuses = [
        client.post("/sms/send", data={"mobile": free, "purpose": "reset"}).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_forgot_says_nothing_before_a_valid_code(client):
    user = make_user("person")
    form = {
        "mobile": user.mobile,
        "sms_code": "123456",
        "password": "Reset#Pass2026",
        "password_confirm": "Reset#Pass2026",
    }
    known = text(client.post("/forgot", data=dict(form, account=user.username)))
    unknown = text(client.post("/forgot", data=dict(form, account="no-such-user")))
    for page in (known, unknown):
        assert "账号与注册手机号不匹配" not in page and "短信验证码错误或已过期" in page
    # With the code of a mobile one holds, a mismatch may be said.
    client.post("/sms/send", data={"mobile": user.mobile, "purpose": "reset"})
    page = text(
        client.post("/forgot", data=dict(form, account="no-such-user", sms_code=last_sms_code(user.mobile)))
    )
    assert "账号与注册手机号不匹配" in page


def test_availability_checks_rate_limited(make_app):
    limited = make_app(RATELIMIT_ENABLED=True)
    client = limited.test_client()
    user = make_user("person")
    statuses = []
    for _ in range(35):
        response = client.post("/register/person", data={"username": user.username, "mobile": user.mobile})
        statuses.append(response.status_code)
        if response.status_code == 200:
            assert "该用户名已被注册" in text(response)
    assert 429 in statuses and statuses.index(429) <= 20
