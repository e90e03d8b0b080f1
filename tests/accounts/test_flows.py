"""End-to-end M0 flows with the test client: organisation review and resubmission, enterprise
links, sub-accounts, admin grid exports, the inbox."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from ecqs.extensions import db
from ecqs.models import (
    AuditEvent,
    Division,
    EnterpriseLink,
    Notice,
    Notification,
    Organization,
    SmsMessage,
    User,
    utcnow,
)
from tests.accounts.fixtures import count, text, xlsx_rows
from tests.conftest import login, make_org, make_uscc, make_user
from tests.views.test_flask_admin_traps import _filter_arg

# ---- organisation review --------------------------------------------------------------------------


def test_review_reject_resubmit_approve(client):
    org = make_org(status="pending", name="待审企业")
    applicant = make_user("enterprise", org=org)
    admin = make_user("admin")

    login(client, admin)
    details = text(client.get(f"/admin/organizations/details/?id={org.id}"))
    assert 'data-action="approve"' in details and 'data-action="reject"' in details
    # Reject needs a reason.
    client.post(f"/admin/organizations/transition/{org.id}/reject", data={"expected_state": "pending"})
    assert db.session.get(Organization, org.id).status == "pending"
    client.post(
        f"/admin/organizations/transition/{org.id}/reject",
        data={"expected_state": "pending", "comment": "营业执照不清晰"},
    )
    db.session.expire_all()
    assert (org.status, org.reject_reason) == ("rejected", "营业执照不清晰")
    assert count(Notification, Notification.user_id == applicant.id) == 1
    assert count(SmsMessage, SmsMessage.mobile == applicant.mobile) == 1
    details = text(client.get(f"/admin/organizations/details/?id={org.id}"))
    assert "营业执照不清晰" in details and 'data-action="approve"' not in details
    client.post("/logout")

    login(client, applicant)
    home = text(client.get("/admin/"))
    assert "营业执照不清晰" in home and "/account/organization/resubmit" in home
    response = client.post(
        "/account/organization/resubmit",
        data={
            "name": "待审企业（已更正）",
            "address": "新地址",
            "legal_rep_name": "法人",
            "contact_name": "联系人",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (org.status, org.name, org.reject_reason) == ("pending", "待审企业（已更正）", "营业执照不清晰")
    # Resubmitting twice is refused.
    response = client.get("/account/organization/resubmit")
    assert response.status_code == 302
    assert client.get("/admin/subaccounts/").status_code == 302
    client.post("/logout")

    login(client, admin)
    client.post(f"/admin/organizations/transition/{org.id}/approve", data={"expected_state": "pending"})
    db.session.expire_all()
    assert org.status == "approved" and org.approved_at is not None and org.reject_reason is None
    timeline = text(client.get(f"/admin/organizations/details/?id={org.id}"))
    assert timeline.count("→") >= 3
    client.post("/logout")

    login(client, applicant)
    assert client.get("/admin/subaccounts/").status_code == 200
    assert "已通过" not in text(client.get("/admin/")) or "等待人工审核" not in text(client.get("/admin/"))
    events = db.session.execute(
        select(AuditEvent.action).where(AuditEvent.event == "transition").order_by(AuditEvent.id)
    ).scalars()
    assert list(events) == ["reject", "resubmit", "approve"]


def test_double_submit_of_a_review_has_one_effect(client):
    org = make_org(status="pending")
    login(client, make_user("admin"))
    url = f"/admin/organizations/transition/{org.id}/approve"
    client.post(url, data={"expected_state": "pending"})
    page = text(client.post(url, data={"expected_state": "pending"}, follow_redirects=True))
    assert "已被他人处理" in page
    assert count(AuditEvent, AuditEvent.event == "transition") == 1


def test_bulk_reject_not_offered(client):
    org = make_org(status="pending")
    login(client, make_user("admin"))
    page = text(client.get("/admin/organizations/"))
    assert "wf_approve" in page and "wf_reject" not in page
    client.post("/admin/organizations/action/", data={"action": "wf_reject", "rowid": [org.id]})
    db.session.expire_all()
    assert org.status == "pending"


def test_association_buttons_only_for_units(client):
    unit = make_org(kind="unit", status="pending")
    login(client, make_user("association"))
    page = text(client.get(f"/admin/organizations/details/?id={unit.id}"))
    assert 'data-action="approve"' in page


# ---- enterprise links -----------------------------------------------------------------------------


def test_person_links_to_enterprise(client):
    org = make_org(name="关联企业甲")
    ent_admin = make_user("enterprise", org=org)
    pending_org = make_org(status="pending")
    person = make_user("person", real_name="李四")

    login(client, person)
    assert "申请关联企业" in text(client.get("/admin/"))
    page = text(client.post("/account/link", data={"uscc": make_uscc()}))
    assert "未找到已通过审核的该企业" in page
    page = text(client.post("/account/link", data={"uscc": pending_org.uscc}))
    assert "未找到已通过审核的该企业" in page
    page = text(client.post("/account/link", data={"uscc": "123"}))
    assert "统一社会信用代码不正确" in page and 'value="123"' in page
    assert count(EnterpriseLink) == 0
    assert client.post("/account/link", data={"uscc": org.uscc}).status_code == 302
    page = text(client.post("/account/link", data={"uscc": org.uscc}))
    assert "不能重复申请" in page
    assert count(EnterpriseLink) == 1
    link = db.session.execute(select(EnterpriseLink)).scalar_one()
    assert link.status == "pending"
    assert count(Notification, Notification.user_id == ent_admin.id) == 1
    client.post("/logout")

    login(client, ent_admin)
    home = text(client.get("/admin/"))
    assert "关联企业申请：李四" in home
    client.post(
        f"/admin/links/transition/{link.id}/reject",
        data={"expected_state": "pending", "comment": "非本单位员工"},
    )
    db.session.expire_all()
    assert (link.status, link.reject_reason) == ("rejected", "非本单位员工")
    client.post("/logout")

    login(client, person)
    assert "非本单位员工" in text(client.get("/account/link"))
    # After a rejection the person may apply again; this time the admin approves.
    assert client.post("/account/link", data={"uscc": org.uscc}).status_code == 302
    second = db.session.execute(select(EnterpriseLink).where(EnterpriseLink.status == "pending")).scalar_one()
    client.post("/logout")
    login(client, ent_admin)
    client.post("/admin/links/action/", data={"action": "wf_approve", "rowid": [second.id]})
    db.session.expire_all()
    assert second.status == "approved"


def test_link_page_only_for_persons(client):
    login(client, make_user("enterprise"))
    assert client.get("/account/link").status_code == 403


# ---- sub-accounts -------------------------------------------------------------------------------


def test_enterprise_admin_creates_and_disables_sub_accounts(client):
    admin = make_user("enterprise")
    login(client, admin)
    data = {
        "username": "sub_one",
        "real_name": "子账号一",
        "mobile": "13711112222",
        "email": "",
        "password": "Sub#Pass2026",
        "password_confirm": "Sub#Pass2026",
    }
    response = client.post("/admin/subaccounts/new/", data=data)
    assert response.status_code == 302
    sub = db.session.execute(select(User).where(User.username == "sub_one")).scalar_one()
    assert (sub.role, sub.organization_id, sub.is_org_admin, sub.created_by_id) == (
        "enterprise",
        admin.organization_id,
        False,
        admin.id,
    )
    assert sub.check_password("Sub#Pass2026")

    # Policy, duplicates: refused with a message, nothing saved.
    page = text(
        client.post(
            "/admin/subaccounts/new/",
            data=dict(data, username="sub_two", password="weak", password_confirm="weak"),
        )
    )
    assert "密码长度" in page
    page = text(
        client.post("/admin/subaccounts/new/", data=dict(data, mobile="13722223333"), follow_redirects=True)
    )
    assert "已经存在" in page and "invalid-feedback" in page and 'value="sub_one"' in page
    assert count(User, User.organization_id == admin.organization_id) == 2
    client.post("/logout")

    sub_client = client.application.test_client()
    assert login(sub_client, sub, password="Sub#Pass2026").status_code == 302
    assert sub_client.get("/admin/subaccounts/").status_code == 403

    login(client, admin)
    client.post("/admin/subaccounts/action/", data={"action": "disable", "rowid": [sub.id, admin.id]})
    db.session.expire_all()
    assert sub.active is False and admin.active is True  # the admin account cannot be disabled here
    assert sub_client.get("/admin/").status_code == 302  # the sub-account's session is over
    assert "账号已停用" in text(login(sub_client, sub, password="Sub#Pass2026"))
    client.post("/admin/subaccounts/action/", data={"action": "enable", "rowid": [sub.id]})
    db.session.expire_all()
    assert sub.active is True


# ---- admin grids export their current filter ------------------------------------------------------


def test_admin_grids_export_current_filter(app, client):
    admin = make_user("admin")
    make_user("person", username="person_x")
    make_user("enterprise", username="ent_x")
    db.session.add_all(
        [
            Notice(title="全体公告", body="正文", audience="all"),
            Notice(title="企业公告", body="正文", audience="enterprise"),
            SmsMessage(mobile="13900009999", body="短信甲", purpose="notice", backend="outbox"),
            SmsMessage(mobile="13900008888", body="短信乙", purpose="register", backend="outbox"),
        ]
    )
    db.session.commit()
    login(client, admin)

    arg = _filter_arg(app, "users", "role", "equals")
    rows = xlsx_rows(client.get(f"/admin/users/export/xlsx/?{arg}=person"))
    assert rows[0][0] == "用户名" and [r[0] for r in rows[1:]] == ["person_x"]

    rows = xlsx_rows(client.get("/admin/divisions/export/xlsx/?search=雁塔"))
    assert rows[0][:2] == ["代码", "名称"] and [r[0] for r in rows[1:]] == ["610113"]
    arg = _filter_arg(app, "divisions", "level", "equals")
    rows = xlsx_rows(client.get(f"/admin/divisions/export/xlsx/?{arg}=1"))
    assert len(rows) - 1 == 34

    rows = xlsx_rows(client.get("/admin/sms_outbox/export/xlsx/?search=13900009999"))
    assert [r[1] for r in rows[1:]] == ["139****9999"]  # searched by the full number, exported masked
    assert rows[0][1] == "手机号"

    rows = xlsx_rows(client.get("/admin/notices/export/xlsx/?search=企业"))
    assert [r[0] for r in rows[1:]] == ["企业公告"]
    notices_page = text(client.get("/admin/notices/"))
    assert "/admin/notices/export/xlsx/" in notices_page

    arg = _filter_arg(app, "audit", "event", "equals")
    rows = xlsx_rows(client.get(f"/admin/audit/export/xlsx/?{arg}=login"))
    header = rows[0]
    assert {r[header.index("事件")] for r in rows[1:]} == {"登录"}
    assert {r[header.index("结果")] for r in rows[1:]} == {"成功"}
    assert "登录" in text(client.get(f"/admin/audit/?{arg}=login"))

    orgs = xlsx_rows(client.get("/admin/organizations/export/xlsx/"))
    assert orgs[0][0] == "单位名称"


def test_notice_shown_to_its_audience(client):
    db.session.add_all(
        [
            Notice(title="给企业的公告", body="正文一", audience="enterprise"),
            Notice(title="给个人的公告", body="正文二", audience="person"),
        ]
    )
    db.session.commit()
    login(client, make_user("enterprise"))
    home = text(client.get("/admin/"))
    assert "给企业的公告" in home and "给个人的公告" not in home


# ---- inbox ----------------------------------------------------------------------------------------


def test_admin_inbox_oldest_deadline_first(client):
    recent = make_org(status="pending", name="新近提交的单位")
    old = make_org(status="pending", name="很早提交的单位")
    old.submitted_at = utcnow() - timedelta(days=30)
    db.session.commit()
    make_org(status="approved", name="已审核单位")
    login(client, make_user("admin"))
    home = text(client.get("/admin/"))
    assert home.index("很早提交的单位") < home.index("新近提交的单位")
    assert "已审核单位" not in home
    assert "已超期" in home
    assert f"/admin/organizations/details/?id={recent.id}" in home
    assert re.search(r'id="inbox-count">\s*2\s*<', home)


def test_association_inbox_only_units(client):
    make_org(kind="unit", status="pending", name="待审执业单位")
    make_org(kind="enterprise", status="pending", name="待审普通企业")
    login(client, make_user("association"))
    home = text(client.get("/admin/"))
    assert "待审执业单位" in home and "待审普通企业" not in home


def test_enterprise_admin_inbox_shows_link_requests(client):
    org = make_org()
    ent_admin = make_user("enterprise", org=org)
    person = make_user("person", real_name="王小二")
    db.session.add(EnterpriseLink(person_id=person.id, organization_id=org.id))
    other = make_user("person", real_name="别家申请人")
    db.session.add(EnterpriseLink(person_id=other.id, organization_id=make_org().id))
    db.session.commit()
    login(client, ent_admin)
    home = text(client.get("/admin/"))
    assert "王小二" in home and "别家申请人" not in home
    sub = make_user("enterprise", org=org, is_org_admin=False)
    client.post("/logout")
    login(client, sub)
    assert "王小二" not in text(client.get("/admin/"))  # a sub-account cannot decide


@pytest.mark.parametrize("role", ["person", "reviewer", "metrology"])
def test_inbox_empty_for_roles_without_m0_work(client, role):
    make_org(status="pending")
    login(client, make_user(role))
    assert "暂无待办事项" in text(client.get("/admin/"))


def test_divisions_loaded(app):
    assert count(Division, Division.level == 1) == 34
    xian = db.session.get(Division, "610100")
    assert xian.name == "西安市" and xian.parent_code == "610000"
    districts = set(
        db.session.execute(select(Division.name).where(Division.parent_code == "610100")).scalars()
    )
    assert {
        "新城区",
        "碑林区",
        "莲湖区",
        "雁塔区",
        "长安区",
        "高陵区",
        "鄠邑区",
        "蓝田县",
        "周至县",
    } <= districts
    assert db.session.get(Division, "610113").full_name == "陕西省西安市雁塔区"
    assert db.session.get(Division, "110101").full_name == "北京市东城区"


def test_sms_outbox_records_delivery(client):
    from tests.accounts.fixtures import last_sms_code

    response = client.post("/sms/send", data={"mobile": "13900007777", "purpose": "register"})
    assert response.get_json()["ok"]
    message = db.session.execute(select(SmsMessage)).scalar_one()
    db.session.refresh(message)
    assert message.status == "sent" and message.sent_at is not None
    assert last_sms_code("13900007777") in message.body
    login(client, make_user("admin"))
    page = text(client.get("/admin/sms_outbox/"))
    assert "注册验证码" in page and "已发送" in page
