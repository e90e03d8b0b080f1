"""Seed 004 §2.3: SMS recovery for a unit after checking USCC + contact name + mobile, and the
account appeal (新联系人, 手机停用 / 原管理人员离职, signed letter) over every state × action ×
role; approval hands the admin account to the new contact, who then recovers it by SMS."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select
from stdnum.cn import ric

from ecqs import workflows
from ecqs.extensions import db
from ecqs.models import Organization, SmsMessage, UnitAccountAppeal, User, utcnow
from ecqs.registry import operations
from ecqs.services import sms
from tests.conftest import flashes, make_mobile, make_user
from tests.registry.fixtures import PNG, not_an_image, png

ROLES = ("person", "enterprise", "metrology", "assessor", "unit", "reviewer", "association", "admin")
NEW_PASSWORD = "Xinmima@2026ok"


def _id(serial: int) -> str:
    first17 = f"44010619850101{serial % 1000:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")


def _appeal(unit, mobile=None, **kw):
    values = {
        "unit_name": unit.org.name,
        "uscc": unit.org.uscc,
        "contact_name": "新联系人",
        "contact_id_number": _id(7),
        "contact_mobile": mobile or make_mobile(),
        "contact_email": "new@example.com",
        "reason": "staff_left",
        "letter": png("授权书.png"),
        **kw,
    }
    row = operations.file_appeal(**values)
    db.session.commit()
    return row


def test_appeal_state_action_role(unit):
    actors = {role: unit.admin if role == "unit" else make_user(role) for role in ROLES}
    for state in ("pending", "approved", "rejected"):
        for action in ("approve", "reject"):
            for role, actor in actors.items():
                row = _appeal(unit)
                if state != "pending":
                    row.status, row.decided_at = state, utcnow()
                db.session.commit()
                expected = state == "pending" and role in {"association", "admin"}
                assert workflows.can(row, action, actor) is expected, (state, action, role)
                if row.status == "pending":
                    row.status, row.decided_at = "rejected", utcnow()
                    db.session.commit()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"uscc": "91110106M104BT5280"}, "统一社会信用代码不正确"),
        ({"contact_id_number": "110101199001011234"}, "身份证号码不正确"),
        ({"unit_name": "别的单位"}, "不匹配"),
        ({"letter": not_an_image()}, "JPG、PNG"),
        ({"letter": None}, "请上传授权书"),
        ({"reason": "bored"}, "请选择申诉原因"),
    ],
)
def test_bad_appeal_changes_nothing(unit, change, message):
    with pytest.raises(operations.RegistryError, match=message):
        _appeal(unit, **change)
    db.session.rollback()
    assert db.session.execute(select(func.count(UnitAccountAppeal.id))).scalar() == 0


def test_approved_appeal_hands_the_account_to_the_new_contact(app, unit, casei):
    mobile = make_mobile()
    row = _appeal(unit, mobile=mobile)
    with pytest.raises(operations.RegistryError, match="已有待审核"):
        _appeal(unit)
    db.session.rollback()
    workflows.transition(row, "approve", casei)
    db.session.commit()
    admin = db.session.get(User, unit.admin.id)
    org = db.session.get(Organization, unit.org.id)
    assert (admin.mobile, admin.real_name, org.contact_mobile, org.contact_name) == (
        mobile,
        "新联系人",
        mobile,
        "新联系人",
    )
    text = db.session.execute(select(SmsMessage.body).where(SmsMessage.mobile == mobile)).scalar()
    assert admin.username in text
    # The new contact recovers the password by SMS (§2.3.1) and logs in.
    client = app.test_client()
    code = sms.issue_code(mobile, "reset")
    db.session.commit()
    response = client.post(
        "/forgot/unit",
        data={
            "uscc": org.uscc,
            "contact_name": "新联系人",
            "mobile": mobile,
            "sms_code": code,
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302, flashes(response)
    db.session.expire_all()
    assert db.session.get(User, admin.id).check_password(NEW_PASSWORD)


def test_rejected_appeal_is_told_by_sms(unit, casei):
    mobile = make_mobile()
    row = _appeal(unit, mobile=mobile)
    workflows.transition(row, "reject", casei, comment="授权书未盖章")
    db.session.commit()
    text = db.session.execute(select(SmsMessage.body).where(SmsMessage.mobile == mobile)).scalar()
    assert "授权书未盖章" in text
    assert db.session.get(User, unit.admin.id).mobile != mobile


def test_unit_forgot_refuses_mismatched_details(client, unit):
    response = client.post(
        "/forgot/unit",
        data={
            "uscc": unit.org.uscc,
            "contact_name": "冒名者",
            "mobile": unit.admin.mobile,
            "sms_code": "123456",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )
    assert "与系统中不一致" in response.get_data(as_text=True)


def test_mismatched_password_confirmation(client, unit):
    response = client.post(
        "/forgot/unit",
        data={
            "uscc": unit.org.uscc,
            "contact_name": unit.admin.real_name,
            "mobile": unit.admin.mobile,
            "sms_code": "123456",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD + "x",
        },
    )
    assert "两次输入的密码不一致" in response.get_data(as_text=True)


def _appeals() -> int:
    return db.session.execute(select(func.count(UnitAccountAppeal.id))).scalar()


def test_appeal_wizard_three_steps_keep_data_and_store_nothing_before_the_last(client, unit):
    """Seed 004 §2.3.2: 单位账号 → 新联系人 → 提交授权书."""
    assert client.get("/appeal/letter").headers["Location"].endswith("/appeal/unit")  # steps in order
    response = client.post("/appeal/unit", data={"unit_name": unit.org.name, "uscc": unit.org.uscc})
    assert response.headers["Location"].endswith("/appeal/contact")
    mobile = make_mobile()
    contact = {
        "contact_name": "新联系人",
        "contact_id_number": _id(9),
        "contact_mobile": mobile,
        "contact_email": "new@example.com",
    }
    response = client.post("/appeal/contact", data=contact)
    assert response.headers["Location"].endswith("/appeal/letter")
    # Going back shows what was entered on each step.
    assert f'value="{mobile}"' in client.get("/appeal/contact").get_data(as_text=True)
    assert f'value="{unit.org.uscc}"' in client.get("/appeal/unit").get_data(as_text=True)
    letter_page = client.get("/appeal/letter").get_data(as_text=True)
    assert "新联系人" in letter_page and "申诉原因" in letter_page and "授权书" in letter_page
    assert _appeals() == 0  # nothing stored before the last step
    page = client.post(
        "/appeal/letter", data={"reason": "mobile_disabled"}, content_type="multipart/form-data"
    ).get_data(as_text=True)
    assert "请上传授权书" in page and _appeals() == 0
    response = client.post(
        "/appeal/letter",
        data={"reason": "mobile_disabled", "letter": (io.BytesIO(PNG), "授权书.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, re.sub(r"\s+", " ", response.get_data(as_text=True))[-800:]
    row = db.session.execute(select(UnitAccountAppeal)).scalar_one()
    assert (row.contact_mobile, row.contact_email, row.reason) == (
        mobile,
        "new@example.com",
        "mobile_disabled",
    )
    # The wizard is finished: a new appeal starts from an empty first step.
    assert unit.org.uscc not in client.get("/appeal/unit").get_data(as_text=True)


def test_appeal_wizard_refuses_bad_steps_in_chinese(client, unit):
    page = client.post("/appeal/unit", data={"unit_name": "别的单位", "uscc": unit.org.uscc}).get_data(
        as_text=True
    )
    assert "单位名称与统一社会信用代码不匹配" in page
    page = client.post("/appeal/unit", data={"unit_name": "", "uscc": ""}).get_data(as_text=True)
    assert "请输入单位名称" in page
    client.post("/appeal/unit", data={"unit_name": unit.org.name, "uscc": unit.org.uscc})
    taken = make_user("person").mobile
    for contact, message in (
        ({"contact_id_number": "110101199001011234"}, "身份证号码不正确"),
        ({"contact_mobile": "12345"}, "手机号格式不正确"),
        ({"contact_mobile": taken}, "该手机号已被其他账号使用"),
        ({"contact_name": ""}, "请输入单位新联系人姓名"),
    ):
        data = {
            "contact_name": "新联系人",
            "contact_id_number": _id(3),
            "contact_mobile": make_mobile(),
            **contact,
        }
        page = client.post("/appeal/contact", data=data).get_data(as_text=True)
        assert message in page, message
    assert client.get("/appeal/letter").headers["Location"].endswith("/appeal/contact")
    assert _appeals() == 0
