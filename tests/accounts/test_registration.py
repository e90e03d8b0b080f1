"""Registration: person, enterprise (legal / non-legal), institution (metrology, assessor) and
the inspection unit's four-step wizard; duplicates, checksums, nothing half-saved."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ecqs.extensions import db
from ecqs.models import AuditEvent, Organization, OrganizationQualification, SmsCode, Upload, User
from tests.accounts.fixtures import count, last_sms_code, pdf, text
from tests.conftest import make_id_number, make_mobile, make_org, make_uscc, make_user

PASSWORD = "Reg#Pass2026"


def send_code(client, mobile: str, purpose: str = "register") -> str:
    response = client.post("/sms/send", data={"mobile": mobile, "purpose": purpose})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["ok"] is True
    return last_sms_code(mobile)


def nothing_saved():
    return count(Organization) == 0 and count(User) == 0 and count(Upload) == 0


def person_data(**overrides):
    data = {
        "username": "zhangsan",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "real_name": "张三",
        "id_number": make_id_number(),
        "mobile": make_mobile(),
        "sms_code": "",
    }
    data.update(overrides)
    return data


def enterprise_data(**overrides):
    data = {
        "legal_form": "legal",
        "enterprise_type": "company",
        "username": "xian_boiler",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "name": "西安锅炉有限公司",
        "uscc": make_uscc(),
        "province": "610000",
        "city": "610100",
        "county": "610113",
        "address": "雁塔区科技路 1 号",
        "legal_rep_name": "王五",
        "legal_rep_id_number": make_id_number(),
        "contact_name": "赵六",
        "contact_id_number": make_id_number(),
        "mobile": make_mobile(),
        "sms_code": "",
        "licence": pdf(),
    }
    data.update(overrides)
    return data


def post_form(client, url, data):
    return client.post(url, data=data, content_type="multipart/form-data")


# ---- person ---------------------------------------------------------------------------------------


def test_register_person(client):
    data = person_data()
    data["sms_code"] = send_code(client, data["mobile"])
    response = client.post("/register/person", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    user = db.session.execute(select(User).where(User.username == "zhangsan")).scalar_one()
    assert (user.role, user.real_name, user.id_number, user.mobile) == (
        "person",
        "张三",
        data["id_number"],
        data["mobile"],
    )
    assert user.organization_id is None and user.check_password(PASSWORD)
    assert count(AuditEvent, AuditEvent.event == "registered") == 1
    # The code was single use.
    assert db.session.execute(select(SmsCode.used_at)).scalar() is not None


def test_register_person_wrong_sms_code(client):
    data = person_data()
    code = send_code(client, data["mobile"])
    data["sms_code"] = "000000" if code != "000000" else "111111"
    page = text(client.post("/register/person", data=data))
    assert "短信验证码错误或已过期" in page
    assert 'value="zhangsan"' in page and "张三" in page  # typed values kept
    assert nothing_saved()


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("id_number", "610113199001011230", "身份证号码不正确"),
        ("mobile", "12345", "手机号格式不正确"),
        ("password", "password", "至少三类"),
        ("password_confirm", "Other#Pass2026", "两次输入的密码不一致"),
        ("username", "1bad", "用户名应为"),
        ("real_name", "", "此项为必填项"),
    ],
)
def test_register_person_field_errors(client, field, value, message):
    data = person_data(**{field: value})
    if field == "id_number":
        # A valid-looking number with a wrong check digit.
        good = make_id_number()
        data["id_number"] = good[:-1] + ("0" if good[-1] != "0" else "1")
    data["sms_code"] = "123456"
    page = text(client.post("/register/person", data=data))
    assert message in page
    assert "invalid-feedback" in page
    assert nothing_saved()


def test_register_person_duplicates_refused(client):
    existing = make_user("person", username="taken_name")
    data = person_data(username="taken_name", mobile=existing.mobile, sms_code="123456")
    page = text(client.post("/register/person", data=data))
    assert "该用户名已被注册" in page and "该手机号已被注册" in page
    assert 'value="taken_name"' in page
    assert count(User) == 1


def test_sms_send_refuses_registered_mobile_and_bad_purpose(client):
    user = make_user("person")
    response = client.post("/sms/send", data={"mobile": user.mobile, "purpose": "register"})
    # Same answer as for a free mobile, and no code (no account enumeration, finding 7).
    assert response.status_code == 200 and count(SmsCode, SmsCode.mobile == user.mobile) == 0
    response = client.post("/sms/send", data={"mobile": "13900000000", "purpose": "login"})
    assert response.status_code == 400
    response = client.post("/sms/send", data={"mobile": "123", "purpose": "register"})
    assert response.status_code == 400 and "手机号格式不正确" in response.get_json()["message"]


# ---- enterprise -------------------------------------------------------------------------------------


@pytest.mark.parametrize("legal_form", ["legal", "non_legal"])
def test_register_enterprise(client, app, legal_form):
    data = enterprise_data(legal_form=legal_form)
    data["sms_code"] = send_code(client, data["mobile"])
    response = post_form(client, "/register/enterprise", data)
    assert response.status_code == 302, text(response)[:2000]
    org = db.session.execute(select(Organization)).scalar_one()
    assert (org.kind, org.status, org.legal_form, org.enterprise_type) == (
        "enterprise",
        "pending",
        legal_form,
        "company",
    )
    assert (org.uscc, org.division_code, org.name) == (data["uscc"], "610113", "西安锅炉有限公司")
    assert org.approved_at is None and org.submitted_at is not None
    assert org.licence_upload.original_name == "营业执照.pdf"
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", org.licence_upload.stored_name)
    user = org.users[0]
    assert (user.role, user.is_org_admin, user.username, user.mobile) == (
        "enterprise",
        True,
        "xian_boiler",
        data["mobile"],
    )
    assert org.licence_upload.uploaded_by_id == user.id


def test_register_enterprise_bad_uscc_and_duplicates(client):
    taken = make_org(uscc=make_uscc())
    make_user("person", username="dup_user")
    db.session.commit()
    good = make_uscc()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    data = enterprise_data(uscc=bad, sms_code="123456")
    page = text(post_form(client, "/register/enterprise", data))
    assert "统一社会信用代码不正确" in page
    assert 'value="西安锅炉有限公司"' in page and 'value="雁塔区科技路 1 号"' in page
    # The chosen division stays selected.
    assert re.search(r'<option selected value="610113">|<option value="610113" selected', page)

    data = enterprise_data(uscc=taken.uscc, username="dup_user", sms_code="123456")
    page = text(post_form(client, "/register/enterprise", data))
    assert "该统一社会信用代码已被注册" in page and "该用户名已被注册" in page
    assert count(Organization) == 1 and count(User) == 1 and count(Upload) == 0


def test_register_enterprise_needs_licence_and_division(client):
    data = enterprise_data(county="", city="", province="", sms_code="123456")
    del data["licence"]
    page = text(post_form(client, "/register/enterprise", data))
    assert "请上传营业执照" in page or "请选择所在地" in page
    assert "请选择所在地" in page
    assert nothing_saved()


def test_register_enterprise_division_must_be_consistent(client):
    for province, city, county in (
        ("110000", "610100", "610113"),
        ("610000", "610100", ""),
        ("610000", "", ""),
    ):
        data = enterprise_data(province=province, city=city, county=county)
        data["sms_code"] = send_code(client, data["mobile"])
        page = text(post_form(client, "/register/enterprise", data))
        assert "请选择所在地" in page or "所在地不正确" in page, (province, city, county)
        assert nothing_saved()


def test_register_enterprise_wrong_file_type_saves_nothing(client):
    data = enterprise_data(licence=pdf("营业执照.pdf", b"<html>not a pdf</html>"))
    data["sms_code"] = send_code(client, data["mobile"])
    page = text(post_form(client, "/register/enterprise", data))
    assert "只能上传" in page
    assert nothing_saved()


def test_register_enterprise_wrong_sms_saves_nothing(client):
    data = enterprise_data(sms_code="999999")
    send_code(client, data["mobile"])
    page = text(post_form(client, "/register/enterprise", data))
    assert "短信验证码错误或已过期" in page
    assert nothing_saved()


# ---- institution -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["metrology", "assessor"])
def test_register_institution(client, kind):
    data = enterprise_data(institution_kind=kind, username=f"inst_{kind}")
    del data["legal_form"], data["enterprise_type"]
    code = send_code(client, data["mobile"])
    # 联系电话 is asked of institutions (the receipt and the public page show it).
    page = text(post_form(client, "/register/institution", dict(data, sms_code=code)))
    assert "invalid-feedback" in page and nothing_saved()
    data = enterprise_data(
        institution_kind=kind, username=f"inst_{kind}", phone="029-86000007", mobile=data["mobile"]
    )
    del data["legal_form"], data["enterprise_type"]
    data["sms_code"] = code
    response = post_form(client, "/register/institution", data)
    assert response.status_code == 302, text(response)[:2000]
    org = db.session.execute(select(Organization)).scalar_one()
    assert (org.kind, org.status, org.phone) == (kind, "pending", "029-86000007")
    assert org.users[0].role == kind


def test_register_institution_cannot_choose_unit_or_authority(client):
    for kind in ("unit", "authority", "association"):
        data = enterprise_data(institution_kind=kind, sms_code="123456")
        page = text(post_form(client, "/register/institution", data))
        assert "invalid-feedback" in page, kind
    assert nothing_saved()


# ---- inspection unit wizard ---------------------------------------------------------------------------

UNIT_BASIC = {
    "name": "陕西某电梯检测有限公司",
    "legal_rep_name": "钱七",
    "province": "610000",
    "city": "610100",
    "county": "610113",
    "address": "雁塔区 2 号",
    "postcode": "710061",
    "phone": "029-88888888",
}
UNIT_CERT = {"cert_type": "电梯检测机构", "cert_level": "省级", "cert_industry": "质检"}


def _unit_contact(client, **overrides):
    data = {
        "contact_name": "孙八",
        "contact_id_number": make_id_number(),
        "email": "unit@example.com",
        "contact_position": "质量负责人",
        "mobile": make_mobile(),
        "username": "elevator_unit",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }
    data.update(overrides)
    data["sms_code"] = data.get("sms_code") or send_code(client, data["mobile"])
    return data


@pytest.mark.parametrize("with_qualification", [True, False])
def test_unit_wizard(client, with_qualification):
    uscc = make_uscc()
    assert client.get("/register/unit/cert").status_code == 302  # steps in order
    response = client.post("/register/unit/basic", data=dict(UNIT_BASIC, uscc=uscc))
    assert response.headers["Location"].endswith("/register/unit/cert")
    response = post_form(client, "/register/unit/cert", dict(UNIT_CERT, licence=pdf()))
    assert response.headers["Location"].endswith("/register/unit/qualifications")
    if with_qualification:
        response = client.post(
            "/register/unit/qualifications",
            data={
                "name": "核准证",
                "number": "TS7110001",
                "issued_on": "2024-01-01",
                "valid_until": "2028-01-01",
            },
        )
        assert response.status_code == 302
        assert "TS7110001" in text(client.get("/register/unit/qualifications"))
    response = client.post("/register/unit/qualifications", data={"op": "next"})
    assert response.headers["Location"].endswith("/register/unit/contact")
    assert nothing_saved()  # nothing is stored before the last step
    response = client.post("/register/unit/contact", data=_unit_contact(client))
    assert response.status_code == 302, text(response)[:3000]
    org = db.session.execute(select(Organization)).scalar_one()
    assert (org.kind, org.status, org.uscc, org.postcode, org.cert_type) == (
        "unit",
        "pending",
        uscc,
        "710061",
        "电梯检测机构",
    )
    assert org.licence_upload.original_name == "营业执照.pdf"
    assert (org.contact_position, org.member_type) == ("质量负责人", "non_member")
    assert count(OrganizationQualification) == (1 if with_qualification else 0)
    user = org.users[0]
    assert (user.role, user.is_org_admin, user.email) == ("unit", True, "unit@example.com")
    # The wizard is finished: starting again begins with an empty first step.
    assert "陕西某电梯检测有限公司" not in text(client.get("/register/unit/basic"))


def test_unit_wizard_errors_keep_values_and_save_nothing(client):
    bad_basic = dict(UNIT_BASIC, uscc="91610113MA00000000", postcode="71")
    page = text(client.post("/register/unit/basic", data=bad_basic))
    assert "统一社会信用代码不正确" in page and "邮编应为 6 位数字" in page
    assert 'value="陕西某电梯检测有限公司"' in page
    client.post("/register/unit/basic", data=dict(UNIT_BASIC, uscc=make_uscc()))
    page = text(post_form(client, "/register/unit/cert", dict(UNIT_CERT, licence=pdf("a.pdf", b"GIF89a"))))
    assert "只能上传" in page
    page = text(post_form(client, "/register/unit/cert", dict(UNIT_CERT)))
    assert "请上传营业执照" in page
    post_form(client, "/register/unit/cert", dict(UNIT_CERT, licence=pdf()))
    page = text(
        client.post(
            "/register/unit/qualifications",
            data={"name": "核准证", "number": "X1", "issued_on": "2024-01-01", "valid_until": "2023-01-01"},
        )
    )
    assert "有效日期应晚于发证日期" in page
    client.post("/register/unit/qualifications", data={"op": "next"})
    data = _unit_contact(client, sms_code="000000")
    page = text(client.post("/register/unit/contact", data=data))
    assert "短信验证码错误或已过期" in page and 'value="elevator_unit"' in page
    page = text(client.post("/register/unit/contact", data=_unit_contact(client, contact_position=" ")))
    assert "请输入单位联系人职务" in page
    assert nothing_saved()


def test_unit_wizard_uscc_taken_meanwhile(client):
    uscc = make_uscc()
    client.post("/register/unit/basic", data=dict(UNIT_BASIC, uscc=uscc))
    post_form(client, "/register/unit/cert", dict(UNIT_CERT, licence=pdf()))
    client.post("/register/unit/qualifications", data={"op": "next"})
    make_org(kind="unit", uscc=uscc, name="抢先注册的单位")
    response = client.post("/register/unit/contact", data=_unit_contact(client))
    assert response.status_code == 302 and response.headers["Location"].endswith("/register/unit/basic")
    assert count(Organization) == 1 and count(User) == 0 and count(Upload) == 0


def test_division_cascade_endpoint(client):
    provinces = client.get("/divisions").get_json()
    assert len(provinces) == 34 and {"code": "610000", "name": "陕西省"} in provinces
    cities = client.get("/divisions/610000").get_json()
    assert {"code": "610100", "name": "西安市"} in cities
    counties = client.get("/divisions/610100").get_json()
    assert {"code": "610113", "name": "雁塔区"} in counties
    assert client.get("/divisions/abc").status_code == 404
