"""Demo data of the instrument module: the 压力表 of seed 003 in demo_enterprise's ledger (and
two more showing the expiry colours), and demo_metrology authorised for 陕西省 (610000) and
every catalogue kind, and a submitted booking waiting at demo_metrology. Idempotent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ecqs import workflows
from ecqs.extensions import db
from ecqs.instruments import operations
from ecqs.models import Booking, Instrument, InstrumentKind, MetrologyAuthorization, User
from ecqs.services import workdays


def load_instrument_demo() -> int:
    enterprise = db.session.execute(select(User).where(User.username == "demo_enterprise")).scalar()
    metrology = db.session.execute(select(User).where(User.username == "demo_metrology")).scalar()
    if enterprise is None or metrology is None:
        return 0
    kinds = db.session.execute(select(InstrumentKind).order_by(InstrumentKind.code)).scalars().all()
    if not kinds:
        return 0
    created = 0
    for kind in kinds:
        exists = db.session.execute(
            select(MetrologyAuthorization.id).where(
                MetrologyAuthorization.institution_id == metrology.organization_id,
                MetrologyAuthorization.kind_id == kind.id,
                MetrologyAuthorization.division_code == "610000",
            )
        ).first()
        if not exists:
            db.session.add(
                MetrologyAuthorization(
                    institution_id=metrology.organization_id,
                    kind_id=kind.id,
                    division_code="610000",
                )
            )
            created += 1
    today = workdays.today()
    pressure_gauge = dict(
        name="压力表",
        instrument_type="working",
        kind_id=kinds[0].id,
        model_spec="(0-1) MPa",
        measuring_range="(0-1) MPa",
        accuracy_class="1.6",
        manufacturer="上海银普仪表有限公司",
        origin="domestic",
        usage_division_code="610113",
        usage_place="锅炉房",
        quantity=1,
        purpose="safety",
        delivery_mode="send",
    )
    # HY37 is the example of seed 003; HY38 is due soon (yellow), HY39 overdue (red).
    for serial, valid_until in (
        ("HY37", today + timedelta(days=300)),
        ("HY38", today + timedelta(days=20)),
        ("HY39", today - timedelta(days=10)),
    ):
        exists = db.session.execute(
            select(Instrument.id).where(
                Instrument.organization_id == enterprise.organization_id,
                Instrument.kind_id == kinds[0].id,
                Instrument.serial_no == serial,
            )
        ).first()
        if not exists:
            db.session.add(
                Instrument(
                    organization_id=enterprise.organization_id,
                    serial_no=serial,
                    valid_until=valid_until,
                    created_by_id=enterprise.id,
                    **pressure_gauge,
                )
            )
            created += 1
    db.session.flush()
    db.session.flush()
    created += _submitted_booking(enterprise, kinds[0])
    return created


def _submitted_booking(enterprise, kind) -> int:
    """HY39 (overdue) booked and submitted, so that demo_metrology finds an item 待受理 on its
    first login; made through the operations and the engine as a user would."""
    if db.session.execute(
        select(Booking.id).where(Booking.organization_id == enterprise.organization_id)
    ).first():
        return 0
    instrument = db.session.execute(
        select(Instrument).where(
            Instrument.organization_id == enterprise.organization_id,
            Instrument.kind_id == kind.id,
            Instrument.serial_no == "HY39",
        )
    ).scalar()
    if instrument is None:
        return 0
    booking = operations.create_booking(enterprise.organization_id, enterprise)
    operations.add_instruments(booking, [instrument.id])
    db.session.flush()
    workflows.transition(booking, "submit", enterprise)
    return 1
