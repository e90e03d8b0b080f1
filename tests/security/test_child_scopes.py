"""Finding 4: a provincial reviewer got 404 on another province's instrument, yet read it among
the items of a booking's supervision details, and the grid's item count counted it. Child rows
on a parent's page go through their own scope; this walks every grid, every role and every
details page of the audit world, plus a booking holding instruments of two provinces."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from ecqs import access, workflows
from ecqs.extensions import db
from ecqs.models import Booking, BookingItem, Instrument
from tests.instruments.fixtures import make_booking, make_instrument
from tests.views.fixtures import build_world, log_in, model_views, scoped_ids, xlsx_rows

pytestmark = pytest.mark.usefixtures("instrument_kinds")


@pytest.fixture
def world(app):
    w = build_world()
    # 企业 A (陕西) books a 陕西 instrument together with one it uses in 北京.
    w.inst_sx = make_instrument(w.ent_a, usage_division_code="610113", serial_no="SX-MIXED-0001")
    w.inst_bj = make_instrument(w.ent_a, usage_division_code="110105", serial_no="BJ-ONLY-0001")
    w.mixed = make_booking(w.ent_a, [w.inst_sx, w.inst_bj], user=w.users["enterprise"])
    workflows.transition(w.mixed, "submit", w.users["enterprise"])
    db.session.commit()
    return w


def child_collections():
    """(parent model, relationship) of every one-to-many relationship between scoped models."""
    pairs = []
    for model in access.SCOPES:
        for rel in sa_inspect(model).relationships:
            if rel.uselist and rel.mapper.class_ in access.SCOPES:
                pairs.append((model, rel.key))
    return pairs


def test_booking_items_filtered_for_the_provincial_reviewer(app, world):
    reviewer = world.users["reviewer"]
    assert world.inst_bj.id not in scoped_ids(Instrument, reviewer)
    visible = access.scoped_children(world.mixed, "items", reviewer)
    assert [i.instrument_id for i in visible] == [world.inst_sx.id]
    client = log_in(app, reviewer)
    page = client.get(f"/admin/booking_supervision/details/?id={world.mixed.id}").get_data(as_text=True)
    assert "SX-MIXED-0001" in page and "BJ-ONLY-0001" not in page
    # The grid's item count (here through its export, the same formatter) counts what it shows.
    export = client.get("/admin/booking_supervision/export/xlsx/")
    rows = xlsx_rows(export.get_data())
    column = rows[0].index("器具数量")
    (row,) = [r for r in rows[1:] if world.mixed.number in r]
    assert row[column] == 1, row


def test_no_out_of_scope_child_on_any_parent_page(app, world):
    """Every role, every grid it may open, every row's details page: no serial number of an
    instrument and no number of a booking outside the user's own scope of those models."""
    assert (Booking, "items") in child_collections()
    problems, pages = [], 0
    users = {**world.users, "bj_reviewer": world.bj_reviewer}
    for name, user in users.items():
        hidden = [
            s
            for (i, s) in db.session.execute(select(Instrument.id, Instrument.serial_no)).all()
            if i not in scoped_ids(Instrument, user)
        ]
        client = log_in(app, user)
        for view in model_views(app):
            if user.role not in view.roles or not view.can_view_details:
                continue
            for row_id in sorted(scoped_ids(view.model, user))[:5]:
                response = client.get(f"{view.url}/details/?id={row_id}")
                if response.status_code != 200:
                    continue
                pages += 1
                page = response.get_data(as_text=True)
                problems += [f"{name} {view.endpoint} {row_id}: {s}" for s in hidden if s and s in page]
    assert pages > 20, pages
    assert not problems, "\n".join(problems)


def test_item_counts_match_the_visible_items(app, world):
    for user in (world.users["reviewer"], world.bj_reviewer, world.users["admin"]):
        for booking in db.session.execute(select(Booking)).scalars():
            if booking.id in scoped_ids(Booking, user):
                expected = len(access.scoped_children(booking, "items", user))
                visible = scoped_ids(BookingItem, user)
                assert expected == sum(1 for i in booking.items if i.id in visible)
