"""M4 part 2: published registrations and their deregistration 注册证书注销申请 (seed 004 §3.3.4):
record_registration's refusals, the two state tables over every state × action × role, the
happy path (select → print → upload scan + courier number → staff approve → 已注销, counts
update) and every bad input refused in Chinese with nothing changed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from ecqs import workflows
from ecqs.extensions import db
from ecqs.models import PractitionerDeregistration, PractitionerRegistration
from ecqs.registry import home, registrations
from ecqs.registry.operations import RegistryError
from ecqs.services import workdays
from tests.conftest import make_user
from tests.registry.fixtures import add_branch, png, project, register_person

ROLES = ("person", "enterprise", "metrology", "assessor", "unit", "reviewer", "association", "admin")


def _count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def _file(unit, *regs, reason="离职"):
    row = registrations.file_deregistration(unit.admin, {r.id: reason for r in regs})
    db.session.commit()
    return row


def _submit(row, unit):
    workflows.transition(row, "submit", unit.admin, scan=png(), courier_number="SF1234567890")
    db.session.commit()


def test_record_registration_refusals(unit, other_unit):
    reg = register_person(unit.org, codes=("RT-II", "UT-II"))
    assert reg.status == "registered" and reg.number.startswith("ZS")
    assert [i.project_code for i in reg.items] == ["RT-II", "UT-II"]
    today = date.today()
    # One unit per person.
    with pytest.raises(RegistryError, match="已在“广东华胜检验有限公司”注册"):
        registrations.record_registration(
            reg.person, other_unit.org, [(project(), "II")], today, today + timedelta(1)
        )
    person = make_user("person")
    with pytest.raises(RegistryError, match="有效期应晚于注册日期"):
        registrations.record_registration(person, unit.org, [(project(), "II")], today, today)
    with pytest.raises(RegistryError, match="请至少选择一个注册项目"):
        registrations.record_registration(person, unit.org, [], today, today + timedelta(1))
    with pytest.raises(RegistryError, match="同一项目只能注册一个级别"):
        registrations.record_registration(
            person, unit.org, [(project(), "II"), (project(), "III")], today, today + timedelta(1)
        )
    db.session.rollback()
    assert _count(PractitionerRegistration) == 1


def test_registration_table_every_state_action_role(unit):
    """No user may deregister a registration directly: only the engine, for an approved request."""
    reg = register_person(unit.org)
    for role in ROLES:
        actor = unit.admin if role == "unit" else make_user(role)
        assert workflows.can(reg, "deregister", actor) is False, role
    system = workflows.SystemActor(make_user("association"))
    assert workflows.can(reg, "deregister", system)
    reg.status = "deregistered"  # probing the table only: the state a real row reaches
    assert workflows.can(reg, "deregister", system) is False
    db.session.rollback()


def test_deregistration_table_every_state_action_role(unit, other_unit):
    allowed = {
        ("draft", "submit"): {"unit"},
        ("submitted", "approve"): {"association", "admin"},
        ("submitted", "reject"): {"association", "admin"},
    }
    reg = register_person(unit.org)
    row = _file(unit, reg)
    actors = {role: unit.admin if role == "unit" else make_user(role) for role in ROLES}
    for state in ("draft", "submitted", "approved", "rejected"):
        row.status = state  # probing the table only
        for action in ("submit", "approve", "reject"):
            for role, actor in actors.items():
                expected = role in allowed.get((state, action), set())
                assert workflows.can(row, action, actor) is expected, (state, action, role)
        # Another unit is never a party.
        assert workflows.can(row, "submit", other_unit.admin) is False
    db.session.rollback()


def test_deregistration_happy_path_counts_update(unit, casei):
    branch = add_branch(unit, "宝鸡分院")
    a = register_person(unit.org, real_name="张振")
    b = register_person(branch, real_name="盛凌")  # a branch's practitioner counts under the unit
    register_person(unit.org, real_name="石登山")
    assert home.unit_home(unit.admin)["publicised"] == 3
    row = registrations.file_deregistration(
        unit.admin, {a.id: "离职", b.id: "调离本单位"}, "唐建", "0318-5708007"
    )
    db.session.commit()
    assert row.status == "draft" and row.number.startswith("D") and row.people_count == 2
    # A person already in an open request cannot be named again.
    with pytest.raises(RegistryError, match="张振 已在其他注销申请中"):
        registrations.file_deregistration(unit.admin, {a.id: "离职"})
    db.session.rollback()
    _submit(row, unit)
    assert row.status == "submitted" and row.courier_number == "SF1234567890" and row.scan_upload
    workflows.transition(row, "approve", casei)
    db.session.commit()
    assert row.status == "approved" and row.decided_at
    db.session.refresh(a)
    db.session.refresh(b)
    assert (a.status, b.status) == ("deregistered", "deregistered")
    # China's date, as the workflow records it (the machine's date differs from 16:00 UTC on).
    assert a.deregistration_reason == "离职" and a.deregistered_on == workdays.today()
    assert home.unit_home(unit.admin)["publicised"] == 1
    assert registrations.counts_by_status(unit.org.id) == {"registered": 1, "deregistered": 2}
    items = registrations.counts_by_item(unit.org.id)
    assert items == [("RT-II", project().name, "II", 1, 2)]
    # Twice: an approved deregistration cannot be requested again.
    with pytest.raises(RegistryError, match="张振 已注销，不能重复注销"):
        registrations.file_deregistration(unit.admin, {a.id: "离职"})
    db.session.rollback()


def test_reject_keeps_registrations_and_frees_them(unit, casei):
    a = register_person(unit.org, real_name="张振")
    row = _file(unit, a)
    _submit(row, unit)
    with pytest.raises(workflows.CommentRequired):
        workflows.transition(row, "reject", casei)
    db.session.rollback()
    workflows.transition(row, "reject", casei, comment="申请表未盖章")
    db.session.commit()
    assert row.status == "rejected" and row.reject_reason == "申请表未盖章"
    assert a.status == "registered"
    again = _file(unit, a)  # a rejected request no longer holds the person
    assert again.status == "draft"


def test_bad_inputs_change_nothing(unit, other_unit):
    mine = register_person(unit.org, real_name="张振")
    theirs = register_person(other_unit.org, real_name="李四")
    before = _count(PractitionerDeregistration)
    cases = [
        (unit.admin, {theirs.id: "离职"}, "该人员未在本单位注册"),
        (unit.admin, {999999: "离职"}, "该人员未在本单位注册"),
        (unit.admin, {}, "请选择要注销的注册人员"),
        (unit.admin, {"abc": "x"}, "请选择要注销的注册人员"),
        (unit.admin, {mine.id: "  "}, "请填写 张振 的注销原因"),
        (unit.admin, {mine.id: "长" * 201}, "注销原因不能超过 200 个字"),
        (make_user("person"), {mine.id: "离职"}, "只有已通过审核的执业单位可以办理此业务"),
    ]
    for actor, reasons, message in cases:
        with pytest.raises(RegistryError, match=message):
            registrations.file_deregistration(actor, reasons)
        db.session.rollback()
    assert _count(PractitionerDeregistration) == before
    # Upload: a courier number and a scan are required; not an image or PDF is refused.
    row = _file(unit, mine)
    for data, message in (
        ({"scan": png(), "courier_number": ""}, "请填写快递单号"),
        ({"scan": png(), "courier_number": "12"}, "快递单号应为 6 至 40 位字母或数字"),
        ({"scan": None, "courier_number": "SF1234567890"}, "请上传盖章申请表扫描件"),
    ):
        with pytest.raises(workflows.GuardFailed, match=message):
            workflows.transition(row, "submit", unit.admin, **data)
        db.session.rollback()
    from tests.registry.fixtures import not_an_image

    with pytest.raises(workflows.GuardFailed):
        workflows.transition(row, "submit", unit.admin, scan=not_an_image(), courier_number="SF1234567890")
    db.session.rollback()
    db.session.refresh(row)
    assert row.status == "draft" and row.scan_upload_id is None and row.courier_number is None
    # Another unit cannot submit it.
    with pytest.raises(workflows.NotPermitted):
        workflows.transition(row, "submit", other_unit.admin, scan=png(), courier_number="SF1234567890")
    db.session.rollback()


def test_approval_refused_when_person_left_meanwhile(unit, casei):
    """The guard re-checks at approval: a person no longer registered here stops the approval."""
    a = register_person(unit.org, real_name="张振")
    row = _file(unit, a)
    _submit(row, unit)
    a.organization_id = make_user("unit").organization_id  # moved by a merge/split meanwhile
    db.session.commit()
    with pytest.raises(workflows.GuardFailed, match="该人员未在本单位注册"):
        workflows.transition(row, "approve", casei)
    db.session.rollback()
    assert row.status == "submitted"


def test_merge_keeps_registrations_and_open_deregistrations(unit, other_unit, casei):
    """单位合并: the absorbed unit's people count under the survivor, and its pending 注销申请
    goes on as the survivor's and can still be approved."""
    from tests.registry.fixtures import file_change

    theirs = register_person(other_unit.org, real_name="被合并单位人员")
    register_person(unit.org)
    pending = _file(other_unit, theirs)
    _submit(pending, other_unit)
    row = file_change(unit.admin, "merge", partner_uscc=other_unit.org.uscc)
    workflows.transition(row, "approve", casei)
    db.session.commit()
    assert home.unit_home(unit.admin)["publicised"] == 2
    assert pending.organization_id == unit.org.id
    workflows.transition(pending, "approve", casei)
    db.session.commit()
    assert theirs.status == "deregistered"
    assert home.unit_home(unit.admin)["publicised"] == 1
