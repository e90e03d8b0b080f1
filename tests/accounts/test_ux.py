"""What a Chinese back-office clerk sees on the M0 pages: no internals, no raw keys, no English."""

from __future__ import annotations

import re

from ecqs import workflows
from ecqs.extensions import db
from ecqs.models import Division, Organization
from ecqs.services import audit, sms
from tests.conftest import flashes, make_org, make_user


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def menu(html: str) -> str:
    return html.split("</nav>")[0]


def test_subaccount_details_hide_password_hash_and_show_chinese_labels(client, login_as):
    boss = login_as("enterprise")
    html = page(client, f"/admin/subaccounts/details/?id={boss.id}")
    assert boss.password_hash not in html
    for english in ("Password Hash", "Failed Logins", "Password Changed At", "Session Token"):
        assert english not in html
    assert "所属单位" in html and "单位管理员账号" in html
    assert boss.id_number not in html  # masked like in the list
    assert re.search(r"<td>\s*是\s*</td>", html)  # 单位管理员账号: 是, not a bare tick icon


def test_subaccount_list_offers_no_edit_link_for_the_org_admin_row(client, login_as):
    boss = login_as("enterprise")
    sub = make_user("enterprise", org=boss.organization, is_org_admin=False)
    html = page(client, "/admin/subaccounts/")
    assert f"/admin/subaccounts/edit/?id={sub.id}" in html
    assert f"/admin/subaccounts/edit/?id={boss.id}" not in html


def test_booleans_read_shi_fou(client, login_as):
    login_as("admin")
    html = page(client, "/admin/users/")
    assert "fa-check-circle" not in html and "fa-minus-circle" not in html
    assert re.search(r"<td[^>]*>\s*是\s*</td>", html)


def test_optional_relation_select_has_no_none_placeholder(client, login_as):
    login_as("admin")
    html = page(client, "/admin/users/new/")
    assert ">__None<" not in html
    assert "（无）" in html


def test_division_details_open(client, login_as):
    login_as("admin")
    division = db.session.get(Division, "610113") or Division(code="610113", name="雁塔区", level=3)
    db.session.add(division)
    db.session.commit()
    html = page(client, "/admin/divisions/details/?id=610113")
    assert "雁塔区" in html


def test_sms_outbox_details_label_in_chinese(client, app, login_as):
    login_as("admin")
    message = sms.send("13900000000", "测试短信")
    db.session.commit()
    html = page(client, f"/admin/sms_outbox/details/?id={message.id}")
    assert "Sent At" not in html
    assert "发送时间" in html


def test_sms_outbox_channel_in_chinese(client, app, login_as):
    login_as("admin")
    message = sms.send("13900000001", "测试短信")
    db.session.commit()
    assert message.backend == "outbox"
    for url in ("/admin/sms_outbox/", f"/admin/sms_outbox/details/?id={message.id}"):
        html = page(client, url)
        cells = re.sub(r"\s+", "", html.split("model-list")[-1] if "model-list" in html else html)
        assert ">outbox<" not in cells, url
        assert "站内发件箱" in html, url
    labels = {name: str(label) for name, label in sms.BACKEND_LABELS.items()}
    assert (labels["alibaba"], labels["tencent"]) == ("阿里云短信", "腾讯云短信")


def test_user_menu_names_the_role_once_when_the_name_is_the_role(client, login_as):
    login_as("admin", real_name="系统管理员")
    menu_text = re.sub(r"\s+", "", page(client, "/admin/").split('id="user-menu"')[1].split("</a>")[0])
    assert "系统管理员（系统管理员）" not in menu_text and "系统管理员" in menu_text
    client.post("/logout")
    login_as("admin", real_name="王管理")
    menu_text = re.sub(r"\s+", "", page(client, "/admin/").split('id="user-menu"')[1].split("</a>")[0])
    assert "王管理（系统管理员）" in menu_text


def test_audit_grid_shows_chinese_object_action_and_states(client, login_as):
    admin = login_as("admin")
    org = make_org(status="pending")
    workflows.transition(org, "approve", admin)
    db.session.commit()
    html = page(client, "/admin/audit/")
    table = html.split("model-list")[1]
    for raw in (">Organization<", ">approve<", ">pending<", ">approved<"):
        assert raw not in re.sub(r">\s+", ">", re.sub(r"\s+<", "<", table))
    assert "单位/机构管理" in table and "审核通过" in table and "待审核" in table
    event = db.session.execute(
        db.select(audit.AuditEvent).where(audit.AuditEvent.event == "transition").limit(1)
    ).scalar_one()
    details = page(client, f"/admin/audit/details/?id={event.id}")
    assert "Organization Id" not in details and "单位编号" in details
    assert db.session.get(Organization, org.id).status == "approved"


def test_link_grid_named_for_each_role(client, login_as):
    login_as("person")
    html = page(client, "/admin/")
    assert "关联企业信息" in menu(html) and "我的企业授权" not in menu(html)
    assert "关联企业信息" in page(client, "/admin/links/")


def test_admin_centre_has_no_enterprise_entry(client, login_as):
    login_as("admin")
    html = menu(page(client, "/admin/"))
    assert "我的企业授权" not in html
    assert "企业关联授权" in html


def test_enterprise_keeps_its_link_menu(client, login_as):
    login_as("enterprise")
    assert "我的企业授权" in menu(page(client, "/admin/"))


def test_failed_create_says_so_in_chinese_with_field_errors(client, login_as):
    boss = login_as("enterprise")
    before = db.session.execute(db.select(db.func.count()).select_from(type(boss))).scalar()
    response = client.post("/admin/subaccounts/new/", data={"username": "", "mobile": "123"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Failed to create record" not in html
    assert "保存失败，请按提示修改后重新提交" in html
    assert "手机号格式不正确" in html  # the field's own message stays under the field
    after = db.session.execute(db.select(db.func.count()).select_from(type(boss))).scalar()
    assert after == before


def test_successful_create_says_xinzeng(client, login_as):
    login_as("admin")
    response = client.post(
        "/admin/notices/new/",
        data={"title": "停电通知", "body": "周六停电", "audience": "all"},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "新增成功" in html and "创建记录成功" not in html


def test_user_form_offers_roles_and_creates_the_account(client, login_as):
    login_as("admin")
    html = page(client, "/admin/users/new/")
    assert '<option value="reviewer">审批人员</option>' in html
    response = client.post(
        "/admin/users/new/",
        data={
            "username": "clerk01",
            "role": "reviewer",
            "organization": "__None",
            "real_name": "办事员",
            "mobile": "13912345678",
            "active": "y",
            "password": "Clerk@2026ecqs",
            "password_confirm": "Clerk@2026ecqs",
        },
    )
    assert response.status_code == 302, flashes(response)
    from ecqs.models import User

    user = db.session.execute(db.select(User).filter_by(username="clerk01")).scalar_one()
    assert user.role == "reviewer"


def test_notice_form_offers_audiences_and_saves(client, login_as):
    from ecqs.models import Notice

    login_as("admin")
    html = page(client, "/admin/notices/new/")
    assert 'value="all">全部用户</option>' in html
    response = client.post("/admin/notices/new/", data={"title": "停电", "body": "周六", "audience": "all"})
    assert response.status_code == 302
    assert db.session.execute(db.select(Notice).filter_by(title="停电")).scalar_one().audience == "all"
