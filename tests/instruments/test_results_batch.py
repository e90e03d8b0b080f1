"""Issue 11 for metrology institutions: contact person, phone and address (registration,
我的机构信息, the booking receipt, the public institution page), 检定周期 in the catalogue and
the 有效期至 it proposes, and results in batches: one result for several accepted items, or an
.xlsx of results (all or nothing, error report), every item through the engine."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from ecqs import workflows
from ecqs.extensions import db
from ecqs.instruments import catalogue as instrument_catalogue
from ecqs.instruments import results as batch_results
from ecqs.models import AuditEvent, BookingItem, InstrumentKind
from ecqs.services import workdays
from tests.conftest import flashes, make_org, make_user
from tests.instruments.fixtures import authorise, kind, make_booking, make_instrument, make_metrology, upload

pytestmark = pytest.mark.usefixtures("instrument_kinds")


@pytest.fixture
def accepted():
    """Three items of one enterprise accepted by one institution (kind 0101: 6 months)."""
    org = make_org(division_code="610113", name="西安示范锅炉制造有限公司")
    user = make_user("enterprise", org=org)
    institution, inst_user = make_metrology("610000", name="陕西省计量科学研究院", phone="029-86000007")
    institution.contact_name = "李检定"
    authorise(institution, kind("0101"), "610000")
    instruments = [make_instrument(org, serial_no=f"BATCH-{i}") for i in range(3)]
    booking = make_booking(org, instruments, user=user)
    workflows.transition(booking, "submit", user)
    for item in booking.items:
        workflows.transition(item, "accept", inst_user)
    db.session.commit()
    return list(booking.items), inst_user, user, institution


def _state(item) -> BookingItem:
    db.session.expire_all()
    return db.session.get(BookingItem, item.id)


# ---- institution contact fields --------------------------------------------------------------


def test_receipt_and_public_page_show_the_institution_contact(client, login_as, accepted):
    items, _inst_user, ent_user, institution = accepted
    login_as(ent_user)
    page = client.get(f"/admin/bookings/details/?id={items[0].booking_id}").get_data(as_text=True)
    row = page[page.index(f'id="item-{items[0].id}"') :]
    row = row[: row.index("</tr>")]
    assert re.search(r'class="institution-contact">\s*李检定\s*<', row)
    assert re.search(r'class="institution-phone">\s*029-86000007\s*<', row)
    assert "西安市未央区" in row
    public = client.get("/public/instruments/institutions").get_data(as_text=True)
    card = public[public.index(f'id="institution-{institution.id}"') :]
    assert "电话：029-86000007" in card and "联系人：李检定" in card and "地址：西安市未央区" in card


def test_institution_sees_my_institution_info_and_edits_its_contact(client, login_as, accepted):
    _items, inst_user, _ent_user, institution = accepted
    login_as(inst_user)
    home = client.get("/admin/").get_data(as_text=True)
    assert "我的机构信息" in home and "我的企业信息" not in home
    details = client.get(f"/admin/my_org/details/?id={institution.id}").get_data(as_text=True)
    assert "029-86000007" in details and 'id="edit-contact"' in details
    bad = client.post(
        f"/admin/my_org/contact/?id={institution.id}",
        data={"contact_name": "王五", "phone": "电话", "address": "西安市新城区"},
    )
    assert "电话号码格式不正确" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert institution.contact_name == "李检定"
    done = client.post(
        f"/admin/my_org/contact/?id={institution.id}",
        data={"contact_name": "王五", "phone": "029-88888888", "address": "西安市新城区 9 号"},
        follow_redirects=True,
    )
    assert "联系信息已保存" in flashes(done)
    db.session.expire_all()
    assert (institution.contact_name, institution.phone, institution.address) == (
        "王五",
        "029-88888888",
        "西安市新城区 9 号",
    )
    # Another organisation's record: not found.
    other = make_org(kind="metrology", division_code="610000")
    assert client.get(f"/admin/my_org/contact/?id={other.id}").status_code == 404


def test_enterprise_still_reads_my_enterprise_info(client, login_as, accepted):
    _items, _inst_user, ent_user, _institution = accepted
    login_as(ent_user)
    home = client.get("/admin/").get_data(as_text=True)
    assert "我的企业信息" in home and "我的机构信息" not in home


def test_institution_registration_asks_for_the_phone(client):
    page = client.get("/register/institution").get_data(as_text=True)
    assert 'name="phone"' in page and "联系电话" in page


# ---- 检定周期 ------------------------------------------------------------------------------------


def test_catalogue_carries_the_verification_period_and_proposes_the_date(accepted):
    items, *_ = accepted
    assert kind("0101").verification_period_months == 6
    assert kind("0102").verification_period_months == 12
    assert batch_results.proposed_valid_until(items[0], date(2026, 1, 15)) == date(2026, 7, 14)
    assert batch_results.proposed_valid_until(items[0], date(2025, 8, 31)) == date(2026, 2, 27)
    kind("0101").verification_period_months = None
    assert batch_results.proposed_valid_until(items[0], date(2026, 1, 15)) is None


def test_catalogue_import_reads_and_checks_the_period():
    def sheet(period):
        from tests.instruments.test_catalogue import catalogue_xlsx

        return catalogue_xlsx([["01", "压力仪表", "0101", "指示类压力表", "", "", period]])

    result = instrument_catalogue.import_xlsx(sheet("abc"))
    assert result.errors and result.errors[0].column == "检定周期（月）"
    assert instrument_catalogue.import_xlsx(sheet("0")).errors
    db.session.rollback()
    assert not instrument_catalogue.import_xlsx(sheet("3")).errors
    db.session.commit()
    assert kind("0101").verification_period_months == 3


def test_single_result_form_proposes_the_date(client, login_as, accepted):
    items, inst_user, *_ = accepted
    login_as(inst_user)
    page = client.get(f"/admin/verification_results/result/?id={items[0].id}").get_data(as_text=True)
    proposal = batch_results.proposed_valid_until(items[0], workdays.today())
    assert f'value="{proposal.isoformat()}"' in page and f'value="{workdays.today().isoformat()}"' in page


# ---- batch form ------------------------------------------------------------------------------


def _batch_post(client, items, certs, **extra):
    data = {
        "rowid": [str(i.id) for i in items],
        "result": "qualified",
        "verified_on": workdays.today().isoformat(),
        **extra,
    }
    for item, cert in zip(items, certs, strict=True):
        data[f"certificate_no_{item.id}"] = cert
        data[f"version_{item.id}"] = str(item.version)
    return client.post("/admin/verification_results/batch/", data=data, follow_redirects=True)


def test_batch_form_shows_the_selected_items_with_proposals(client, login_as, accepted):
    items, inst_user, *_ = accepted
    login_as(inst_user)
    page = client.post(
        "/admin/verification_results/action/",
        data={"action": "batch_result", "rowid": [str(i.id) for i in items]},
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="batch-result-form"' in html
    assert all(f"BATCH-{i}" in html for i in range(3))
    proposal = batch_results.proposed_valid_until(items[0], workdays.today()).isoformat()
    assert html.count(f'value="{proposal}"') == 3
    assert f'value="{workdays.today().isoformat()}"' in html  # 检定日期 defaults to today


def test_batch_result_happy_path_goes_through_the_engine(client, login_as, accepted):
    items, inst_user, *_ = accepted
    login_as(inst_user)
    changed = workdays.today() + timedelta(days=100)
    response = _batch_post(
        client, items, ["JD-1", "JD-2", "JD-3"], **{f"valid_until_{items[2].id}": changed.isoformat()}
    )
    assert "已录入 3 件器具的检定结果" in flashes(response)
    proposal = batch_results.proposed_valid_until(items[0], workdays.today())
    rows = [_state(i) for i in items]
    assert [r.status for r in rows] == ["verified"] * 3
    assert [r.certificate_no for r in rows] == ["JD-1", "JD-2", "JD-3"]
    assert [r.new_valid_until for r in rows] == [proposal, proposal, changed]
    assert rows[2].instrument.valid_until == changed
    events = (
        db.session.execute(
            select(AuditEvent).where(AuditEvent.event == "transition", AuditEvent.action == "record_result")
        )
        .scalars()
        .all()
    )
    assert len(events) == 3


def test_unqualified_batch_keeps_the_ledger_date_despite_the_proposals(client, login_as, accepted):
    items, inst_user, *_ = accepted
    before = [i.instrument.valid_until for i in items]
    login_as(inst_user)
    proposal = batch_results.proposed_valid_until(items[0], workdays.today()).isoformat()
    extra = {f"valid_until_{i.id}": proposal for i in items}
    response = _batch_post(client, items, ["BH-1", "BH-2", "BH-3"], result="unqualified", **extra)
    assert "已录入 3 件器具的检定结果" in flashes(response)
    rows = [_state(i) for i in items]
    assert [(r.status, r.result, r.new_valid_until) for r in rows] == [("verified", "unqualified", None)] * 3
    assert [r.instrument.valid_until for r in rows] == before


def test_batch_refuses_a_bad_certificate_number_and_changes_nothing(client, login_as, accepted):
    items, inst_user, *_ = accepted
    login_as(inst_user)
    response = _batch_post(client, items, ["JD-1", "", "JD-3"])
    assert "全部未保存" in flashes(response) and "证书编号必填" in flashes(response)
    assert {_state(i).status for i in items} == {"accepted"}
    response = _batch_post(client, items, ["JD-1", "JD-1", "JD-3"])
    assert "重复" in flashes(response)
    assert {_state(i).status for i in items} == {"accepted"}
    response = _batch_post(client, items, ["JD 1", "JD-2", "JD-3"])
    assert "不能包含空格" in flashes(response)
    assert {_state(i).status for i in items} == {"accepted"}


def test_batch_refuses_an_item_not_accepted(client, login_as, accepted):
    items, inst_user, *_ = accepted
    workflows.transition(
        items[1],
        "record_result",
        inst_user,
        result="unqualified",
        certificate_no="X-1",
        verified_on=workdays.today(),
    )
    db.session.commit()
    login_as(inst_user)
    response = _batch_post(client, [items[0], items[1]], ["JD-1", "JD-2"])
    assert "全部未保存" in flashes(response)
    assert _state(items[0]).status == "accepted"
    assert _state(items[1]).certificate_no == "X-1"
    # The grid action names the item that cannot be recorded and offers only the others.
    page = client.post(
        "/admin/verification_results/action/",
        data={"action": "batch_result", "rowid": [str(items[0].id), str(items[1].id)]},
    ).get_data(as_text=True)
    assert "不能录入检定结果" in page and f'id="batch-row-{items[0].id}"' in page
    assert f'id="batch-row-{items[1].id}"' not in page


def test_batch_refuses_another_institutions_item(client, login_as, accepted):
    items, _inst_user, *_ = accepted
    _other, other_user = make_metrology("610000", name="另一计量机构")
    login_as(other_user)
    response = _batch_post(client, items[:1], ["JD-1"])
    assert "不存在或无权操作" in flashes(response)
    assert _state(items[0]).status == "accepted"
    denied = (
        db.session.execute(
            select(AuditEvent).where(AuditEvent.event == "access_denied", AuditEvent.user_id == other_user.id)
        )
        .scalars()
        .all()
    )
    assert denied


def test_batch_refuses_a_stale_row(client, login_as, accepted):
    items, inst_user, *_ = accepted
    login_as(inst_user)
    stale = items[0].version
    workflows.transition(items[0], "return", inst_user, comment="无法检定")
    db.session.commit()
    data = {
        "rowid": [str(items[0].id)],
        "result": "qualified",
        "verified_on": workdays.today().isoformat(),
        f"certificate_no_{items[0].id}": "JD-9",
        f"version_{items[0].id}": str(stale),
    }
    response = client.post("/admin/verification_results/batch/", data=data, follow_redirects=True)
    assert "全部未保存" in flashes(response)
    assert _state(items[0]).status == "returned"


# ---- .xlsx import -----------------------------------------------------------------------------


def _template(client) -> list[list]:
    response = client.get("/admin/verification_results/import/template/")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in ws[2]] == batch_results.HEADERS
    return [[c.value for c in row] for row in ws.iter_rows(min_row=3)]


def _results_xlsx(rows) -> bytes:
    from tests.instruments.fixtures import xlsx_bytes

    return xlsx_bytes(rows, headers=batch_results.HEADERS)


def test_results_template_lists_the_accepted_items_with_proposals(client, login_as, accepted):
    items, inst_user, *_ = accepted
    _other, _other_user = make_metrology("610000")
    login_as(inst_user)
    rows = _template(client)
    assert [r[0] for r in rows] == [i.id for i in items]
    proposal = batch_results.proposed_valid_until(items[0], workdays.today()).isoformat()
    assert rows[0][4] == "BATCH-0" and rows[0][8] == workdays.today().isoformat() and rows[0][9] == proposal


def test_results_import_all_or_nothing_with_error_report(client, login_as, accepted):
    items, inst_user, *_ = accepted
    login_as(inst_user)
    rows = _template(client)
    rows[0][6:8] = ["合格", "JD-1"]
    rows[1][6:8] = ["良好", "JD-2"]  # not a conclusion
    rows[2][6:8] = ["不合格", "JD-3"]
    rows[2][8] = (workdays.today() + timedelta(days=3)).isoformat()  # in the future
    response = upload(client, "/admin/verification_results/import/", _results_xlsx(rows))
    html = response.get_data(as_text=True)
    assert "全部数据均未导入" in html and 'id="import-report"' in html
    assert "请填写“合格”或“不合格”" in html and "检定日期不能晚于今天" in html
    assert {_state(i).status for i in items} == {"accepted"}
    report = re.search(r'id="import-report" href="([^"]+)"', html).group(1)
    assert client.get(report).status_code == 200
    # Corrected: every row recorded through the engine, the blank 有效期至 proposed.
    rows[1][6] = "合格"
    rows[1][9] = None
    rows[2][8] = workdays.today().isoformat()
    response = upload(client, "/admin/verification_results/import/", _results_xlsx(rows))
    assert response.status_code == 302
    states = [_state(i) for i in items]
    assert [s.status for s in states] == ["verified"] * 3
    assert [s.result for s in states] == ["qualified", "qualified", "unqualified"]
    assert states[1].new_valid_until == batch_results.proposed_valid_until(states[1], workdays.today())


def test_results_import_refuses_other_institutions_items(client, login_as, accepted):
    items, _inst_user, *_ = accepted
    _other, other_user = make_metrology("610000")
    login_as(other_user)
    today = workdays.today().isoformat()
    rows = [[items[0].id, "", "", "", "", "", "合格", "JD-1", today, None]]
    html = upload(client, "/admin/verification_results/import/", _results_xlsx(rows)).get_data(as_text=True)
    assert "不是本机构已受理、待录入结果的器具" in html
    assert _state(items[0]).status == "accepted"


def test_results_import_over_the_request_limit_gets_its_page_with_a_chinese_message(
    app, client, login_as, accepted, monkeypatch
):
    """Not a large-upload endpoint: the global limit applies, and the 413 names it."""
    items, inst_user, *_ = accepted
    login_as(inst_user)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    response = upload(client, "/admin/verification_results/import/", b"0" * (2 * 1024 * 1024))
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "文件超过 1 MB" in html and 'id="results-import-form"' in html
    assert _state(items[0]).status == "accepted"


def test_kind_without_period_needs_a_date_when_qualified(client, login_as, accepted):
    items, inst_user, *_ = accepted
    db.session.execute(InstrumentKind.__table__.update().values(verification_period_months=None))
    db.session.commit()
    login_as(inst_user)
    today = workdays.today().isoformat()
    rows = [[items[0].id, "", "", "", "", "", "合格", "JD-1", today, None]]
    html = upload(client, "/admin/verification_results/import/", _results_xlsx(rows)).get_data(as_text=True)
    assert "没有检定周期" in html
    assert _state(items[0]).status == "accepted"


def test_public_catalogue_shows_the_verification_period(client):
    page = client.get("/public/instruments/catalogue").get_data(as_text=True)
    assert "检定周期（月）" in page
    row = page[page.index("指示类压力表") :]
    assert "<td>6</td>" in row[: row.index("</tr>")]


def test_admin_catalogue_grid_edits_the_verification_period(client, login_as):
    login_as("admin")
    assert "检定周期（月）" in client.get("/admin/instrument_kinds/").get_data(as_text=True)
    k = kind("0102")
    data = {
        "item": str(k.item_id),
        "code": k.code,
        "name": k.name,
        "type_approval": "",
        "compulsory_verification": "",
        "verification_period_months": "300",
    }
    page = client.post(f"/admin/instrument_kinds/edit/?id={k.id}", data=data).get_data(as_text=True)
    assert "检定周期应为 1 至 240 个月" in page
    db.session.expire_all()
    assert kind("0102").verification_period_months == 12
    data["verification_period_months"] = "24"
    client.post(f"/admin/instrument_kinds/edit/?id={k.id}", data=data)
    db.session.expire_all()
    assert kind("0102").verification_period_months == 24
