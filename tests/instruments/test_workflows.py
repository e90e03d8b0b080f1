"""The M1 workflow tables over every state × action × role: the expected table is written out
here independently of ecqs/workflows.py, so a change to either shows up."""

from __future__ import annotations

import itertools

import pytest

from ecqs import workflows
from ecqs.instruments import workflows as instrument_workflows
from ecqs.models import (
    BOOKING_ITEM_STATUS_LABELS,
    BOOKING_STATUS_LABELS,
    INSTRUMENT_STATUS_LABELS,
    Booking,
    BookingItem,
    Instrument,
)
from tests.conftest import make_org, make_user
from tests.instruments.fixtures import link_person, make_metrology, make_reviewer

pytestmark = pytest.mark.usefixtures("instrument_kinds")

ROLES = (
    "person",
    "enterprise",
    "metrology",
    "assessor",
    "unit",
    "reviewer",
    "association",
    "admin",
    "system",
)
LEDGER = {"person", "enterprise"}

INSTRUMENT_TABLE = {
    ("in_use", "stop"): LEDGER,
    ("stopped", "enable"): LEDGER,
    ("in_use", "scrap"): LEDGER,
    ("stopped", "scrap"): LEDGER,
}
BOOKING_TABLE = {
    ("draft", "submit"): LEDGER,
    ("submitted", "feedback"): {"system"},
    ("answered", "reopen"): {"system"},
}
ITEM_TABLE = {
    ("pending", "allocate"): {"system"},
    ("allocated", "accept"): {"metrology"},
    ("allocated", "return"): {"metrology"},
    ("accepted", "return"): {"metrology"},
    ("accepted", "record_result"): {"metrology"},
    ("allocated", "cancel"): LEDGER,
}


@pytest.fixture
def actors():
    """One party of each role (the enterprise's users, the allocated institution) plus outsiders."""
    org = make_org()
    enterprise = make_user("enterprise", org=org)
    person = make_user("person")
    link_person(person, org)
    institution, metrology = make_metrology()
    users = {
        "person": person,
        "enterprise": enterprise,
        "metrology": metrology,
        "assessor": make_user("assessor"),
        "unit": make_user("unit"),
        "reviewer": make_reviewer(),
        "association": make_user("association"),
        "admin": make_user("admin"),
    }
    users["system"] = workflows.SystemActor(enterprise)
    outsiders = {
        "person": make_user("person"),
        "enterprise": make_user("enterprise"),
        "metrology": make_metrology()[1],
    }
    return {"org": org, "institution": institution, "users": users, "outsiders": outsiders}


def _record(model, state, actors):
    org = actors["org"]
    if model is Instrument:
        return Instrument(organization_id=org.id, status=state)
    booking = Booking(organization_id=org.id, status="submitted")
    if model is Booking:
        booking.status = state
        return booking
    item = BookingItem(status=state, institution_id=None if state == "pending" else actors["institution"].id)
    item.booking = booking
    return item


CASES = [
    (Instrument, INSTRUMENT_STATUS_LABELS, INSTRUMENT_TABLE),
    (Booking, BOOKING_STATUS_LABELS, BOOKING_TABLE),
    (BookingItem, BOOKING_ITEM_STATUS_LABELS, ITEM_TABLE),
]


def test_the_code_declares_exactly_the_expected_transitions():
    for model, _labels, table in CASES:
        wf = workflows.workflow_for(model)
        declared = {
            (source, t.action, role) for t in wf.transitions for source in t.sources for role in t.roles
        }
        expected = {(state, action, role) for (state, action), roles in table.items() for role in roles}
        assert declared == expected, model.__name__


@pytest.mark.parametrize(("model", "labels", "table"), CASES, ids=["instrument", "booking", "booking_item"])
def test_every_state_action_role(actors, model, labels, table):
    wf = workflows.workflow_for(model)
    actions = [t.action for t in wf.transitions]
    for state, action, role in itertools.product(labels, actions, ROLES):
        obj = _record(model, state, actors)
        actor = actors["users"][role]
        allowed = role in table.get((state, action), set())
        assert workflows.can(obj, action, actor) is allowed, (model.__name__, state, action, role)
        if not allowed:
            with pytest.raises(workflows.WorkflowError):
                workflows.check(obj, action, actor)
        elif role in actors["outsiders"]:
            # The same role without being a party (another enterprise, another institution).
            outsider = actors["outsiders"][role]
            with pytest.raises(workflows.NotPermitted):
                workflows.check(obj, action, outsider)


def test_refusals_have_chinese_messages(actors):
    obj = _record(Instrument, "scrapped", actors)
    with pytest.raises(workflows.IllegalState, match="当前状态为“报废”，不能执行“启用”"):
        workflows.check(obj, "enable", actors["users"]["enterprise"])
    with pytest.raises(workflows.NotPermitted, match="您无权执行“受理”"):
        workflows.check(_record(BookingItem, "allocated", actors), "accept", actors["users"]["enterprise"])
    with pytest.raises(workflows.StaleTransition):
        workflows.check(
            _record(Booking, "draft", actors), "submit", actors["users"]["enterprise"], "submitted"
        )


def test_system_transitions_are_never_buttons_or_todos(actors):
    for model, _labels, _table in CASES:
        for t in workflows.workflow_for(model).transitions:
            if t.roles == workflows.SYSTEM:
                assert not t.bulk
    ledger_actions = {t.action for t in instrument_workflows.INSTRUMENT_STATUS.transitions}
    assert all(not t.todo for t in instrument_workflows.INSTRUMENT_STATUS.transitions), ledger_actions
    assert not instrument_workflows.BOOKING_ITEM.get("cancel").todo


def test_inbox_lists_drafts_and_allocated_items_not_every_instrument(client, login_as, actors):
    from tests.instruments.fixtures import authorise, kind, make_booking, make_instrument

    enterprise = actors["users"]["enterprise"]
    for i in range(3):
        make_instrument(actors["org"], serial_no=f"INBOX{i}")
    inst = make_instrument(actors["org"], serial_no="BOOKED")
    draft = make_booking(actors["org"], [inst], user=enterprise)
    login_as(enterprise)
    page = client.get("/admin/").get_data(as_text=True)
    assert f"预约单 {draft.number}" in page and "INBOX0" not in page
    authorise(actors["institution"], kind("0101"), "610000")
    workflows.transition(draft, "submit", enterprise)
    from ecqs.extensions import db

    db.session.commit()
    client.post("/logout")
    login_as(actors["users"]["metrology"])
    page = client.get("/admin/").get_data(as_text=True)
    assert "强检器具预约：压力表（BOOKED）" in page and "受理" in page
