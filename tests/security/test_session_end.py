"""Finding 6: a password change kept the user's other sessions alive. Other sessions now end on
a password change; all of them when the account is disabled or locked or its role changes."""

from __future__ import annotations

from ecqs.extensions import db
from ecqs.models import User
from tests.conftest import PASSWORD, login, make_user

NEW = "Changed#Pass2026"


def _two_sessions(app, user):
    first, second = app.test_client(), app.test_client()
    assert login(first, user).status_code == 302
    assert login(second, user).status_code == 302
    assert first.get("/admin/").status_code == 200 and second.get("/admin/").status_code == 200
    return first, second


def test_password_change_ends_other_sessions(app):
    user = make_user("person")
    first, second = _two_sessions(app, user)
    response = first.post(
        "/account/password", data={"current": PASSWORD, "password": NEW, "password_confirm": NEW}
    )
    assert response.status_code == 302
    assert first.get("/admin/").status_code == 200  # the session it was changed in stays
    assert second.get("/admin/").status_code == 302  # the other one ended


def test_disable_ends_every_session(app):
    user = make_user("person")
    first, second = _two_sessions(app, user)
    admin = app.test_client()
    login(admin, make_user("admin"))
    assert admin.post("/admin/users/action/", data={"action": "disable", "rowid": user.id}).status_code == 302
    user = db.session.get(User, user.id)
    db.session.refresh(user)
    user.active = True  # even enabled again at once, the old sessions stay ended
    db.session.commit()
    assert first.get("/admin/").status_code == 302 and second.get("/admin/").status_code == 302


def test_role_change_ends_every_session(app):
    user = make_user("association")
    first, second = _two_sessions(app, user)
    db.session.refresh(user)
    user.role = "admin"
    db.session.commit()
    assert first.get("/admin/").status_code == 302 and second.get("/admin/").status_code == 302


def test_lock_ends_every_session(app):
    user = make_user("person")
    first, _second = _two_sessions(app, user)
    attacker = app.test_client()
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        login(attacker, user, password="Wrong#Pass1")
    db.session.expire_all()
    assert db.session.get(User, user.id).locked_until is not None
    assert first.get("/admin/").status_code == 302
