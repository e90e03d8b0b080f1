"""The generic bulk handler (admin_views/base.py) on the 预约受理 grid: a transition that asks
for a reason shows a confirmation form first, rows changed meanwhile are refused by version,
and ids outside the actor's scope are refused and audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ecqs import workflows
from ecqs.extensions import db
from ecqs.models import AuditEvent, BookingItem
from tests.conftest import flashes, make_org, make_user
from tests.instruments.fixtures import authorise, kind, make_booking, make_instrument, make_metrology

pytestmark = pytest.mark.usefixtures("instrument_kinds")


@pytest.fixture
def allocated():
    org = make_org(division_code="610113")
    user = make_user("enterprise", org=org)
    institution, inst_user = make_metrology("610000", name="陕西省计量科学研究院")
    authorise(institution, kind("0101"), "610000")
    instruments = [make_instrument(org, serial_no=f"BULK-{i}") for i in range(2)]
    booking = make_booking(org, instruments, user=user)
    workflows.transition(booking, "submit", user)
    db.session.commit()
    return list(booking.items), inst_user


def status(item):
    db.session.expire_all()
    return db.session.get(BookingItem, item.id).status


def test_a_transition_asking_for_a_reason_shows_its_form_then_acts(client, login_as, allocated):
    items, inst_user = allocated
    login_as(inst_user)
    ids = [str(i.id) for i in items]
    page = client.post("/admin/booking_acceptance/action/", data={"action": "wf_return", "rowid": ids})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="bulk-form"' in html and "BULK-0" in html
    assert f'name="version_{items[0].id}"' in html
    assert {status(i) for i in items} == {"allocated"}
    data = {"action": "wf_return", "rowid": ids, "bulk_confirmed": "1", "comment": "超出检定能力"}
    data.update({f"version_{i.id}": str(i.version) for i in items})
    response = client.post("/admin/booking_acceptance/action/", data=data, follow_redirects=True)
    assert "已退回 2 件器具" in flashes(response)
    assert {status(i) for i in items} == {"returned"}


def test_the_form_refuses_a_row_changed_since_it_was_shown(client, login_as, allocated):
    items, inst_user = allocated
    login_as(inst_user)
    shown = {f"version_{i.id}": str(i.version) for i in items}
    workflows.transition(items[0], "accept", inst_user)  # someone else, meanwhile
    db.session.commit()
    data = {"action": "wf_return", "rowid": [str(i.id) for i in items], "bulk_confirmed": "1"}
    data.update(shown, comment="超出检定能力")
    response = client.post("/admin/booking_acceptance/action/", data=data, follow_redirects=True)
    assert "已被他人处理" in flashes(response)
    assert status(items[0]) == "accepted"


def test_ids_out_of_scope_are_refused_and_audited(client, login_as, allocated):
    items, _inst_user = allocated
    _other, other_user = make_metrology("610000", name="另一家机构")
    login_as(other_user)
    data = {"action": "wf_accept", "rowid": [str(i.id) for i in items]}
    response = client.post("/admin/booking_acceptance/action/", data=data, follow_redirects=True)
    assert "无权操作" in flashes(response)
    assert {status(i) for i in items} == {"allocated"}
    assert db.session.execute(
        select(AuditEvent).where(AuditEvent.event == "access_denied", AuditEvent.comment.like("bulk accept%"))
    ).first()
