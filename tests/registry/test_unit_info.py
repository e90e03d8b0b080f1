"""单位信息管理 (seed 004 §3.2.1): the unit's admin edits 会员性质, contact details, 联系人职务 and
the 开票信息; bad values get a Chinese message and change nothing; the reviewed fields are not
on the form; the home page banner of a unit waiting for review says three working days."""

from __future__ import annotations

from ecqs.extensions import db
from tests.conftest import login, make_org, make_user

GOOD = {
    "member_type": "member",
    "phone": "0318-5708007",
    "email": "tangjian@casei.org.cn",
    "contact_position": "职员",
    "taxpayer_id": "",
    "taxpayer_name": "广东华胜检验有限公司",
    "tax_address": "饶阳县马屯工业园区正港路1号",
    "tax_phone": "0318-5708007",
    "bank_name": "中国工商银行饶阳支行",
    "bank_account": "0409 0012 0900 0123 456",
}


def _edit(client, org, **changes):
    return client.post(
        f"/admin/unit_info/edit/?id={org.id}", data={**GOOD, "taxpayer_id": org.uscc, **changes}
    )


def test_unit_admin_edits_invoicing_information(client, unit):
    login(client, unit.admin)
    form = client.get(f"/admin/unit_info/edit/?id={unit.org.id}").get_data(as_text=True)
    for label in (
        "开票信息",
        "纳税人识别号",
        "纳税人名称",
        "税务登记地址",
        "开户银行",
        "银行账号",
        "会员性质",
        "联系人职务",
    ):
        assert label in form, label
    for reviewed in (
        'name="name"',
        'name="uscc"',
        'name="legal_rep_name"',
        'name="address"',
        'name="postcode"',
    ):
        assert reviewed not in form, reviewed  # only through 单位信息变更
    response = _edit(client, unit.org)
    assert response.status_code == 302
    db.session.expire_all()
    org = unit.org
    assert (org.member_type, org.contact_position, org.taxpayer_id, org.bank_account) == (
        "member",
        "职员",
        org.uscc,
        "0409001209000123456",
    )
    details = client.get(f"/admin/unit_info/details/?id={org.id}").get_data(as_text=True)
    assert "中国工商银行饶阳支行" in details and "会员" in details and "职员" in details


def test_bad_invoicing_values_get_chinese_messages_and_change_nothing(client, unit):
    login(client, unit.admin)
    before = (unit.org.taxpayer_id, unit.org.bank_account, unit.org.tax_phone, unit.org.version)
    for changes, message in (
        ({"taxpayer_id": "91110106M104BT528X"}, "纳税人识别号不正确"),
        ({"taxpayer_id": "12345"}, "纳税人识别号应为 15、17、18 或 20 位数字或大写字母"),
        ({"bank_account": "62-22"}, "银行账号应为 8 至 30 位数字"),
        ({"tax_phone": "电话"}, "电话号码格式不正确"),
        ({"member_type": "gold"}, "不是有效的选择"),
        ({"contact_position": "职" * 31}, "30"),
    ):
        page = _edit(client, unit.org, **changes).get_data(as_text=True)
        assert message in page, (changes, message)
        db.session.expire_all()
        assert (unit.org.taxpayer_id, unit.org.bank_account, unit.org.tax_phone, unit.org.version) == before


def test_a_sub_account_cannot_edit_unit_information(client, unit):
    login(client, unit.sub)
    _edit(client, unit.org)
    db.session.expire_all()
    assert unit.org.bank_account is None and unit.org.member_type is None


def test_pending_unit_banner_says_three_working_days(client):
    org = make_org(kind="unit", status="pending")
    login(client, make_user("unit", org=org))
    page = client.get("/admin/").get_data(as_text=True)
    assert 'id="org-review-days"' in page and "三个工作日" in page and "两个工作日" not in page
    enterprise = make_user("enterprise", org=make_org(kind="enterprise", status="pending"))
    other = client.application.test_client()
    login(other, enterprise)
    assert "两个工作日" in other.get("/admin/").get_data(as_text=True)  # e-CQS keeps its own wording
