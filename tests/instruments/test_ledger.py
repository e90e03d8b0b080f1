"""强检器具台账: every field of seed 003's form, copy, edit without 有效期至, stop/enable/scrap,
delete rules, expiry colours and filters, export, and access through every door."""

from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ecqs.extensions import db
from ecqs.models import AuditEvent, Instrument
from ecqs.services import workdays
from tests.conftest import flashes, make_org, make_user
from tests.instruments.fixtures import (
    kind,
    link_person,
    make_booking,
    make_instrument,
    make_metrology,
    make_reviewer,
)

pytestmark = pytest.mark.usefixtures("instrument_kinds")


def form_data(**kw):
    k = kind("0101")
    data = {
        "name": "压力表",
        "instrument_type": "working",
        "item_id": str(k.item_id),
        "kind_id": str(k.id),
        "model_spec": "(0-1) MPa",
        "measuring_range": "(0-1) MPa",
        "accuracy_class": "1.6",
        "serial_no": "HY37",
        "manufacturer": "上海银普仪表有限公司",
        "origin": "domestic",
        "usage_division_code-1": "610000",
        "usage_division_code-2": "610100",
        "usage_division_code-3": "610113",
        "usage_place": "锅炉房",
        "purchase_date": "2024-03-01",
        "quantity": "1",
        "purpose": "safety",
        "delivery_mode": "send",
        "valid_until": "2027-06-30",
    }
    data.update(kw)
    return data


def ledger(org):
    return db.session.execute(select(Instrument).where(Instrument.organization_id == org.id)).scalars().all()


def test_add_instrument_with_every_field_of_seed_003(client, login_as):
    user = login_as("enterprise")
    page = client.get("/admin/instruments/new/").get_data(as_text=True)
    for label in (
        "器具名称",
        "器具类型",
        "器具项别",
        "器具种别",
        "型号规格",
        "测量范围",
        "准确度等级",
        "出厂编号",
        "生产厂家",
        "器具产地",
        "使用地点行政区划",
        "安装/使用地点",
        "购置时间",
        "器具数量",
        "器具用途",
        "送检方式",
        "有效期至",
    ):
        assert label in page, label
    assert "该信息一旦保存不可修改" in page
    for element_id in ("item_id", "kind_id", "usage_division_code-1", "usage_division_code-3", "valid_until"):
        assert f'id="{element_id}"' in page, element_id
    response = client.post("/admin/instruments/new/", data=form_data())
    assert response.status_code == 302, flashes(response)
    (inst,) = ledger(user.organization)
    assert (inst.name, inst.serial_no, inst.usage_division_code, inst.status) == (
        "压力表",
        "HY37",
        "610113",
        "in_use",
    )
    assert inst.valid_until == date(2027, 6, 30)
    assert inst.kind.name == "指示类压力表" and inst.item.name == "压力仪表"
    assert inst.created_by_id == user.id


def test_add_refuses_bad_input_and_saves_nothing(client, login_as):
    user = login_as("enterprise")
    other_item_kind = form_data(item_id="999")
    for data in (
        form_data(serial_no=""),
        form_data(quantity="0"),
        form_data(**{"usage_division_code-3": "", "usage_division_code-2": "", "usage_division_code-1": ""}),
        other_item_kind,
        form_data(purpose="unknown"),
        form_data(purchase_date=(workdays.today() + timedelta(days=3)).isoformat()),
        form_data(name="x" * 101),
    ):
        response = client.post("/admin/instruments/new/", data=data)
        assert response.status_code == 200
    assert ledger(user.organization) == []


def test_duplicate_serial_per_enterprise_and_kind(client, login_as):
    user = login_as("enterprise")
    make_instrument(user.organization, serial_no="HY37")
    response = client.post("/admin/instruments/new/", data=form_data(serial_no="HY37"))
    assert "出厂编号“HY37”已存在" in response.get_data(as_text=True)
    assert len(ledger(user.organization)) == 1
    # Same serial under the other kind, or in another enterprise, is fine.
    assert (
        client.post("/admin/instruments/new/", data=form_data(kind_id=str(kind("0102").id))).status_code
        == 302
    )
    other = make_org()
    make_instrument(other, serial_no="HY37")


def test_unique_serial_is_a_database_constraint(app):
    org = make_org()
    make_instrument(org, serial_no="S1")
    with pytest.raises(IntegrityError):
        make_instrument(org, serial_no="S1")
    db.session.rollback()


def test_copy_prefills_a_new_row_with_serial_cleared(client, login_as):
    user = login_as("enterprise")
    source = make_instrument(user.organization, serial_no="HY37", usage_place="二号锅炉房")
    page = client.get(f"/admin/instruments/new/?copy_from={source.id}").get_data(as_text=True)
    assert "二号锅炉房" in page and 'value="HY37"' not in page
    assert 'id="serial_no"' in page
    response = client.post(
        f"/admin/instruments/new/?copy_from={source.id}",
        data=form_data(serial_no="HY38", usage_place="二号锅炉房"),
    )
    assert response.status_code == 302
    assert sorted(i.serial_no for i in ledger(user.organization)) == ["HY37", "HY38"]


def test_copy_of_another_enterprises_row_is_refused(client, login_as):
    login_as("enterprise")
    foreign = make_instrument(make_org(), usage_place="别人的锅炉房")
    response = client.get(f"/admin/instruments/new/?copy_from={foreign.id}")
    assert response.status_code == 404
    assert "别人的锅炉房" not in response.get_data(as_text=True)


def test_valid_until_is_read_only_after_add(client, login_as):
    user = login_as("enterprise")
    inst = make_instrument(user.organization, valid_until=date(2027, 1, 1))
    page = client.get(f"/admin/instruments/edit/?id={inst.id}").get_data(as_text=True)
    assert 'name="valid_until"' not in page and "一经保存不可修改" in page
    response = client.post(
        f"/admin/instruments/edit/?id={inst.id}",
        data=form_data(serial_no=inst.serial_no, valid_until="2035-12-31", usage_place="新位置"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    inst = db.session.get(Instrument, inst.id)
    assert inst.usage_place == "新位置"
    assert inst.valid_until == date(2027, 1, 1)


def test_stop_enable_scrap_are_workflow_actions(client, login_as):
    user = login_as("enterprise")
    inst = make_instrument(user.organization)
    client.post("/admin/instruments/action/", data={"action": "wf_stop", "rowid": [str(inst.id)]})
    db.session.expire_all()
    assert db.session.get(Instrument, inst.id).status == "stopped"
    client.post(f"/admin/instruments/transition/{inst.id}/enable", data={})
    db.session.expire_all()
    assert db.session.get(Instrument, inst.id).status == "in_use"
    client.post("/admin/instruments/action/", data={"action": "wf_scrap", "rowid": [str(inst.id)]})
    db.session.expire_all()
    assert db.session.get(Instrument, inst.id).status == "scrapped"
    # 报废 is final.
    response = client.post(f"/admin/instruments/transition/{inst.id}/enable", data={}, follow_redirects=True)
    assert "不能执行“启用”" in response.get_data(as_text=True)
    assert db.session.get(Instrument, inst.id).status == "scrapped"
    events = db.session.execute(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "Instrument", AuditEvent.event == "transition"
        )
    ).scalars()
    assert list(events) == ["stop", "enable", "scrap"]
    # A scrapped instrument cannot be edited any more.
    response = client.post(
        f"/admin/instruments/edit/?id={inst.id}", data=form_data(serial_no=inst.serial_no, usage_place="改")
    )
    db.session.expire_all()
    assert db.session.get(Instrument, inst.id).usage_place == "锅炉房"


def test_instrument_in_an_open_booking_cannot_be_stopped_or_scrapped(client, login_as):
    user = login_as("enterprise")
    inst = make_instrument(user.organization)
    make_booking(user.organization, [inst])
    response = client.post(f"/admin/instruments/transition/{inst.id}/scrap", data={}, follow_redirects=True)
    assert "未完成的预约单" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Instrument, inst.id).status == "in_use"


def test_delete_only_never_booked(client, login_as):
    user = login_as("enterprise")
    free = make_instrument(user.organization)
    booked = make_instrument(user.organization)
    make_booking(user.organization, [booked])
    client.post(
        "/admin/instruments/action/", data={"action": "delete", "rowid": [str(free.id), str(booked.id)]}
    )
    response = client.post("/admin/instruments/delete/", data={"id": str(booked.id)}, follow_redirects=True)
    assert "不能删除" in response.get_data(as_text=True)
    assert [i.id for i in ledger(user.organization)] == [booked.id]


def test_expiry_colours_and_filters(client, login_as):
    user = login_as("enterprise")
    today = workdays.today()
    make_instrument(user.organization, serial_no="RED", valid_until=today - timedelta(days=1))
    make_instrument(user.organization, serial_no="YELLOW", valid_until=today + timedelta(days=30))
    make_instrument(user.organization, serial_no="GREEN", valid_until=today + timedelta(days=31))
    make_instrument(
        user.organization, serial_no="SCRAP", valid_until=today - timedelta(days=5), status="scrapped"
    )
    page = client.get("/admin/instruments/").get_data(as_text=True)
    assert page.count('data-row-class="row-overdue"') == 1
    assert page.count('data-row-class="row-due-soon"') == 1
    # Filters are indexed in the order the view declares them: 0 item, 1 kind, 2 division,
    # 3 status, 4 expiry.
    overdue = client.get("/admin/instruments/?flt0_4=overdue").get_data(as_text=True)
    assert "RED" in overdue and "YELLOW" not in overdue and "GREEN" not in overdue and "SCRAP" not in overdue
    soon = client.get("/admin/instruments/?flt0_4=due_soon").get_data(as_text=True)
    assert "YELLOW" in soon and "RED" not in soon and "GREEN" not in soon
    scrapped = client.get("/admin/instruments/?flt0_3=scrapped").get_data(as_text=True)
    assert "SCRAP" in scrapped and "GREEN" not in scrapped


def test_filters_by_item_kind_and_division(client, login_as):
    user = login_as("enterprise")
    make_instrument(
        user.organization, serial_no="K1-XIAN", kind_id=kind("0101").id, usage_division_code="610113"
    )
    make_instrument(
        user.organization, serial_no="K2-BAOJI", kind_id=kind("0102").id, usage_division_code="610302"
    )
    page = client.get(f"/admin/instruments/?flt0_1={kind('0102').id}").get_data(as_text=True)
    assert "K2-BAOJI" in page and "K1-XIAN" not in page
    page = client.get(f"/admin/instruments/?flt0_0={kind('0101').item_id}").get_data(as_text=True)
    assert "K2-BAOJI" in page and "K1-XIAN" in page
    page = client.get("/admin/instruments/?flt0_2=610100").get_data(as_text=True)
    assert "K1-XIAN" in page and "K2-BAOJI" not in page
    page = client.get("/admin/instruments/?flt0_2=610000").get_data(as_text=True)
    assert "K1-XIAN" in page and "K2-BAOJI" in page
    # The filter offers the divisions of the own ledger (and their parents) by name.
    assert "宝鸡市" in page


def test_export_is_own_rows_only_with_chinese_headers(client, login_as):
    user = login_as("enterprise")
    make_instrument(user.organization, serial_no="MINE", manufacturer="=cmd|' /C calc'!A0")
    make_instrument(make_org(), serial_no="THEIRS")
    response = client.get("/admin/instruments/export/xlsx/")
    assert response.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True).active
    rows = [[c for c in r] for r in ws.iter_rows(values_only=True)]
    assert rows[0][:3] == ("器具名称", "器具类型", "器具项别") or list(rows[0][:3]) == [
        "器具名称",
        "器具类型",
        "器具项别",
    ]
    flat = [str(v) for r in rows for v in r if v is not None]
    assert "MINE" in flat and "THEIRS" not in flat
    assert "'=cmd|' /C calc'!A0" in flat  # neutralised formula text
    assert "在用" in flat and "工作计量器具" in flat and "压力仪表" in flat
    assert "陕西省西安市雁塔区" in flat and "610113" in flat and "国产" in flat and "安全防护" in flat


# ---- access through every door --------------------------------------------------------------


def test_other_enterprises_rows_are_invisible_and_unchangeable(client, login_as):
    login_as("enterprise")
    other = make_org()
    foreign = make_instrument(other, serial_no="FOREIGN", usage_place="别家")
    assert "FOREIGN" not in client.get("/admin/instruments/").get_data(as_text=True)
    assert client.get(f"/admin/instruments/details/?id={foreign.id}").status_code == 404
    assert client.get(f"/admin/instruments/edit/?id={foreign.id}").status_code == 404
    assert (
        client.post(f"/admin/instruments/edit/?id={foreign.id}", data=form_data(usage_place="X")).status_code
        == 404
    )
    assert client.post("/admin/instruments/delete/", data={"id": str(foreign.id)}).status_code == 404
    assert client.post(f"/admin/instruments/transition/{foreign.id}/stop", data={}).status_code == 404
    for action in ("wf_stop", "wf_scrap", "delete"):
        client.post("/admin/instruments/action/", data={"action": action, "rowid": [str(foreign.id)]})
    db.session.expire_all()
    row = db.session.get(Instrument, foreign.id)
    assert (row.status, row.usage_place) == ("in_use", "别家")
    assert (
        client.post("/admin/instruments/ajax/update/", data={"list_form_pk": foreign.id}).status_code == 403
    )


def test_linked_person_works_on_the_enterprise_ledger(client, login_as):
    org = make_org()
    make_instrument(org, serial_no="ORGROW")
    person = make_user("person")
    link_person(person, org)
    login_as(person)
    assert "ORGROW" in client.get("/admin/instruments/").get_data(as_text=True)
    assert client.post("/admin/instruments/new/", data=form_data(serial_no="BYPERSON")).status_code == 302
    row = db.session.execute(select(Instrument).where(Instrument.serial_no == "BYPERSON")).scalar_one()
    assert row.organization_id == org.id


@pytest.mark.parametrize("link_status", [None, "pending", "rejected"])
def test_person_without_approved_link_is_denied(client, login_as, link_status):
    org = make_org()
    inst = make_instrument(org)
    person = make_user("person")
    if link_status:
        link_person(person, org, status=link_status)
    login_as(person)
    assert client.get("/admin/instruments/").status_code == 403
    assert client.get(f"/admin/instruments/details/?id={inst.id}").status_code == 403
    assert client.get("/admin/instruments/export/xlsx/").status_code == 403
    assert client.post("/admin/instruments/new/", data=form_data()).status_code == 403
    assert db.session.execute(select(func.count(Instrument.id))).scalar() == 1


def test_unapproved_enterprise_cannot_use_the_ledger(client, login_as):
    org = make_org(status="pending")
    user = make_user("enterprise", org=org)
    login_as(user)
    response = client.get("/admin/instruments/")
    assert response.status_code == 302


@pytest.mark.parametrize("role", ["metrology", "assessor", "unit", "association", "reviewer", "admin"])
def test_other_roles_cannot_maintain_a_ledger(client, login_as, role):
    org = make_org()
    inst = make_instrument(org)
    login_as(make_reviewer() if role == "reviewer" else make_user(role))
    assert client.get("/admin/instruments/").status_code == 403
    assert client.get(f"/admin/instruments/edit/?id={inst.id}").status_code == 403
    assert client.post("/admin/instruments/new/", data=form_data()).status_code == 403
    assert (
        client.post(
            "/admin/instruments/action/", data={"action": "wf_scrap", "rowid": [str(inst.id)]}
        ).status_code
        == 403
    )
    db.session.expire_all()
    assert db.session.get(Instrument, inst.id).status == "in_use"


def test_metrology_sees_no_instrument_grid(client, login_as):
    _org, user = make_metrology()
    login_as(user)
    assert client.get("/admin/instrument_supervision/").status_code == 403


def test_menu_labels_from_the_manual(client, login_as):
    login_as("enterprise")
    page = client.get("/admin/").get_data(as_text=True)
    for label in ("强制检定工作计量器具业务管理系统", "强检器具台账维护", "强检器具预约申请"):
        assert label in page
    assert "预约受理" not in page and "强检器具目录" not in page


def test_xss_in_fields_renders_as_text(client, login_as):
    user = login_as("enterprise")
    payload = "<img src=x onerror=alert(1)>"
    inst = make_instrument(user.organization, name=payload, usage_place=payload)
    for url in (
        "/admin/instruments/",
        f"/admin/instruments/details/?id={inst.id}",
        f"/admin/instruments/edit/?id={inst.id}",
    ):
        page = client.get(url).get_data(as_text=True)
        assert payload not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
