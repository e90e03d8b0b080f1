"""Finding 2: three anonymous reset codes to a reviewer's mobile used to exhaust the quota its
SMS login factor needs. Quotas are per purpose, the login factor has its own larger allowance,
and anonymous sends are limited per mobile and per address."""

from __future__ import annotations

from ecqs.models import SmsCode
from tests.accounts.fixtures import count, last_sms_code
from tests.conftest import PASSWORD, USER_TYPE, make_user


def _staff_login(client, user):
    data = {"user_type": USER_TYPE[user.role], "username": user.username, "password": PASSWORD}
    return client.post("/login", data=data)


def test_anonymous_resets_do_not_lock_staff_out(make_app):
    strict = make_app(ECQS_STAFF_2FA=True)
    reviewer = make_user("reviewer")
    stranger = strict.test_client()
    for _ in range(4):
        stranger.post("/sms/send", data={"mobile": reviewer.mobile, "purpose": "reset"})
    assert count(SmsCode, SmsCode.purpose == "reset") == 3
    client = strict.test_client()
    response = _staff_login(client, reviewer)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/verify")
    response = client.post("/login/verify", data={"code": last_sms_code(reviewer.mobile)})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"


def test_staff_may_log_in_more_than_three_times_a_day(make_app):
    strict = make_app(ECQS_STAFF_2FA=True)
    reviewer = make_user("reviewer")
    for _ in range(6):
        client = strict.test_client()
        response = _staff_login(client, reviewer)
        assert response.headers["Location"].endswith("/login/verify"), response.get_data(as_text=True)[:300]
        assert client.post("/login/verify", data={"code": last_sms_code(reviewer.mobile)}).status_code == 302
    assert count(SmsCode, SmsCode.purpose == "login") == 6


def test_login_codes_have_their_own_allowance(make_app):
    strict = make_app(ECQS_STAFF_2FA=True, SMS_LOGIN_DAILY_LIMIT=2)
    reviewer = make_user("reviewer")
    for _ in range(2):
        assert _staff_login(strict.test_client(), reviewer).status_code == 302
    page = _staff_login(strict.test_client(), reviewer).get_data(as_text=True)
    assert "已达 2 次上限" in page


def test_anonymous_sends_limited_per_mobile_and_address(make_app):
    limited = make_app(RATELIMIT_ENABLED=True)
    client = limited.test_client()
    user = make_user("person")
    assert client.post("/sms/send", data={"mobile": user.mobile, "purpose": "reset"}).status_code == 200
    response = client.post("/sms/send", data={"mobile": user.mobile, "purpose": "reset"})
    assert response.status_code == 429 and "1 分钟" in response.get_json()["message"]
    assert count(SmsCode) == 1
    statuses = [
        client.post("/sms/send", data={"mobile": f"1390000{n:04d}", "purpose": "register"}).status_code
        for n in range(40)
    ]
    assert 429 in statuses and count(SmsCode) <= 30
