"""Publicity applications through HTTP: the unit's menu, person search with the eligibility
table, creation, print page, upload with the SMS code, staff approval publishing the
registration, 已驳回申报单, manual verification, and one unit kept out of another's applications
by every door."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ecqs.extensions import db
from ecqs.models import (
    Notification,
    PractitionerRegistration,
    PublicityApplication,
    RealNameVerification,
    SmsMessage,
)
from ecqs.services import notify
from ecqs.services.models import utcnow
from tests.conftest import flashes, login
from tests.registry.application_fixtures import create, holder, latest_code, register, upload
from tests.registry.fixtures import PNG


def count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def logged_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


def test_unit_menu_has_the_seed_entries(app, qunit, casei):
    page = logged_in(app, qunit.admin).get("/admin/").get_data(as_text=True)
    for label in ("注册申报管理", "新建注册申报单", "执业公示申报单", "已驳回申报单", "公示人员实名验证"):
        assert label in page, label
    assert "执业公示审核" not in page
    staff = logged_in(app, casei).get("/admin/").get_data(as_text=True)
    assert "执业公示审核" in staff and "人工核验" in staff and "新建注册申报单" not in staff


def test_search_shows_the_eligibility_table_with_reasons(app, qunit):
    person = holder(codes=())
    client = logged_in(app, qunit.admin)
    page = client.get(
        "/admin/publicity_new/", query_string={"name": person.real_name, "id_number": person.id_number}
    ).get_data(as_text=True)
    assert 'id="eligibility-table"' in page
    assert 'data-rule="items" data-ok="0"' in page and "没有有效的资格证书" in page
    assert 'data-rule="unit" data-ok="1"' in page
    bad = client.get("/admin/publicity_new/", query_string={"name": "张振", "id_number": "123"})
    assert "身份证号码不正确" in bad.get_data(as_text=True)


def test_create_print_upload_and_approve_over_http(app, qunit, casei):
    person = holder(codes=("RT-II", "RT-III"))
    client = logged_in(app, qunit.admin)
    page = client.get(
        "/admin/publicity_new/", query_string={"name": person.real_name, "id_number": person.id_number}
    ).get_data(as_text=True)
    assert 'data-kind="initial"' in page and "RT-III" in page
    # Without the consent nothing is created.
    response = client.post(
        "/admin/publicity_new/create", data={"name": person.real_name, "id_number": person.id_number}
    )
    assert count(PublicityApplication) == 0 and "承诺" in flashes(client.get(response.location))
    response = client.post(
        "/admin/publicity_new/create",
        data={"name": person.real_name, "id_number": person.id_number, "consent": "1"},
    )
    assert response.status_code == 302
    application = db.session.execute(select(PublicityApplication)).scalar_one()
    grid = client.get("/admin/publicity_applications/").get_data(as_text=True)
    assert application.number in grid and "7天" in grid and person.id_number not in grid  # masked
    printed = client.get(f"/admin/publicity_applications/print/{application.id}").get_data(as_text=True)
    for text in (application.number, person.real_name, person.id_number, "执业人签字", "单位公章", "RT-III"):
        assert text in printed, text
    assert 'data-void="1"' not in printed
    export = client.get("/admin/publicity_applications/export/xlsx/")
    assert export.status_code == 200 and export.mimetype.endswith("sheet")

    upload_page = client.get(f"/admin/publicity_applications/upload/{application.id}").get_data(as_text=True)
    assert "三要素" in upload_page and "个人账号" in upload_page  # says how the mobile is checked
    response = client.post(f"/admin/publicity_applications/code/{application.id}")
    assert "已发送" in flashes(client.get(response.location))
    code = "999999"
    wrong = client.post(
        f"/admin/publicity_applications/upload/{application.id}",
        data={
            "form_file": (io.BytesIO(PNG), "form.png"),
            "code": code,
            "expected_version": application.version,
        },
        content_type="multipart/form-data",
    )
    db.session.expire_all()
    assert "验证码错误" in flashes(wrong) and latest_code(person.mobile).attempts == 1
    # The real code, read from the outbox.
    body = db.session.execute(select(SmsMessage.body).order_by(SmsMessage.id.desc())).scalars().first()
    code = "".join(ch for ch in body.split("验证码为")[1][:8] if ch.isdigit())[:6]
    response = client.post(
        f"/admin/publicity_applications/upload/{application.id}",
        data={
            "form_file": (io.BytesIO(PNG), "form.png"),
            "code": code,
            "expected_version": application.version + 0,
        },
        content_type="multipart/form-data",
    )
    db.session.expire_all()
    application = db.session.get(PublicityApplication, application.id)
    assert application.status == "submitted", flashes(response)

    staff = logged_in(app, casei)
    assert application.number in staff.get("/admin/publicity_review/").get_data(as_text=True)
    details = staff.get(f"/admin/publicity_review/details/?id={application.id}").get_data(as_text=True)
    assert "RT-III" in details and 'data-action="approve"' in details
    staff.post(
        f"/admin/publicity_review/transition/{application.id}/approve",
        data={"expected_state": "submitted", "expected_version": application.version},
    )
    db.session.expire_all()
    registration = db.session.execute(select(PractitionerRegistration)).scalar_one()
    assert registration.id_number == person.id_number and registration.organization_id == qunit.org.id


def test_rejected_applications_are_listed_with_the_reason(app, qunit, casei):
    application = upload(create(qunit, holder()), qunit)
    staff = logged_in(app, casei)
    staff.post(
        f"/admin/publicity_review/transition/{application.id}/reject",
        data={"expected_state": "submitted", "comment": "未盖公章"},
    )
    page = logged_in(app, qunit.admin).get("/admin/publicity_rejected/").get_data(as_text=True)
    assert application.number in page and "未盖公章" in page


def _notice_of(user, about: str) -> Notification:
    db.session.expire_all()
    return db.session.execute(
        select(Notification).where(Notification.user_id == user.id, Notification.title.contains(about))
    ).scalar_one()


@pytest.mark.parametrize("action, extra", [("reject", {"comment": "未盖公章"}), ("approve", {})])
def test_the_unit_follows_its_notification_to_its_own_view_of_the_application(
    app, qunit, other_qunit, casei, action, extra
):
    """Registry issue 9: the link of a unit's message about its 执业公示申报单 opens the unit's
    grid (the reviewers' grid is 403 for a unit); another unit gets no further than 403/404."""
    application = upload(create(qunit, holder()), qunit)
    staff = logged_in(app, casei)
    decided = staff.post(
        f"/admin/publicity_review/transition/{application.id}/{action}",
        data={"expected_state": "submitted", **extra},
    )
    assert decided.status_code == 302, flashes(decided)
    notice = _notice_of(qunit.admin, application.number)
    assert notice.link == f"/admin/publicity_applications/details/?id={application.id}"
    unit = logged_in(app, qunit.admin)
    opened = unit.get(f"/admin/notifications/open/?id={notice.id}")
    assert opened.status_code == 302 and opened.headers["Location"] == notice.link
    page = unit.get(notice.link)
    assert page.status_code == 200 and application.number in page.get_data(as_text=True)
    intruder = logged_in(app, other_qunit.admin)
    assert intruder.get(notice.link).status_code in (403, 404)
    # Staff recipients of the same record are sent to the reviewers' grid.
    with app.test_request_context("/"):
        assert notify.record_link(application, casei) == (
            f"/admin/publicity_review/details/?id={application.id}"
        )
        assert notify.record_link(application) == f"/admin/publicity_review/details/?id={application.id}"


def test_manual_verification_filed_and_decided_over_http(app, qunit, casei):
    person = holder()
    client = logged_in(app, qunit.admin)
    response = client.post(
        "/admin/real_name_checks/new/",
        data={
            "person_name": person.real_name,
            "id_number": person.id_number,
            "mobile": "13700000011",
            "proof": (io.BytesIO(PNG), "id.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, flashes(response)
    row = db.session.execute(select(RealNameVerification)).scalar_one()
    assert row.status == "pending"
    assert "待人工核验" in client.get("/admin/real_name_checks/").get_data(as_text=True)
    staff = logged_in(app, casei)
    staff.post(f"/admin/real_name_review/transition/{row.id}/approve", data={"expected_state": "pending"})
    db.session.expire_all()
    assert db.session.get(RealNameVerification, row.id).status == "passed"


def test_expired_application_is_void_on_its_printed_form(app, qunit):
    application = create(qunit, holder())
    application.deadline = utcnow() - timedelta(minutes=1)
    db.session.commit()
    client = logged_in(app, qunit.admin)
    grid = client.get("/admin/publicity_applications/").get_data(as_text=True)  # expires on access
    db.session.expire_all()
    assert db.session.get(PublicityApplication, application.id).status == "expired"
    assert "逾期作废" in grid
    printed = client.get(f"/admin/publicity_applications/print/{application.id}").get_data(as_text=True)
    assert 'data-void="1"' in printed
    page = client.get(f"/admin/publicity_applications/upload/{application.id}").get_data(as_text=True)
    assert 'id="upload-form"' not in page


@pytest.mark.parametrize(
    "door",
    [
        "/admin/publicity_applications/details/?id={id}",
        "/admin/publicity_applications/print/{id}",
        "/admin/publicity_applications/publicity_print/{id}",
        "/admin/publicity_applications/upload/{id}",
        "/admin/publicity_applications/file/{id}/form_upload",
        "/admin/publicity_rejected/details/?id={id}",
    ],
)
def test_another_unit_cannot_open_the_application(app, qunit, other_qunit, door):
    application = upload(create(qunit, holder()), qunit)
    intruder = logged_in(app, other_qunit.admin)
    assert intruder.get(door.format(id=application.id)).status_code in (403, 404)


def test_another_unit_cannot_act_or_list_or_export(app, qunit, other_qunit):
    application = create(qunit, holder())
    intruder = logged_in(app, other_qunit.admin)
    assert application.number not in intruder.get("/admin/publicity_applications/").get_data(as_text=True)
    export = intruder.get("/admin/publicity_applications/export/xlsx/")
    assert application.number.encode() not in export.get_data()
    for path, data in (
        (f"/admin/publicity_applications/code/{application.id}", {}),
        (f"/admin/publicity_applications/mobile/{application.id}", {"mobile": "13700000000"}),
        (f"/admin/publicity_applications/upload/{application.id}", {"code": "123456"}),
        (f"/admin/publicity_applications/transition/{application.id}/submit", {}),
    ):
        assert intruder.post(path, data=data).status_code in (403, 404), path
    db.session.expire_all()
    assert db.session.get(PublicityApplication, application.id).status == "awaiting_upload"


def test_change_asks_for_the_resignation_proof_over_http(app, qunit, other_qunit):
    person = holder()
    register(person, other_qunit.org)
    client = logged_in(app, qunit.admin)
    page = client.get(
        "/admin/publicity_new/", query_string={"name": person.real_name, "id_number": person.id_number}
    ).get_data(as_text=True)
    assert 'data-kind="change"' in page and 'id="resignation-group"' in page
    response = client.post(
        "/admin/publicity_new/create",
        data={"name": person.real_name, "id_number": person.id_number, "consent": "1"},
    )
    assert "离职证明" in flashes(client.get(response.location)) and count(PublicityApplication) == 0


def test_additions_batch_over_http(app, qunit):
    a = holder(name="孙宝岩", codes=("RT-II", "UT-II"))
    register(a, qunit.org, codes=("RT-II",))
    client = logged_in(app, qunit.admin)
    page = client.get("/admin/publicity_new/").get_data(as_text=True)
    assert a.id_number in page and "UT-II" in page
    client.post("/admin/publicity_new/additions", data={"id_numbers": [a.id_number]})
    assert count(PublicityApplication) == 0
    client.post("/admin/publicity_new/additions", data={"id_numbers": [a.id_number], "consent": "1"})
    assert count(PublicityApplication) == 1
