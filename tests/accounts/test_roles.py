"""Per role: which M0 grids each role reaches, and row scope through every door (list, details,
edit, delete, actions, export, file download, direct URL)."""

from __future__ import annotations

import pytest

from ecqs.extensions import db
from ecqs.models import ORG_ROLES, EnterpriseLink, Notification, Organization, User
from tests.accounts.fixtures import count, text, xlsx_rows
from tests.conftest import make_org, make_user

ROLES = ["person", "enterprise", "metrology", "assessor", "unit", "reviewer", "association", "admin"]
GRID_ROLES = {
    "my_org": set(ORG_ROLES),
    "links": {"enterprise", "person", "admin"},
    "subaccounts": set(ORG_ROLES) - {"unit"},  # units: 单位账号管理 (tests/registry)
    "unit_accounts": {"unit"},
    "notifications": set(ROLES),
    "organizations": {"admin", "association"},
    "users": {"admin"},
    "divisions": {"admin"},
    "sms_outbox": {"admin"},
    "notices": {"admin"},
    "audit": {"admin"},
}
MENU_LABELS = {
    "organizations": "单位/机构管理",
    "users": "用户管理",
    "audit": "审计日志",
    "sms_outbox": "短信发件箱",
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_only_its_grids(client, login_as, role):
    login_as(role)
    for endpoint, roles in GRID_ROLES.items():
        response = client.get(f"/admin/{endpoint}/")
        expected = 200 if role in roles else 403
        assert response.status_code == expected, (role, endpoint)
        if role not in roles:
            # Every other door of a refused grid is closed too.
            for door in ("details/?id=1", "edit/?id=1", "new/", "export/xlsx/"):
                assert client.get(f"/admin/{endpoint}/{door}").status_code == 403, (role, endpoint, door)
            assert (
                client.post(
                    f"/admin/{endpoint}/action/", data={"action": "delete", "rowid": ["1"]}
                ).status_code
                == 403
            )
    home = text(client.get("/admin/"))
    for endpoint, label in MENU_LABELS.items():
        assert (label in home) == (role in GRID_ROLES[endpoint]), (role, label)


def test_denied_grid_is_audited(client, login_as):
    from ecqs.models import AuditEvent

    user = login_as("person")
    client.get("/admin/users/")
    assert count(AuditEvent, AuditEvent.event == "access_denied", AuditEvent.user_id == user.id) == 1


def test_anonymous_sent_to_login(client):
    for endpoint in GRID_ROLES:
        response = client.get(f"/admin/{endpoint}/")
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_sub_account_cannot_manage_accounts(client):
    org = make_org()
    sub = make_user("enterprise", org=org, is_org_admin=False)
    from tests.conftest import login

    login(client, sub)
    assert client.get("/admin/subaccounts/").status_code == 403
    response = client.post(
        "/admin/subaccounts/new/",
        data={"username": "sneaky", "real_name": "x", "mobile": "13912345678", "password": "Good#Pass2026"},
    )
    assert response.status_code == 403
    assert count(User, User.username == "sneaky") == 0


# ---- organisations ------------------------------------------------------------------------------


def test_organization_scope_for_members(app, client, login_as):
    me = login_as("enterprise")
    branch = make_org(name="本单位分支", parent_id=me.organization_id)
    other = make_org(name="别的企业")
    page = text(client.get("/admin/my_org/"))
    assert me.organization.name in page and "本单位分支" in page and "别的企业" not in page
    assert client.get(f"/admin/my_org/details/?id={me.organization_id}").status_code == 200
    assert client.get(f"/admin/my_org/details/?id={branch.id}").status_code == 200
    for url in (
        f"/admin/my_org/details/?id={other.id}",
        f"/admin/my_org/file/{other.id}/licence_upload",
    ):
        assert client.get(url).status_code == 404, url
    # Read-only grid: no edit, no create, no delete, no export.
    for url in (f"/admin/my_org/edit/?id={me.organization_id}", "/admin/my_org/new/"):
        assert client.get(url).status_code == 302, url
    assert client.post("/admin/my_org/delete/", data={"id": other.id}).status_code == 302
    assert client.get("/admin/my_org/export/xlsx/").status_code == 302
    assert count(Organization, Organization.id == other.id) == 1


def test_organization_scope_for_association(client, login_as):
    login_as("association")
    make_org(kind="unit", name="检验单位甲")
    make_org(kind="enterprise", name="企业乙")
    assert "检验单位甲" in text(client.get("/admin/organizations/"))
    assert "企业乙" not in text(client.get("/admin/organizations/"))
    names = {r[0] for r in xlsx_rows(client.get("/admin/organizations/export/xlsx/"))[1:]}
    assert "检验单位甲" in names and "企业乙" not in names


# ---- users and sub-accounts ---------------------------------------------------------------------


def test_sub_account_scope_every_door(client, login_as):
    me = login_as("enterprise")
    mine = make_user("enterprise", org=me.organization, is_org_admin=False, username="mine_one")
    other = make_user("enterprise", is_org_admin=False, username="other_one")
    page = text(client.get("/admin/subaccounts/"))
    assert "mine_one" in page and "other_one" not in page
    assert client.get(f"/admin/subaccounts/details/?id={mine.id}").status_code == 200
    assert client.get(f"/admin/subaccounts/details/?id={other.id}").status_code == 404
    assert client.get(f"/admin/subaccounts/edit/?id={other.id}").status_code == 404
    client.post("/admin/subaccounts/action/", data={"action": "disable", "rowid": [other.id]})
    assert db.session.get(User, other.id).active is True
    names = {r[0] for r in xlsx_rows(client.get("/admin/subaccounts/export/xlsx/"))[1:]}
    assert names == {me.username, "mine_one"}
    # Mobiles are masked in the list and the export.
    assert mine.mobile not in page and mine.mobile[:3] + "****" + mine.mobile[-4:] in page


def test_users_grid_shows_every_user_to_admin(client, login_as):
    login_as("admin")
    a = make_user("enterprise", username="ent_a")
    b = make_user("person", username="per_b")
    page = text(client.get("/admin/users/"))
    assert "ent_a" in page and "per_b" in page
    assert a.mobile not in page  # masked in the list
    details = text(client.get(f"/admin/users/details/?id={b.id}"))
    assert "per_b" in details


def test_org_admin_cannot_edit_own_admin_account_through_sub_accounts(client, login_as):
    me = login_as("enterprise")
    response = client.post(
        f"/admin/subaccounts/edit/?id={me.id}",
        data={"username": "renamed", "real_name": "x", "mobile": me.mobile, "password": "Other#Pass2026"},
    )
    assert response.status_code in (403, 404)
    db.session.expire_all()
    assert db.session.get(User, me.id).username == me.username


# ---- enterprise links ---------------------------------------------------------------------------


def _link(org, person=None, status="pending"):
    person = person or make_user("person")
    link = EnterpriseLink(person_id=person.id, organization_id=org.id, status=status)
    db.session.add(link)
    db.session.commit()
    return link


def test_link_scope_for_enterprise_admin(client, login_as):
    me = login_as("enterprise")
    mine = _link(me.organization, make_user("person", real_name="申请人甲"))
    theirs = _link(make_org(), make_user("person", real_name="申请人乙"))
    page = text(client.get("/admin/links/"))
    assert "申请人甲" in page and "申请人乙" not in page
    assert client.get(f"/admin/links/details/?id={mine.id}").status_code == 200
    assert client.get(f"/admin/links/details/?id={theirs.id}").status_code == 404
    response = client.post(f"/admin/links/transition/{theirs.id}/approve", data={"expected_state": "pending"})
    assert response.status_code == 404
    client.post("/admin/links/action/", data={"action": "wf_approve", "rowid": [mine.id, theirs.id]})
    db.session.expire_all()
    assert db.session.get(EnterpriseLink, mine.id).status == "approved"
    assert db.session.get(EnterpriseLink, theirs.id).status == "pending"
    names = {r[0] for r in xlsx_rows(client.get("/admin/links/export/xlsx/"))[1:]}
    assert names == {"申请人甲"}


def test_link_scope_for_person(client, login_as):
    me = login_as("person")
    org = make_org(name="企业丙")
    mine = _link(org, me)
    theirs = _link(org)
    page = text(client.get("/admin/links/"))
    assert "企业丙" in page
    assert client.get(f"/admin/links/details/?id={mine.id}").status_code == 200
    assert client.get(f"/admin/links/details/?id={theirs.id}").status_code == 404
    # A person cannot approve anything, even their own request.
    client.post(f"/admin/links/transition/{mine.id}/approve", data={"expected_state": "pending"})
    client.post("/admin/links/action/", data={"action": "wf_approve", "rowid": [mine.id]})
    db.session.expire_all()
    assert db.session.get(EnterpriseLink, mine.id).status == "pending"
    assert len(xlsx_rows(client.get("/admin/links/export/xlsx/"))) == 2


def test_sub_account_sees_links_but_cannot_decide(client):
    from tests.conftest import login

    org = make_org()
    link = _link(org)
    sub = make_user("enterprise", org=org, is_org_admin=False)
    login(client, sub)
    assert client.get(f"/admin/links/details/?id={link.id}").status_code == 200
    client.post(f"/admin/links/transition/{link.id}/approve", data={"expected_state": "pending"})
    db.session.expire_all()
    assert db.session.get(EnterpriseLink, link.id).status == "pending"


# ---- notifications ------------------------------------------------------------------------------


def test_notifications_only_own(client, login_as):
    me = login_as("person")
    stranger = make_user("person")
    mine = Notification(user_id=me.id, title="给我的消息")
    theirs = Notification(user_id=stranger.id, title="给别人的消息")
    db.session.add_all([mine, theirs])
    db.session.commit()
    page = text(client.get("/admin/notifications/"))
    assert "给我的消息" in page and "给别人的消息" not in page
    assert client.get(f"/admin/notifications/details/?id={theirs.id}").status_code == 404
    assert client.get("/admin/notifications/details/").status_code == 404
    assert client.get(f"/admin/notifications/details/?id={mine.id}").status_code == 200
    db.session.expire_all()
    assert db.session.get(Notification, mine.id).read_at is not None
    assert db.session.get(Notification, theirs.id).read_at is None
    titles = {r[1] for r in xlsx_rows(client.get("/admin/notifications/export/xlsx/"))[1:]}
    assert titles == {"给我的消息"}
    client.post("/admin/notifications/action/", data={"action": "delete", "rowid": [theirs.id]})
    assert count(Notification, Notification.id == theirs.id) == 1


# ---- unapproved organisations ---------------------------------------------------------------------


@pytest.mark.parametrize("status", ["pending", "rejected"])
def test_unapproved_org_reaches_no_business_grid(client, login_as, status):
    org = make_org(status=status)
    if status == "rejected":
        org.reject_reason = "营业执照模糊"
        db.session.commit()
    login_as(make_user("enterprise", org=org))
    for endpoint in ("links", "subaccounts"):
        response = client.get(f"/admin/{endpoint}/")
        assert response.status_code == 302 and response.headers["Location"].endswith("/admin/")
    assert client.get("/admin/my_org/").status_code == 200
    home = text(client.get("/admin/"))
    assert "尚未通过审核" in home or "等待人工审核" in home or "已被驳回" in home
    if status == "rejected":
        assert "营业执照模糊" in home and "修改后重新提交" in home
    else:
        assert "等待人工审核" in home
