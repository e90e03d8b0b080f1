"""`flask --app app remind`: one digest per enterprise, never twice per instrument and window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ecqs import workflows
from ecqs.extensions import db
from ecqs.instruments.reminders import send_reminders
from ecqs.models import InstrumentReminder, Notification, SmsMessage
from ecqs.services import workdays
from tests.conftest import make_org, make_user
from tests.instruments.fixtures import (
    authorise,
    kind,
    make_booking,
    make_instrument,
    make_metrology,
)

pytestmark = pytest.mark.usefixtures("instrument_kinds")


def sms_for(mobile):
    return db.session.execute(select(SmsMessage).where(SmsMessage.mobile == mobile)).scalars().all()


def test_one_digest_per_enterprise_never_twice(app):
    today = workdays.today()
    org = make_org()
    admin_user = make_user("enterprise", org=org)
    sub = make_user("enterprise", org=org, is_org_admin=False)
    make_instrument(org, serial_no="OVERDUE", valid_until=today - timedelta(days=1))
    make_instrument(org, serial_no="SOON", valid_until=today + timedelta(days=30))
    make_instrument(org, serial_no="LATER", valid_until=today + timedelta(days=40))
    make_instrument(org, serial_no="STOPPED", valid_until=today - timedelta(days=1), status="stopped")
    make_instrument(org, serial_no="NODATE", valid_until=None)
    quiet = make_org()
    make_instrument(quiet, serial_no="FINE", valid_until=today + timedelta(days=100))

    runner = app.test_cli_runner()
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 0, result.output
    assert "'digests': 1" in result.output and "'instruments': 2" in result.output
    notes = (
        db.session.execute(select(Notification).where(Notification.user_id.in_([admin_user.id, sub.id])))
        .scalars()
        .all()
    )
    assert len(notes) == 2  # one in-app notice to each account of the enterprise
    assert "1 件已超期，1 件 30 天内到期" in notes[0].title
    assert "OVERDUE" in notes[0].body and "SOON" in notes[0].body and "LATER" not in notes[0].body
    (sms,) = sms_for(org.contact_mobile)
    assert sms.purpose == "reminder" and "1 件已超期" in sms.body
    # Again the same day, or the next: nothing new.
    assert runner.invoke(args=["remind"]).exit_code == 0
    assert send_reminders(today + timedelta(days=1)) == {"digests": 0, "instruments": 0}
    assert len(sms_for(org.contact_mobile)) == 1
    # SOON becomes overdue: a new window, one more digest for that instrument only.
    counts = send_reminders(today + timedelta(days=31))
    assert counts == {"digests": 1, "instruments": 2}  # SOON overdue now, LATER due now
    assert db.session.execute(select(func.count(InstrumentReminder.id))).scalar() == 4


def test_a_new_valid_until_starts_afresh(app):
    today = workdays.today()
    org = make_org()
    enterprise = make_user("enterprise", org=org)
    inst = make_instrument(org, serial_no="RENEW", valid_until=today - timedelta(days=2))
    assert send_reminders(today)["instruments"] == 1
    institution, metrology = make_metrology()
    authorise(institution, kind("0101"), "610000")
    booking = make_booking(org, [inst], user=enterprise)
    workflows.transition(booking, "submit", enterprise)
    (item,) = booking.items
    workflows.transition(item, "accept", metrology)
    workflows.transition(
        item,
        "record_result",
        metrology,
        result="qualified",
        certificate_no="C-1",
        verified_on=today,
        valid_until=today + timedelta(days=10),
    )
    db.session.commit()
    assert send_reminders(today)["instruments"] == 1  # due again, under the new date
    assert send_reminders(today)["instruments"] == 0
