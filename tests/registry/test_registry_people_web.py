"""M4 part 2 through HTTP: the unit's menus, a deregistration from selection to 已注销 (print page,
upload, staff approval), one unit never seeing another's registrations or requests by any door,
statistics and exports; the public query 执业公示查询 (exact match, masking, rate limit, no
enumeration) and the certificate's QR link opening the public result without login."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from ecqs.extensions import db
from ecqs.models import PractitionerDeregistration
from ecqs.registry import public as registry_public
from ecqs.registry import registrations
from ecqs.services import masking
from tests.conftest import flashes, login
from tests.registry.fixtures import PNG, add_branch, png, register_person
from tests.views.fixtures import xlsx_rows


def _count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def test_unit_menu_follows_seed_004(client, unit, casei):
    login(client, unit.admin)
    page = client.get("/admin/").get_data(as_text=True)
    for label in (
        "注册人员管理",
        "未注册人员管理",
        "注册人员综合查询",
        "单位注册人员统计",
        "注册证书管理",
        "注册人员证书查询",
        "单位人员证书统计",
        "注册证书注销申请",
    ):
        assert label in page, label
    assert "注销审核" not in page
    staff = client.application.test_client()
    login(staff, casei)
    page = staff.get("/admin/").get_data(as_text=True)
    for label in ("注销审核", "注册人员查询", "注册人员统计"):
        assert label in page, label


def test_deregistration_from_selection_to_deregistered(app, unit, casei):
    branch = add_branch(unit, "宝鸡分院")
    a = register_person(unit.org, real_name="张振")
    b = register_person(branch, real_name="盛凌")
    keep = register_person(unit.org, real_name="石登山")
    client = app.test_client()
    login(client, unit.admin)
    assert re.search(r'id="publicised-count">3<', client.get("/admin/").get_data(as_text=True))
    form = client.get("/admin/unit_deregistrations/new/").get_data(as_text=True)
    for person in ("张振", "盛凌", "石登山"):
        assert person in form
    assert a.id_number not in form  # masked in the selection list
    # No reason: refused, nothing created, the selection kept.
    response = client.post(
        "/admin/unit_deregistrations/new/", data={"registration_id": [str(a.id)], f"reason_{a.id}": ""}
    )
    assert "请填写 张振 的注销原因" in response.get_data(as_text=True)
    assert _count(PractitionerDeregistration) == 0
    response = client.post(
        "/admin/unit_deregistrations/new/",
        data={
            "registration_id": [str(a.id), str(b.id)],
            f"reason_{a.id}": "离职",
            f"reason_{b.id}": "调离",
            f"reason_{keep.id}": "not chosen",
            "contact_name": "唐建",
            "contact_phone": "0318-5708007",
        },
    )
    assert response.status_code == 302, flashes(response)
    row = db.session.execute(select(PractitionerDeregistration)).scalar_one()
    assert {i.registration_id: i.reason for i in row.items} == {a.id: "离职", b.id: "调离"}
    listing = client.get("/admin/unit_deregistrations/").get_data(as_text=True)
    assert row.number in listing and "待提交" in listing
    printed = client.get(f"/admin/unit_deregistrations/print/?id={row.id}").get_data(as_text=True)
    assert 'id="stamp-box"' in printed and "张振" in printed and a.id_number in printed
    # 上传申请表: the stamped scan and the courier number, through the generic transition form.
    response = client.post(
        f"/admin/unit_deregistrations/transition/{row.id}/submit",
        data={"scan": (io.BytesIO(PNG), "stamped.png"), "courier_number": "sf1234567890"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert row.status == "submitted" and row.courier_number == "SF1234567890"
    # The person already named cannot be selected again.
    form = client.get("/admin/unit_deregistrations/new/").get_data(as_text=True)
    assert "张振" not in form and "石登山" in form
    # Staff: 注销审核 → approve.
    staff = app.test_client()
    login(staff, casei)
    assert row.number in staff.get("/admin/deregistration_review/").get_data(as_text=True)
    scan = staff.get(f"/admin/deregistration_review/file/{row.id}/scan_upload")
    assert scan.status_code == 200 and scan.data == PNG
    response = staff.post(f"/admin/deregistration_review/transition/{row.id}/approve", data={})
    assert response.status_code == 302
    db.session.expire_all()
    assert row.status == "approved" and a.status == "deregistered" and b.status == "deregistered"
    assert keep.status == "registered"
    assert re.search(r'id="publicised-count">1<', client.get("/admin/").get_data(as_text=True))
    unregistered = client.get("/admin/unit_unregistered/").get_data(as_text=True)
    assert "张振" in unregistered and "盛凌" in unregistered and "石登山" not in unregistered
    stats = client.get("/admin/unit_people_stats/").get_data(as_text=True)
    assert re.search(r"已注册：<strong[^>]*>1<", stats) and re.search(r"已注销：<strong[^>]*>2<", stats)
    # The public query shows it.
    public = app.test_client().post("/public/practitioners", data={"number": a.number})
    assert 'data-status="deregistered"' in public.get_data(as_text=True)


def test_a_unit_never_sees_another_units_registrations(app, unit, other_unit):
    mine = register_person(unit.org, real_name="本单位人员")
    theirs = register_person(other_unit.org, real_name="外单位人员")
    theirs_request = registrations.file_deregistration(other_unit.admin, {theirs.id: "离职"})
    db.session.commit()
    from ecqs import workflows

    workflows.transition(
        theirs_request, "submit", other_unit.admin, scan=png(), courier_number="SF1234567890"
    )
    db.session.commit()
    client = app.test_client()
    login(client, unit.admin)
    for endpoint in ("unit_registered", "unit_unregistered", "unit_certificates"):
        page = client.get(f"/admin/{endpoint}/").get_data(as_text=True)
        assert "外单位人员" not in page, endpoint
        for door in ("details/", "certificate/"):
            assert client.get(f"/admin/{endpoint}/{door}?id={theirs.id}").status_code == 404, (endpoint, door)
        rows = xlsx_rows(client.get(f"/admin/{endpoint}/export/xlsx/").get_data())
        assert not any("外单位人员" in str(c) for r in rows for c in r), endpoint
    assert "本单位人员" in client.get("/admin/unit_registered/").get_data(as_text=True)
    for door in ("details/?id={}", "print/?id={}", "file/{}/scan_upload"):
        url = "/admin/unit_deregistrations/" + door.format(theirs_request.id)
        assert client.get(url).status_code == 404, url
    assert theirs_request.number not in client.get("/admin/unit_deregistrations/").get_data(as_text=True)
    rows = xlsx_rows(client.get("/admin/unit_deregistrations/export/xlsx/").get_data())
    assert not any(theirs_request.number == c for r in rows for c in r)
    # Acting on it by direct URL: refused, nothing changes.
    response = client.post(
        f"/admin/unit_deregistrations/transition/{theirs_request.id}/approve", data={"comment": "x"}
    )
    assert response.status_code == 404
    response = client.post("/admin/unit_deregistrations/delete/", data={"id": str(theirs_request.id)})
    db.session.expire_all()
    assert theirs_request.status == "submitted"
    # Naming another unit's practitioner in a request: a Chinese refusal, nothing created.
    before = _count(PractitionerDeregistration)
    response = client.post(
        "/admin/unit_deregistrations/new/",
        data={"registration_id": [str(theirs.id)], f"reason_{theirs.id}": "离职"},
    )
    assert "该人员未在本单位注册，不能申请注销" in response.get_data(as_text=True)
    assert _count(PractitionerDeregistration) == before
    # Statistics count only the unit's own people.
    stats = client.get("/admin/unit_item_stats/").get_data(as_text=True)
    assert re.search(r"已注册：<strong[^>]*>1<", stats)
    rows = xlsx_rows(client.get("/admin/unit_item_stats/export/").get_data())
    assert list(rows[0][:3]) == ["项目代码", "项目名称", "级别"] and rows[1][3] == 1
    assert mine.status == "registered"


def test_draft_deleted_but_not_a_submitted_request(app, unit):
    a = register_person(unit.org)
    b = register_person(unit.org)
    draft = registrations.file_deregistration(unit.admin, {a.id: "离职"})
    sent = registrations.file_deregistration(unit.admin, {b.id: "离职"})
    db.session.commit()
    from ecqs import workflows

    workflows.transition(sent, "submit", unit.admin, scan=png(), courier_number="SF1234567890")
    db.session.commit()
    client = app.test_client()
    login(client, unit.admin)
    response = client.post(
        "/admin/unit_deregistrations/delete/", data={"id": str(sent.id)}, follow_redirects=True
    )
    assert "只能删除待提交的注销申请" in response.get_data(as_text=True)
    assert db.session.get(PractitionerDeregistration, sent.id) is not None
    client.post("/admin/unit_deregistrations/delete/", data={"id": str(draft.id)})
    db.session.expire_all()
    assert db.session.get(PractitionerDeregistration, draft.id) is None


# ---- 执业公示查询 ------------------------------------------------------------------------------


def test_public_query_exact_match_masked(client, unit):
    branch = add_branch(unit, "宝鸡分院")
    reg = register_person(branch, real_name="张振", codes=("RT-II", "UT-II"))
    page = client.get("/").get_data(as_text=True)
    assert "/public/practitioners" in page and "执业公示查询" in page
    found = client.post("/public/practitioners", data={"name": "张振", "id_number": reg.id_number})
    text = found.get_data(as_text=True)
    assert found.status_code == 200 and reg.number in text
    assert masking.mask_id_number(reg.id_number) in text and reg.id_number not in text
    assert reg.mobile not in text
    assert "宝鸡分院" in text and "广东华胜检验有限公司" in text  # branch and its parent unit
    assert "RT-II" in text and "UT-II" in text and str(reg.valid_until) in text and "已注册" in text
    by_number = client.post("/public/practitioners", data={"number": reg.number.lower()})
    assert reg.number in by_number.get_data(as_text=True)
    # No enumeration: partial or mismatched keys find nothing; one key alone is refused.
    for query in (
        {"name": "张", "id_number": reg.id_number},
        {"name": "张振", "id_number": reg.id_number[:-1] + ("0" if reg.id_number[-1] != "0" else "1")},
        {"name": "张振%", "id_number": reg.id_number},
        {"number": reg.number[:-1]},
        {"number": "%"},
    ):
        text = client.post("/public/practitioners", data=query).get_data(as_text=True)
        assert reg.number not in text and 'id="practitioner-none"' in text, query
    for query in ({"name": "张振"}, {"id_number": reg.id_number}):
        text = client.post("/public/practitioners", data=query).get_data(as_text=True)
        assert "请输入姓名和身份证号，或输入证书编号" in text and reg.number not in text
    assert "身份证号格式不正确" in client.post(
        "/public/practitioners", data={"name": "张振", "id_number": "123"}
    ).get_data(as_text=True)


def test_public_query_rate_limited(app, unit):
    from ecqs import create_app
    from ecqs.extensions import limiter

    was_enabled = limiter.enabled
    try:
        limited = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                "SECRET_KEY": "x",
                "WTF_CSRF_ENABLED": False,
                "ECQS_CAPTCHA": False,
                "RATELIMIT_ENABLED": True,
                "UPLOAD_DIR": app.config["UPLOAD_DIR"],
            }
        )
        client = limited.test_client()
        query = {"name": "张三", "id_number": "610113199001010019"}
        codes = [client.post("/public/practitioners", data=query).status_code for _ in range(31)]
    finally:
        limiter.enabled = was_enabled
    assert codes[:30] == [200] * 30 and codes[30] == 429


def test_certificate_qr_opens_public_result_without_login(app, unit):
    reg = register_person(unit.org, real_name="张振")
    client = app.test_client()
    login(client, unit.admin)
    page = client.get(f"/admin/unit_certificates/certificate/?id={reg.id}").get_data(as_text=True)
    assert 'id="verify-qr"' in page and "data:image/svg+xml" in page and reg.number in page
    url = re.search(r'id="verify-url">([^<]+)<', page).group(1)
    assert (
        url == registry_public.certificate_url(reg)
        if False
        else url.endswith(
            f"/public/practitioners/certificate/{reg.number}/{registry_public.certificate_token(reg)}"
        )
    )
    anonymous = app.test_client()
    path = url.split("localhost", 1)[-1]
    opened = anonymous.get(path)
    text = opened.get_data(as_text=True)
    assert opened.status_code == 200 and 'data-genuine="1"' in text and reg.number in text
    assert reg.id_number not in text and masking.mask_id_number(reg.id_number) in text
    # A guessed token or a row id in place of the token opens nothing.
    for bad in (
        path[:-1] + ("0" if path[-1] != "0" else "1"),
        f"/public/practitioners/certificate/{reg.number}/{reg.id}",
    ):
        response = anonymous.get(bad)
        assert response.status_code == 404 and 'data-genuine="0"' in response.get_data(as_text=True)
