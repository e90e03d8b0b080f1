"""预约单: choose, save, submit, allocation (most specific division first, retried when
authorisations change), receipt, cancel rules, the institution's 受理 / 退回 / 检定结果, and
who sees what."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from ecqs import workflows
from ecqs.extensions import db
from ecqs.instruments import workflows as instrument_workflows
from ecqs.models import AuditEvent, Booking, BookingItem, MetrologyAuthorization, Notification
from ecqs.services import workdays
from tests.conftest import flashes, make_org, make_user
from tests.instruments.fixtures import (
    authorise,
    kind,
    link_person,
    make_booking,
    make_instrument,
    make_metrology,
    make_reviewer,
)

pytestmark = pytest.mark.usefixtures("instrument_kinds")


def fresh(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def items_of(booking):
    return (
        db.session.execute(
            select(BookingItem).where(BookingItem.booking_id == booking.id).order_by(BookingItem.id)
        )
        .scalars()
        .all()
    )


@pytest.fixture
def world():
    """An enterprise in 西安市雁塔区 with two pressure gauges; 陕西省计量院 authorised for 陕西省."""
    org = make_org(division_code="610113")
    user = make_user("enterprise", org=org)
    institution, inst_user = make_metrology("610000", name="陕西省计量科学研究院")
    authorise(institution, kind("0101"), "610000")
    a = make_instrument(org, serial_no="A-1")
    b = make_instrument(org, serial_no="B-1")
    return {"org": org, "user": user, "institution": institution, "inst_user": inst_user, "a": a, "b": b}


def submitted_booking(world, instruments=None):
    booking = make_booking(world["org"], instruments or [world["a"]], user=world["user"])
    workflows.transition(booking, "submit", world["user"])
    db.session.commit()
    return booking


# ---- the enterprise -----------------------------------------------------------------------


def test_choose_save_then_submit(client, login_as, world):
    login_as(world["user"])
    page = client.get("/admin/bookings/choose/").get_data(as_text=True)
    assert "A-1" in page and "B-1" in page and "新增预约单 - 选择器具" in page
    response = client.post(
        "/admin/bookings/choose/", data={"instrument_id": [str(world["a"].id)], "action": "save"}
    )
    booking = db.session.execute(select(Booking)).scalar_one()
    assert response.status_code == 302 and booking.status == "draft"
    assert re.fullmatch(r"YY\d{8}\d{6}", booking.number)
    assert [i.status for i in items_of(booking)] == ["pending"]
    # A-1 is in an open booking now and is offered no more.
    page = client.get("/admin/bookings/choose/").get_data(as_text=True)
    assert "A-1" not in page and "B-1" in page
    # Submit the draft from its details page (the workflow button).
    response = client.post(
        f"/admin/bookings/transition/{booking.id}/submit", data={"expected_state": "draft"}
    )
    booking = fresh(booking)
    assert booking.status == "submitted" and booking.submitted_at is not None
    (item,) = items_of(booking)
    assert (item.status, item.institution_id) == ("allocated", world["institution"].id)
    details = client.get(f"/admin/bookings/details/?id={booking.id}").get_data(as_text=True)
    assert "回执信息" in details and "陕西省计量科学研究院" in details and "待受理" in details
    assert "西安市未央区" in details  # the institution's address in the receipt
    # The institution is told once.
    assert (
        db.session.execute(
            select(func.count(Notification.id)).where(Notification.user_id == world["inst_user"].id)
        ).scalar()
        == 1
    )


def test_chooser_lists_overdue_and_due_soon_instruments_first(client, login_as, world):
    today = workdays.today()
    world["a"].valid_until = today + timedelta(days=300)
    world["b"].valid_until = None
    make_instrument(world["org"], serial_no="DUE-SOON", valid_until=today + timedelta(days=10))
    make_instrument(world["org"], serial_no="OVERDUE", valid_until=today - timedelta(days=5))
    db.session.commit()
    login_as(world["user"])
    page = client.get("/admin/bookings/choose/").get_data(as_text=True)
    order = sorted(("A-1", "B-1", "DUE-SOON", "OVERDUE"), key=page.index)
    assert order == ["OVERDUE", "DUE-SOON", "A-1", "B-1"]
    assert "已超期" in page and "即将到期" in page


def test_submit_directly_and_select_all_matching(client, login_as, world):
    login_as(world["user"])
    for i in range(150):
        make_instrument(world["org"], serial_no=f"BULK-{i:03d}")
    page = client.get("/admin/bookings/choose/?q=BULK").get_data(as_text=True)
    assert page.count('class="chooser-row"') == 100  # 100 per page (seed 003)
    assert "共 150 件" in page
    response = client.post("/admin/bookings/choose/?q=BULK", data={"select_all": "1", "action": "submit"})
    assert response.status_code == 302
    booking = db.session.execute(select(Booking)).scalar_one()
    assert booking.status == "submitted"
    assert len(items_of(booking)) == 150
    assert {i.status for i in items_of(booking)} == {"allocated"}


def test_other_enterprises_instruments_cannot_be_booked(client, login_as, world):
    login_as(world["user"])
    foreign = make_instrument(make_org(), serial_no="FOREIGN")
    client.post(
        "/admin/bookings/choose/",
        data={"instrument_id": [str(foreign.id), str(world["a"].id)], "action": "save"},
    )
    booking = db.session.execute(select(Booking)).scalar_one()
    assert [i.instrument_id for i in items_of(booking)] == [world["a"].id]
    response = client.post(
        "/admin/bookings/choose/",
        data={"instrument_id": [str(foreign.id)], "action": "save"},
        follow_redirects=True,
    )
    assert "请至少选择一件器具" in response.get_data(as_text=True)
    assert db.session.execute(select(func.count(BookingItem.id))).scalar() == 1


def test_stopped_or_already_booked_instruments_are_not_offered(client, login_as, world):
    login_as(world["user"])
    stopped = make_instrument(world["org"], serial_no="STOPPED", status="stopped")
    make_booking(world["org"], [world["a"]])
    page = client.get("/admin/bookings/choose/").get_data(as_text=True)
    assert "STOPPED" not in page and "A-1" not in page and "B-1" in page
    client.post("/admin/bookings/choose/", data={"instrument_id": [str(stopped.id), str(world["a"].id)]})
    assert db.session.execute(select(func.count(BookingItem.id))).scalar() == 1


def test_one_open_booking_per_instrument_is_a_database_invariant(world):
    make_booking(world["org"], [world["a"]])
    with pytest.raises(Exception):  # noqa: B017  (IntegrityError from the partial unique index)
        make_booking(world["org"], [world["a"]])
    db.session.rollback()


def test_draft_can_be_edited_and_deleted_submitted_cannot(client, login_as, world):
    login_as(world["user"])
    draft = make_booking(world["org"], [world["a"], world["b"]], user=world["user"])
    first, second = items_of(draft)
    client.post(f"/admin/bookings/{draft.id}/remove/", data={"item_id": [str(first.id)]})
    assert [i.id for i in items_of(draft)] == [second.id]
    client.post("/admin/bookings/delete/", data={"id": str(draft.id)})
    assert db.session.get(Booking, draft.id) is None
    booking = submitted_booking(world)
    client.post("/admin/bookings/delete/", data={"id": str(booking.id)})
    client.post("/admin/bookings/action/", data={"action": "delete", "rowid": [str(booking.id)]})
    assert fresh(booking) is not None
    client.post(f"/admin/bookings/{booking.id}/remove/", data={"item_id": [str(items_of(booking)[0].id)]})
    assert len(items_of(booking)) == 1


def _delete_forms(page: str) -> set[str]:
    """The ids of the rows whose trash icon (a delete form) the grid shows."""
    return set(re.findall(r'<input id="id" name="id" type="hidden" value="(\d+)"', page))


def test_trash_icon_only_on_rows_that_may_be_deleted(client, login_as, world):
    draft = make_booking(world["org"], [world["b"]], user=world["user"])
    submitted = submitted_booking(world)
    login_as(world["user"])
    page = client.get("/admin/bookings/").get_data(as_text=True)
    assert _delete_forms(page) == {str(draft.id)}
    (item,) = items_of(submitted)
    workflows.transition(item, "accept", world["inst_user"])
    db.session.commit()
    assert fresh(submitted).status == "answered"
    page = client.get("/admin/bookings/").get_data(as_text=True)
    assert _delete_forms(page) == {str(draft.id)}


def test_result_button_only_on_items_awaiting_a_result(client, login_as, world):
    booking = submitted_booking(world, [world["a"], world["b"]])
    item_a, item_b = items_of(booking)
    for item in (item_a, item_b):
        workflows.transition(item, "accept", world["inst_user"])
    workflows.transition(
        item_b,
        "record_result",
        world["inst_user"],
        result="qualified",
        certificate_no="JD-1",
        verified_on=workdays.today(),
        valid_until=workdays.today() + timedelta(days=365),
    )
    db.session.commit()
    login_as(world["inst_user"])
    page = client.get("/admin/verification_results/").get_data(as_text=True)
    assert f"/admin/verification_results/result/?id={item_a.id}" in page
    assert f"/admin/verification_results/result/?id={item_b.id}" not in page


def test_empty_draft_cannot_be_submitted(client, login_as, world):
    login_as(world["user"])
    draft = make_booking(world["org"], [], user=world["user"])
    response = client.post(f"/admin/bookings/transition/{draft.id}/submit", data={}, follow_redirects=True)
    assert "请先选择要预约的器具" in response.get_data(as_text=True)
    assert fresh(draft).status == "draft"


# ---- allocation -----------------------------------------------------------------------------


def test_most_specific_division_wins(world):
    city, _u = make_metrology("610100", name="西安市计量院")
    county, _u2 = make_metrology("610113", name="雁塔区计量所")
    authorise(city, kind("0101"), "610100")
    authorise(county, kind("0101"), "610113")
    baoji = make_instrument(world["org"], serial_no="BAOJI", usage_division_code="610302")
    xian_other = make_instrument(world["org"], serial_no="LIANHU", usage_division_code="610104")
    booking = submitted_booking(world, [world["a"], baoji, xian_other])
    allocated = {i.instrument.serial_no: i.institution.name for i in items_of(booking)}
    assert allocated == {"A-1": "雁塔区计量所", "BAOJI": "陕西省计量科学研究院", "LIANHU": "西安市计量院"}


def test_kind_must_be_covered_and_institution_approved(world):
    other_kind = make_instrument(world["org"], serial_no="KIND2", kind_id=kind("0102").id)
    pending_org, _u = make_metrology("610113", name="未审核机构", status="pending")
    authorise(pending_org, kind("0101"), "610113")
    booking = submitted_booking(world, [world["a"], other_kind])
    by_serial = {i.instrument.serial_no: i for i in items_of(booking)}
    assert by_serial["A-1"].institution_id == world["institution"].id
    assert by_serial["KIND2"].status == "pending" and by_serial["KIND2"].institution_id is None


def test_equal_institutions_share_the_load(world):
    twin, _u = make_metrology("610000", name="第二家省级机构")
    authorise(twin, kind("0101"), "610000")
    instruments = [make_instrument(world["org"], serial_no=f"L{i}") for i in range(4)]
    booking = submitted_booking(world, instruments)
    counts = {}
    for item in items_of(booking):
        counts[item.institution_id] = counts.get(item.institution_id, 0) + 1
    assert sorted(counts.values()) == [2, 2]


def test_unallocated_items_are_retried_when_authorisations_change(client, login_as, world):
    orphan = make_instrument(world["org"], serial_no="KIND2", kind_id=kind("0102").id)
    booking = submitted_booking(world, [orphan])
    (item,) = items_of(booking)
    assert item.status == "pending"
    login_as("admin")
    response = client.post(
        "/admin/authorizations/new/",
        data={
            "institution_id": str(world["institution"].id),
            "kind_ids": [str(kind("0102").id)],
            "division_code-1": "610000",
        },
    )
    assert response.status_code == 302, flashes(response)
    item = fresh(item)
    assert (item.status, item.institution_id) == ("allocated", world["institution"].id)
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "allocate")).scalar().username


def test_unallocated_items_cannot_be_cancelled(client, login_as, world):
    orphan = make_instrument(world["org"], serial_no="KIND2", kind_id=kind("0102").id)
    booking = submitted_booking(world, [orphan, world["a"]])
    pending, allocated = sorted(items_of(booking), key=lambda i: i.status != "pending")
    login_as(world["user"])
    response = client.post(
        f"/admin/bookings/{booking.id}/cancel/", data={"item_id": [str(pending.id)]}, follow_redirects=True
    )
    assert "不能执行“取消预约”" in response.get_data(as_text=True)
    client.post(f"/admin/bookings/{booking.id}/cancel/", data={"item_id": [str(allocated.id)]})
    assert fresh(pending).status == "pending" and fresh(allocated).status == "cancelled"
    # The cancelled instrument can be booked again.
    assert "A-1" in client.get("/admin/bookings/choose/").get_data(as_text=True)


# ---- the institution ------------------------------------------------------------------------


def test_full_lifecycle_accept_and_result_updates_the_ledger(client, login_as, world):
    booking = submitted_booking(world, [world["a"], world["b"]])
    item_a, item_b = items_of(booking)
    login_as(world["inst_user"])
    page = client.get("/admin/booking_acceptance/").get_data(as_text=True)
    assert "A-1" in page and "B-1" in page
    client.post(
        "/admin/booking_acceptance/action/",
        data={"action": "wf_accept", "rowid": [str(item_a.id), str(item_b.id)]},
    )
    assert fresh(item_a).status == "accepted" and fresh(item_b).status == "accepted"
    assert fresh(booking).status == "answered"  # every allocated item answered → 已反馈
    verified_on = workdays.today()
    new_valid = verified_on + timedelta(days=365)
    response = client.post(
        f"/admin/verification_results/result/?id={item_a.id}",
        data={
            "result": "qualified",
            "certificate_no": "SX-2026-0001",
            "verified_on": verified_on.isoformat(),
            "valid_until": new_valid.isoformat(),
        },
    )
    assert response.status_code == 302, flashes(response)
    item_a = fresh(item_a)
    assert (item_a.status, item_a.result, item_a.certificate_no) == ("verified", "qualified", "SX-2026-0001")
    assert fresh(world["a"]).valid_until == new_valid
    # The enterprise sees the result in the receipt and the new date in its ledger.
    client.post("/logout")
    login_as(world["user"])
    details = client.get(f"/admin/bookings/details/?id={booking.id}").get_data(as_text=True)
    assert "已检定" in details and "SX-2026-0001" in details
    assert new_valid.isoformat() in client.get("/admin/instruments/").get_data(as_text=True)
    notices = db.session.execute(
        select(Notification.title).where(Notification.user_id == world["user"].id)
    ).scalars()
    assert any("检定结论：合格" in t for t in notices)


def test_result_is_validated(client, login_as, world):
    booking = submitted_booking(world)
    (item,) = items_of(booking)
    workflows.transition(item, "accept", world["inst_user"])
    db.session.commit()
    login_as(world["inst_user"])
    today = workdays.today()
    for data, message in (
        (
            {"result": "qualified", "certificate_no": "C1", "verified_on": today.isoformat()},
            "必须填写新的有效期至",
        ),
        (
            {
                "result": "qualified",
                "certificate_no": "C1",
                "verified_on": (today + timedelta(days=2)).isoformat(),
                "valid_until": (today + timedelta(days=300)).isoformat(),
            },
            "检定日期不能晚于今天",
        ),
        (
            {
                "result": "qualified",
                "certificate_no": "C1",
                "verified_on": today.isoformat(),
                "valid_until": today.isoformat(),
            },
            "有效期至必须晚于检定日期",
        ),
    ):
        response = client.post(f"/admin/verification_results/result/?id={item.id}", data=data)
        assert message in response.get_data(as_text=True)
    assert fresh(item).status == "accepted"
    # 不合格 needs no new date and leaves the ledger's date alone.
    before = fresh(world["a"]).valid_until
    client.post(
        f"/admin/verification_results/result/?id={item.id}",
        data={"result": "unqualified", "certificate_no": "N1", "verified_on": today.isoformat()},
    )
    assert fresh(item).status == "verified" and fresh(world["a"]).valid_until == before


def test_return_with_reason_in_bulk_and_one_by_one(client, login_as, world):
    booking = submitted_booking(world, [world["a"], world["b"]])
    item_a, item_b = items_of(booking)
    login_as(world["inst_user"])
    client.post("/admin/booking_acceptance/action/", data={"action": "wf_return", "rowid": [str(item_a.id)]})
    assert fresh(item_a).status == "allocated"  # no reason, nothing happens
    client.post(
        "/admin/booking_acceptance/action/",
        data={"action": "wf_return", "rowid": [str(item_a.id)], "comment": "该器具不在本机构检定能力范围内"},
    )
    assert fresh(item_a).status == "returned"
    assert fresh(item_a).return_reason == "该器具不在本机构检定能力范围内"
    response = client.post(f"/admin/booking_acceptance/transition/{item_b.id}/return", data={"comment": ""})
    assert fresh(item_b).status == "allocated"
    client.post(f"/admin/booking_acceptance/transition/{item_b.id}/return", data={"comment": "仪表损坏"})
    assert fresh(item_b).status == "returned"
    assert fresh(booking).status == "answered"
    assert response.status_code == 302
    # A returned instrument is free to be booked again.
    client.post("/logout")
    login_as(world["user"])
    assert "A-1" in client.get("/admin/bookings/choose/").get_data(as_text=True)


def test_new_allocation_reopens_an_answered_booking(world):
    orphan = make_instrument(world["org"], serial_no="KIND2", kind_id=kind("0102").id)
    booking = submitted_booking(world, [world["a"], orphan])
    item_a = next(i for i in items_of(booking) if i.instrument_id == world["a"].id)
    workflows.transition(item_a, "accept", world["inst_user"])
    db.session.commit()
    assert fresh(booking).status == "answered"
    authorise(world["institution"], kind("0102"), "610000")
    assert instrument_workflows.retry_unallocated(world["user"]) == 1
    db.session.commit()
    assert fresh(booking).status == "submitted"


def test_institution_sees_only_its_own_items(client, login_as, world):
    other_inst, _other_user = make_metrology("610000", name="别的机构")
    mine = items_of(submitted_booking(world))[0]
    theirs_org = make_org(division_code="610113")
    foreign = make_instrument(theirs_org, serial_no="THEIRS")
    foreign_booking = make_booking(theirs_org, [foreign])
    authorise(other_inst, kind("0101"), "610113")  # more specific than ours: theirs goes there
    workflows.transition(foreign_booking, "submit", make_user("enterprise", org=theirs_org))
    db.session.commit()
    theirs = items_of(foreign_booking)[0]
    assert theirs.institution_id == other_inst.id
    login_as(world["inst_user"])
    page = client.get("/admin/booking_acceptance/").get_data(as_text=True)
    assert "A-1" in page and "THEIRS" not in page
    assert client.get(f"/admin/booking_acceptance/details/?id={theirs.id}").status_code == 404
    assert client.get(f"/admin/verification_results/result/?id={theirs.id}").status_code == 404
    assert client.post(f"/admin/booking_acceptance/transition/{theirs.id}/accept", data={}).status_code == 404
    client.post("/admin/booking_acceptance/action/", data={"action": "wf_accept", "rowid": [str(theirs.id)]})
    client.post(
        "/admin/booking_acceptance/action/",
        data={"action": "wf_return", "rowid": [str(theirs.id)], "comment": "x"},
    )
    assert fresh(theirs).status == "allocated"
    export = client.get("/admin/booking_acceptance/export/xlsx/")
    cells = [
        str(v)
        for r in openpyxl.load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True)
        for v in r
    ]
    assert "A-1" in cells and "THEIRS" not in cells
    # Nor the enterprise grids, nor the ledger.
    assert client.get("/admin/bookings/").status_code == 403
    assert client.get(f"/admin/instruments/details/?id={foreign.id}").status_code == 403
    assert mine.status == "allocated"


def test_enterprise_cannot_touch_another_enterprises_booking(client, login_as, world):
    booking = submitted_booking(world)
    (item,) = items_of(booking)
    login_as("enterprise")
    assert "YYTEST" not in client.get("/admin/bookings/").get_data(as_text=True)
    assert client.get(f"/admin/bookings/details/?id={booking.id}").status_code == 404
    assert (
        client.post(f"/admin/bookings/{booking.id}/cancel/", data={"item_id": [str(item.id)]}).status_code
        == 404
    )
    assert (
        client.post(f"/admin/bookings/{booking.id}/remove/", data={"item_id": [str(item.id)]}).status_code
        == 404
    )
    assert client.post(f"/admin/bookings/transition/{booking.id}/submit", data={}).status_code == 404
    client.post("/admin/bookings/action/", data={"action": "delete", "rowid": [str(booking.id)]})
    export = client.get("/admin/bookings/export/xlsx/")
    assert booking.number not in export.get_data(as_text=False).decode("latin-1")
    assert fresh(item).status == "allocated" and fresh(booking) is not None
    # Enterprises do not reach the institution's grids.
    assert client.get("/admin/booking_acceptance/").status_code == 403


def test_linked_person_books_for_the_enterprise(client, login_as, world):
    person = make_user("person")
    link_person(person, world["org"])
    login_as(person)
    client.post("/admin/bookings/choose/", data={"instrument_id": [str(world["a"].id)], "action": "submit"})
    booking = db.session.execute(select(Booking)).scalar_one()
    assert booking.organization_id == world["org"].id and booking.status == "submitted"
    (item,) = items_of(booking)
    client.post(f"/admin/bookings/{booking.id}/cancel/", data={"item_id": [str(item.id)]})
    assert fresh(item).status == "cancelled"


def test_cancelling_the_only_allocated_item_does_not_make_the_booking_answered(client, login_as, world):
    """已反馈 means every allocated item has its institution's answer: the enterprise's own
    cancellation is no answer."""
    booking = submitted_booking(world)
    (item,) = items_of(booking)
    login_as(world["user"])
    client.post(f"/admin/bookings/{booking.id}/cancel/", data={"item_id": [str(item.id)]})
    assert fresh(item).status == "cancelled"
    assert fresh(booking).status == "submitted"


def test_booking_answered_once_the_last_allocated_item_is_cancelled_after_an_answer(world):
    booking = submitted_booking(world, [world["a"], world["b"]])
    item_a, item_b = items_of(booking)
    workflows.transition(item_a, "accept", world["inst_user"])
    db.session.commit()
    assert fresh(booking).status == "submitted"  # item b still waits for its institution
    workflows.transition(fresh(item_b), "cancel", world["user"])
    db.session.commit()
    assert fresh(booking).status == "answered"


def test_accepted_item_can_no_longer_be_cancelled(client, login_as, world):
    booking = submitted_booking(world)
    (item,) = items_of(booking)
    workflows.transition(item, "accept", world["inst_user"])
    db.session.commit()
    login_as(world["user"])
    client.post(f"/admin/bookings/{booking.id}/cancel/", data={"item_id": [str(item.id)]})
    assert fresh(item).status == "accepted"


# ---- reviewers ------------------------------------------------------------------------------


def test_provincial_reviewer_reads_its_province_only(client, login_as, world):
    today = workdays.today()
    make_instrument(world["org"], serial_no="SN-OVERDUE", valid_until=today - timedelta(days=3))
    beijing = make_org(division_code="110101")
    make_instrument(beijing, serial_no="BJ-1", usage_division_code="110101")
    booking = submitted_booking(world)
    reviewer = make_reviewer("provincial", "610000")
    login_as(reviewer)
    page = client.get("/admin/instrument_supervision/").get_data(as_text=True)
    assert "SN-OVERDUE" in page and "BJ-1" not in page
    overdue = client.get("/admin/instrument_supervision/?flt0_4=overdue").get_data(as_text=True)
    assert "SN-OVERDUE" in overdue and "A-1" not in overdue
    # The old 强检器具监管 → 统计 address leads to the one statistics page (统计分析 → 强检器具).
    moved = client.get("/admin/instrument_stats/")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/admin/statistics/instruments/")
    stats = client.get("/admin/statistics/instruments/").get_data(as_text=True)
    assert "西安市" in stats and "北京" not in stats
    assert client.get("/admin/booking_supervision/").get_data(as_text=True).count(booking.number) >= 1
    assert client.get(f"/admin/booking_supervision/details/?id={booking.id}").status_code == 200
    # Read-only: no edits, no actions, no booking doors.
    inst = world["a"]
    assert client.get(f"/admin/instrument_supervision/edit/?id={inst.id}").status_code in (302, 403, 404)
    client.post("/admin/instrument_supervision/action/", data={"action": "wf_scrap", "rowid": [str(inst.id)]})
    assert fresh(inst).status == "in_use"
    assert client.post(f"/admin/booking_supervision/{booking.id}/cancel/", data={}).status_code == 403
    export = client.get("/admin/instrument_supervision/export/xlsx/")
    cells = [
        str(v)
        for r in openpyxl.load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True)
        for v in r
    ]
    assert "SN-OVERDUE" in cells and "BJ-1" not in cells
    assert client.get("/admin/instrument_stats/export/", follow_redirects=True).status_code == 200
    # Another province's reviewer sees nothing of it.
    client.post("/logout")
    login_as(make_reviewer("provincial", "110000"))
    assert client.get(f"/admin/booking_supervision/details/?id={booking.id}").status_code == 404
    assert "SN-OVERDUE" not in client.get("/admin/instrument_supervision/").get_data(as_text=True)


def test_national_reviewer_sees_every_province(client, login_as, world):
    make_instrument(make_org(division_code="110101"), serial_no="BJ-1", usage_division_code="110101")
    login_as(make_reviewer("national", "110000"))
    page = client.get("/admin/instrument_supervision/").get_data(as_text=True)
    assert "BJ-1" in page and "A-1" in page
    stats = client.get("/admin/instrument_stats/", follow_redirects=True).get_data(as_text=True)
    assert "北京市" in stats and "陕西省" in stats


def test_reviewer_authorises_within_its_province_only(client, login_as, world):
    login_as(make_reviewer("provincial", "610000"))
    base = {"institution_id": str(world["institution"].id), "kind_ids": [str(kind("0102").id)]}
    client.post("/admin/authorizations/new/", data={**base, "division_code-1": "110000"})
    assert db.session.execute(select(func.count(MetrologyAuthorization.id))).scalar() == 1
    client.post(
        "/admin/authorizations/new/", data={**base, "division_code-1": "610000", "division_code-2": "610300"}
    )
    assert (
        db.session.execute(
            select(MetrologyAuthorization.division_code).where(
                MetrologyAuthorization.kind_id == kind("0102").id
            )
        ).scalar_one()
        == "610300"
    )


def test_institution_reads_its_scope_but_cannot_change_it(client, login_as, world):
    login_as(world["inst_user"])
    page = client.get("/admin/my_authorizations/").get_data(as_text=True)
    assert "指示类压力表" in page
    assert client.get("/admin/authorizations/").status_code == 403
    response = client.post(
        "/admin/authorizations/new/",
        data={
            "institution_id": str(world["institution"].id),
            "kind_ids": [str(kind("0102").id)],
            "division_code-1": "610000",
        },
    )
    assert response.status_code == 403
    assert client.post("/admin/my_authorizations/new/", data={}).status_code in (302, 403)
    assert db.session.execute(select(func.count(MetrologyAuthorization.id))).scalar() == 1


def test_instruments_valid_until_only_moves_by_a_result(world):
    """有效期至 is immutable for the enterprise through every door: the workflow owns it."""
    inst = world["a"]
    original = inst.valid_until
    for action in ("stop", "enable"):
        workflows.transition(inst, action, world["user"])
    db.session.commit()
    assert fresh(inst).valid_until == original
    assert isinstance(original, date)


def test_follow_ups_are_audited_after_their_parent(world):
    """submit → allocate (after hook) → feedback (after hook of the last answer): parent first."""
    booking = submitted_booking(world)
    (item,) = items_of(booking)
    workflows.transition(item, "accept", world["inst_user"])
    db.session.commit()
    actions = db.session.execute(
        select(AuditEvent.action).where(AuditEvent.event == "transition").order_by(AuditEvent.id)
    ).scalars()
    assert list(actions) == ["submit", "allocate", "accept", "feedback"]
