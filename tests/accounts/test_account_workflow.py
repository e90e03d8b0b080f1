"""Accounts have a state machine of their own (ACCOUNT: 启用 ⇄ 停用, on `active`): the grids'
停用/启用 go through workflows.transition and its audit, and its party rule keeps an
organisation's administrator to its own sub-accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from ecqs import workflows
from ecqs.extensions import db
from ecqs.models import AuditEvent, User, utcnow
from tests.conftest import login, make_org, make_user


def transitions_of(user):
    return list(
        db.session.execute(
            select(AuditEvent.action, AuditEvent.from_state, AuditEvent.to_state)
            .where(AuditEvent.event == "transition", AuditEvent.object_type == "User")
            .where(AuditEvent.object_id == user.id)
            .order_by(AuditEvent.id)
        ).all()
    )


def test_admin_disable_and_enable_are_audited_transitions(client):
    admin = make_user("admin")
    person = make_user("person")
    person.failed_logins, person.locked_until = 5, utcnow() + timedelta(hours=1)
    db.session.commit()
    login(client, admin)
    client.post("/admin/users/action/", data={"action": "disable", "rowid": [person.id]})
    db.session.expire_all()
    assert db.session.get(User, person.id).active is False
    client.post("/admin/users/action/", data={"action": "enable", "rowid": [person.id]})
    db.session.expire_all()
    person = db.session.get(User, person.id)
    assert (person.active, person.failed_logins, person.locked_until) == (True, 0, None)
    assert [tuple(map(str, row)) for row in transitions_of(person)] == [
        ("disable", "active", "disabled"),
        ("enable", "disabled", "active"),
    ]


def test_an_org_admin_switches_only_its_own_sub_accounts():
    org, other_org = make_org(), make_org()
    admin = make_user("enterprise", org=org, is_org_admin=True)
    sub = make_user("enterprise", org=org, is_org_admin=False)
    stranger = make_user("enterprise", org=other_org, is_org_admin=False)
    assert workflows.can(sub, "disable", admin)
    assert not workflows.can(stranger, "disable", admin)
    assert not workflows.can(admin, "disable", admin)  # not the administrator's own account
    with pytest.raises(workflows.IllegalState):
        workflows.transition(sub, "enable", admin)  # already enabled
