"""Login, lockout, captcha, the staff SMS factor, SMS quotas, password recovery and change,
server-side sessions (logout, idle expiry, new id at login), staff password age."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from ecqs.accounts import auth
from ecqs.extensions import db
from ecqs.models import AuditEvent, SmsCode, User, UserSession, utcnow
from ecqs.services import sms
from tests.accounts.fixtures import count, csrf_from, last_sms_code, text
from tests.conftest import PASSWORD, login, make_user

# ---- user type, wrong password, lockout ------------------------------------------------------------


def test_login_success_audited(client):
    user = make_user("person")
    response = login(client, user)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/")
    event = db.session.execute(select(AuditEvent).where(AuditEvent.event == "login")).scalar_one()
    assert (event.result, event.user_id, event.ip) == ("success", user.id, "127.0.0.1")
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at is not None


@pytest.mark.parametrize(
    "role,user_type", [("person", "enterprise"), ("enterprise", "person"), ("admin", "institution")]
)
def test_user_type_mismatch(client, role, user_type):
    user = make_user(role)
    response = client.post(
        "/login", data={"user_type": user_type, "username": user.username, "password": PASSWORD}
    )
    assert "用户类型与账号不符" in text(response)
    assert client.get("/admin/").status_code == 302
    assert count(AuditEvent, AuditEvent.event == "login", AuditEvent.result == "failure") == 1


def test_wrong_password_and_unknown_user_same_message(client):
    user = make_user("person")
    wrong = text(login(client, user, password="Wrong#Pass2026"))
    unknown = text(client.post("/login", data={"user_type": "person", "username": "nobody", "password": "x"}))
    assert "用户名或密码错误" in wrong and "用户名或密码错误" in unknown
    failures = db.session.execute(
        select(AuditEvent.username).where(AuditEvent.event == "login", AuditEvent.result == "failure")
    ).scalars()
    assert set(failures) == {user.username, "nobody"}


def test_five_failures_lock_for_fifteen_minutes(client):
    user = make_user("enterprise")
    for _ in range(4):
        assert "用户名或密码错误" in text(login(client, user, password="Wrong#Pass2026"))
    assert "已锁定" in text(login(client, user, password="Wrong#Pass2026"))
    db.session.expire_all()
    locked_until = db.session.get(User, user.id).locked_until
    assert timedelta(minutes=14) < locked_until - utcnow() <= timedelta(minutes=15)
    # Even the right password is refused while locked.
    page = text(login(client, user))
    assert "已锁定" in page and "15 分钟" in page
    assert client.get("/admin/").status_code == 302
    assert count(AuditEvent, AuditEvent.event == "account_locked") == 1
    # After the 15 minutes the right password works again and resets the counter.
    db.session.execute(
        update(User).where(User.id == user.id).values(locked_until=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert login(client, user).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 0


def test_disabled_account_cannot_log_in_and_loses_its_session(client):
    user = make_user("person")
    assert login(client, user).status_code == 302
    user.active = False
    db.session.commit()
    assert client.get("/admin/").status_code == 302  # the open session no longer works
    assert "账号已停用" in text(login(client, user))


# ---- redirects after login ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target,expected",
    [
        ("/admin/notifications/", "/admin/notifications/"),
        ("//evil.com/x", "/admin/"),
        ("https://evil.com/", "/admin/"),
        ("/\\evil.com", "/admin/"),
        ("javascript:alert(1)", "/admin/"),
    ],
)
def test_next_only_local(client, target, expected):
    user = make_user("person")
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"user_type": "person", "username": user.username, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_language_switch_redirect_only_local(client):
    response = client.post("/lang/en", data={"next": "//evil.com"})
    assert response.headers["Location"] in ("/admin/", "http://localhost/admin/")


# ---- server-side sessions ---------------------------------------------------------------------------


def test_new_session_id_at_every_login(client):
    user = make_user("person")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    login(client, user)
    with client.session_transaction() as sess:
        first = sess["_user_id"]
        assert "planted" not in sess
    client.post("/logout")
    login(client, user)
    with client.session_transaction() as sess:
        second = sess["_user_id"]
    assert first != second
    tokens = set(
        db.session.execute(select(UserSession.token).where(UserSession.user_id == user.id)).scalars()
    )
    assert tokens == {first, second}
    assert user.username not in first and str(user.id) != first


def test_logout_ends_server_side_session(client):
    user = make_user("person")
    login(client, user)
    old_cookie = client.get_cookie("session").value
    assert client.get("/admin/").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302
    assert db.session.execute(select(UserSession.ended_at)).scalar() is not None
    # Replaying the cookie from before the logout gets nowhere.
    client.set_cookie("session", old_cookie)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert count(AuditEvent, AuditEvent.event == "logout") == 1


def test_idle_session_expires(client, app):
    user = make_user("person")
    login(client, user)
    assert client.get("/admin/").status_code == 200
    idle = app.config["SESSION_IDLE_MINUTES"]
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=idle + 1)))
    db.session.commit()
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "长时间未操作" in text(client.get("/login"))
    db.session.expire_all()
    assert db.session.execute(select(UserSession.ended_at)).scalar() is not None


def test_active_session_stays(client, app):
    user = make_user("person")
    login(client, user)
    idle = app.config["SESSION_IDLE_MINUTES"]
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=idle - 1)))
    db.session.commit()
    assert client.get("/admin/").status_code == 200
    db.session.expire_all()
    # The visit moved the idle clock forward.
    assert utcnow() - db.session.execute(select(UserSession.last_seen_at)).scalar() < timedelta(minutes=1)


def test_session_cookie_flags(client):
    user = make_user("person")
    response = login(client, user)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "remember_token" not in " ".join(response.headers.getlist("Set-Cookie"))


# ---- staff password age ------------------------------------------------------------------------------


def test_staff_password_older_than_90_days_must_change(client):
    staff = make_user("reviewer")
    staff.password_changed_at = utcnow() - timedelta(days=91)
    db.session.commit()
    assert login(client, staff).status_code == 302
    response = client.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")
    assert client.get("/admin/notifications/").headers["Location"].endswith("/account/password")
    page = text(client.get("/account/password"))
    assert "90 天" in page
    response = client.post(
        "/account/password",
        data={"current": PASSWORD, "password": "Fresh#Pass2026", "password_confirm": "Fresh#Pass2026"},
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_old_password_of_non_staff_not_forced(client):
    user = make_user("enterprise")
    user.password_changed_at = utcnow() - timedelta(days=400)
    db.session.commit()
    login(client, user)
    assert client.get("/admin/").status_code == 200


def test_change_password_needs_current_and_policy(client):
    user = make_user("person", username="wangwu")
    login(client, user)
    page = text(
        client.post(
            "/account/password",
            data={
                "current": "Wrong#Pass2026",
                "password": "Fresh#Pass2026",
                "password_confirm": "Fresh#Pass2026",
            },
        )
    )
    assert "当前密码不正确" in page
    page = text(
        client.post(
            "/account/password",
            data={"current": PASSWORD, "password": "Wangwu#2026x", "password_confirm": "Wangwu#2026x"},
        )
    )
    assert "密码不能包含用户名" in page
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(PASSWORD)


# ---- SMS codes ---------------------------------------------------------------------------------------


def test_at_most_three_codes_per_mobile_per_day(client):
    user = make_user("person")
    for _ in range(3):
        response = client.post("/sms/send", data={"mobile": user.mobile, "purpose": "reset"})
        assert response.status_code == 200
    response = client.post("/sms/send", data={"mobile": user.mobile, "purpose": "reset"})
    assert response.status_code == 429 and "上限" in response.get_json()["message"]
    assert count(SmsCode) == 3
    # Yesterday's codes no longer count.
    db.session.execute(update(SmsCode).values(created_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    assert client.post("/sms/send", data={"mobile": user.mobile, "purpose": "reset"}).status_code == 200


def test_sms_codes_hashed_single_use_bound_to_purpose(app):
    with app.test_request_context():
        code = sms.issue_code("13900001111", "register")
        db.session.commit()
        stored = db.session.execute(select(SmsCode)).scalar_one()
        assert code not in stored.code_hash and len(code) == 6 and code.isdigit()
        assert stored.expires_at - stored.created_at == timedelta(minutes=10)
        assert not sms.verify_code("13900001111", "reset", code)  # other purpose
        assert not sms.verify_code("13900002222", "register", code)  # other mobile
        assert sms.verify_code("13900001111", "register", code)
        assert not sms.verify_code("13900001111", "register", code)  # used
        publicity = sms.issue_code("13900003333", "publicity")
        row = db.session.execute(select(SmsCode).where(SmsCode.mobile == "13900003333")).scalar_one()
        assert row.expires_at - row.created_at == timedelta(hours=24)
        assert publicity


def test_sms_code_expires_and_attempts_limited(app):
    with app.test_request_context():
        code = sms.issue_code("13900004444", "reset")
        db.session.execute(update(SmsCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        assert not sms.verify_code("13900004444", "reset", code)
        db.session.rollback()
        code = sms.issue_code("13900005555", "reset")
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(sms.MAX_CODE_ATTEMPTS):
            assert not sms.verify_code("13900005555", "reset", wrong)
        assert not sms.verify_code("13900005555", "reset", code)  # too many guesses
        db.session.rollback()


# ---- password recovery -------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["username", "mobile"])
def test_password_recovery(client, by):
    user = make_user("enterprise")
    login(client, user)  # an open session that the reset must end
    other = client.application.test_client()
    response = other.post("/sms/send", data={"mobile": user.mobile, "purpose": "reset"})
    assert response.get_json()["ok"]
    code = last_sms_code(user.mobile)
    response = other.post(
        "/forgot",
        data={
            "account": user.username if by == "username" else user.mobile,
            "mobile": user.mobile,
            "sms_code": code,
            "password": "Reset#Pass2026",
            "password_confirm": "Reset#Pass2026",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password("Reset#Pass2026")
    assert client.get("/admin/").status_code == 302  # the old session ended
    assert login(other, user, password="Reset#Pass2026").status_code == 302
    assert count(AuditEvent, AuditEvent.event == "password_reset") == 1


def test_password_recovery_refusals(client):
    user = make_user("person")
    stranger = make_user("person")
    client.post("/sms/send", data={"mobile": user.mobile, "purpose": "reset"})
    code = last_sms_code(user.mobile)
    base = {"account": user.username, "mobile": user.mobile, "sms_code": code}
    page = text(
        client.post(
            "/forgot",
            data=dict(
                base, mobile=stranger.mobile, password="Reset#Pass2026", password_confirm="Reset#Pass2026"
            ),
        )
    )
    # Before a code of that mobile is proven, nothing is said about the account (finding 7).
    assert "账号与注册手机号不匹配" not in page and "短信验证码错误或已过期" in page
    page = text(client.post("/forgot", data=dict(base, password="abc", password_confirm="abc")))
    assert "密码长度" in page
    wrong = "000000" if code != "000000" else "111111"
    page = text(
        client.post(
            "/forgot",
            data=dict(base, sms_code=wrong, password="Reset#Pass2026", password_confirm="Reset#Pass2026"),
        )
    )
    assert "短信验证码错误或已过期" in page
    # An unregistered mobile gets the same answer and no code (finding 7).
    assert client.post("/sms/send", data={"mobile": "13911112222", "purpose": "reset"}).status_code == 200
    assert count(SmsCode, SmsCode.mobile == "13911112222") == 0
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(PASSWORD)


# ---- captcha and the staff SMS factor (production switches on) ---------------------------------------


def _strict_login(client, user, user_type, captcha="ABCD", password=PASSWORD, next_url=None):
    page = text(client.get("/login"))
    token = csrf_from(page)
    assert client.get("/captcha.png").headers["Content-Type"] == "image/png"
    return client.post(
        "/login" + (f"?next={next_url}" if next_url else ""),
        data={
            "csrf_token": token,
            "user_type": user_type,
            "username": user.username,
            "password": password,
            "captcha": captcha,
        },
    )


def test_captcha_required_and_single_use(strict_app, monkeypatch):
    monkeypatch.setattr(auth, "new_captcha_answer", lambda: "ABCD")
    user = make_user("person")
    client = strict_app.test_client()
    assert "验证码" in text(client.get("/login"))
    page = text(_strict_login(client, user, "person", captcha="WXYZ"))
    assert "验证码错误" in page
    assert client.get("/admin/").status_code == 302
    # Lower case is accepted; the right answer logs in.
    response = _strict_login(client, user, "person", captcha="abcd")
    assert response.status_code == 302
    client.post("/logout", data={"csrf_token": csrf_from(text(client.get("/admin/")))})

    # Single use: replaying a session cookie that still names a spent challenge fails.
    client.get("/captcha.png")
    cookie = client.get_cookie("session").value
    token = csrf_from(text(client.get("/login")))
    cookie = client.get_cookie("session").value
    data = {
        "csrf_token": token,
        "user_type": "person",
        "username": user.username,
        "password": "Wrong#1x",
        "captcha": "ABCD",
    }
    assert "用户名或密码错误" in text(client.post("/login", data=data))
    client.set_cookie("session", cookie)
    data["password"] = PASSWORD
    assert "验证码错误" in text(client.post("/login", data=data))
    # No captcha fetched at all: refused.
    fresh = strict_app.test_client()
    token = csrf_from(text(fresh.get("/login")))
    data["csrf_token"] = token
    assert "验证码错误" in text(fresh.post("/login", data=data))


def test_staff_sms_factor(strict_app, monkeypatch):
    monkeypatch.setattr(auth, "new_captcha_answer", lambda: "ABCD")
    admin = make_user("admin")
    client = strict_app.test_client()
    response = _strict_login(client, admin, "staff", next_url="/admin/users/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/verify")
    assert client.get("/admin/").status_code == 302  # not logged in yet
    page = text(client.get("/login/verify"))
    assert admin.mobile[:3] + "****" + admin.mobile[-4:] in page
    code = last_sms_code(admin.mobile)
    wrong = "000000" if code != "000000" else "111111"
    page = text(client.post("/login/verify", data={"csrf_token": csrf_from(page), "code": wrong}))
    assert "短信验证码错误" in page
    response = client.post("/login/verify", data={"csrf_token": csrf_from(page), "code": code})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/users/")
    assert client.get("/admin/users/").status_code == 200


def test_staff_sms_factor_not_for_organisations(strict_app, monkeypatch):
    monkeypatch.setattr(auth, "new_captcha_answer", lambda: "ABCD")
    user = make_user("enterprise")
    client = strict_app.test_client()
    response = _strict_login(client, user, "enterprise")
    assert response.headers["Location"].endswith("/admin/")
    assert count(SmsCode) == 0


def test_staff_sms_factor_expires(strict_app, monkeypatch):
    monkeypatch.setattr(auth, "new_captcha_answer", lambda: "ABCD")
    admin = make_user("association")
    client = strict_app.test_client()
    _strict_login(client, admin, "staff")
    with client.session_transaction() as sess:
        pending = sess["pending_2fa"]
        pending["at"] = (utcnow() - timedelta(minutes=11)).isoformat()
        sess["pending_2fa"] = pending
    response = client.get("/login/verify")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_sms_delivered_only_after_commit(app, monkeypatch):
    from ecqs.models import SmsMessage

    delivered = []
    monkeypatch.setattr(sms.OutboxBackend, "deliver", lambda self, msg: delivered.append(msg.body))
    with app.test_request_context():
        sms.send("13900006666", "回滚的消息")
        db.session.flush()
        db.session.rollback()
        assert delivered == []
        sms.send("13900006666", "提交的消息")
        assert delivered == []
        db.session.commit()
    assert delivered == ["提交的消息"]
    row = db.session.execute(select(SmsMessage)).scalar_one()
    assert row.status == "sent"
