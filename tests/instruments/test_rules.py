"""The instruments domain's rules, written once (ecqs/instruments/rules.py) and asked by the
allocation, the allocation guard, the authorisation form and the public page alike."""

from __future__ import annotations

import pytest

from ecqs import workflows
from ecqs.extensions import db
from ecqs.instruments import rules
from ecqs.models import BookingItem
from tests.conftest import make_org, make_user
from tests.instruments.fixtures import authorise, kind, make_booking, make_instrument, make_metrology

pytestmark = pytest.mark.usefixtures("instrument_kinds")


@pytest.fixture
def pending_item():
    """An item of a submitted booking that no institution is authorised for yet."""
    org = make_org(division_code="610113")
    user = make_user("enterprise", org=org)
    instrument = make_instrument(org, serial_no="R-1")
    booking = make_booking(org, [instrument], user=user)
    workflows.transition(booking, "submit", user)
    db.session.commit()
    (item,) = booking.items
    assert item.status == "pending"
    return item, user


def test_allocation_guard_refuses_an_institution_that_is_not_approved(pending_item):
    item, user = pending_item
    unapproved, _u = make_metrology("610000", name="未审核机构", status="pending")
    authorise(unapproved, kind("0101"), "610000")
    with pytest.raises(workflows.GuardFailed):
        workflows.transition(item, "allocate", workflows.SystemActor(user), institution=unapproved)
    db.session.rollback()
    assert db.session.get(BookingItem, item.id).institution_id is None


def test_allocation_guard_refuses_an_institution_not_authorised_for_the_kind(pending_item):
    item, user = pending_item
    other, _u = make_metrology("610000", name="只检 0102 的机构")
    authorise(other, kind("0102"), "610000")
    with pytest.raises(workflows.GuardFailed):
        workflows.transition(item, "allocate", workflows.SystemActor(user), institution=other)


def test_allocation_guard_accepts_an_approved_authorised_institution(pending_item):
    item, user = pending_item
    institution, _u = make_metrology("610100", name="西安市计量院")
    authorise(institution, kind("0101"), "610100")
    workflows.transition(item, "allocate", workflows.SystemActor(user), institution=institution)
    assert (item.status, item.institution_id) == ("allocated", institution.id)


def test_the_rule_in_sql_and_in_python_agree():
    approved, _u = make_metrology("610000", name="已审核")
    pending, _u2 = make_metrology("610000", name="待审核", status="pending")
    enterprise = make_org(name="某企业")
    rows = db.session.execute(
        db.select(type(approved).id).where(rules.approved_institution_condition())
    ).scalars()
    assert set(rows) == {approved.id}
    assert [rules.is_approved_institution(o) for o in (approved, pending, enterprise, None)] == [
        True,
        False,
        False,
        False,
    ]
