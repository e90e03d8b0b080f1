"""Fixtures and creators of the instrument module (M1) tests."""

from __future__ import annotations

import io
import itertools
from datetime import date, timedelta

import pytest
import xlsxwriter
from sqlalchemy import select, update

from ecqs.extensions import db
from ecqs.instruments import catalogue as instrument_catalogue
from ecqs.instruments.ledger_import import HEADERS
from ecqs.models import (
    Booking,
    BookingItem,
    EnterpriseLink,
    Instrument,
    InstrumentKind,
    MetrologyAuthorization,
    Upload,
    utcnow,
)
from ecqs.seeding import read_csv
from ecqs.services import workdays
from tests.conftest import make_org, make_user

_serial = itertools.count(1)


@pytest.fixture
def instrument_kinds(app):
    """The seed catalogue (tables are emptied after every test): kinds 0101 and 0102."""
    instrument_catalogue.load_seed(read_csv("instrument_catalogue.csv"))
    db.session.commit()
    kinds = db.session.execute(select(InstrumentKind).order_by(InstrumentKind.code)).scalars().all()
    yield kinds
    # conftest empties tables in reverse dependency order, which (through the use_alter cycle
    # users → organizations → uploads → users) deletes users before uploads; import error
    # reports are uploads owned by a user, so detach them first.
    db.session.rollback()
    db.session.execute(update(Upload).values(uploaded_by_id=None))
    db.session.commit()


def kind(code: str = "0101") -> InstrumentKind:
    return db.session.execute(select(InstrumentKind).where(InstrumentKind.code == code)).scalar_one()


def make_instrument(org, **kw) -> Instrument:
    values = dict(
        name="压力表",
        instrument_type="working",
        kind_id=kw.pop("kind_id", None) or kind("0101").id,
        model_spec="(0-1) MPa",
        measuring_range="(0-1) MPa",
        accuracy_class="1.6",
        serial_no=f"HY{next(_serial):05d}",
        manufacturer="上海银普仪表有限公司",
        origin="domestic",
        usage_division_code="610113",
        usage_place="锅炉房",
        quantity=1,
        purpose="safety",
        delivery_mode="send",
        valid_until=workdays.today() + timedelta(days=200),
    )
    values.update(kw)
    inst = Instrument(organization_id=org.id, **values)
    db.session.add(inst)
    db.session.commit()
    return inst


def make_metrology(division_code: str = "610000", **kw):
    org = make_org(kind="metrology", division_code=division_code, address="西安市未央区", **kw)
    user = make_user("metrology", org=org)
    return org, user


def authorise(institution, kind_obj, division_code: str) -> MetrologyAuthorization:
    row = MetrologyAuthorization(
        institution_id=institution.id, kind_id=kind_obj.id, division_code=division_code
    )
    db.session.add(row)
    db.session.commit()
    return row


def make_reviewer(level: str = "provincial", division_code: str = "610000"):
    org = make_org(kind="authority", authority_level=level, division_code=division_code)
    return make_user("reviewer", org=org)


def link_person(person, org, status="approved"):
    link = EnterpriseLink(
        person_id=person.id,
        organization_id=org.id,
        status=status,
        decided_at=utcnow() if status != "pending" else None,
    )
    db.session.add(link)
    db.session.commit()
    return link


def make_booking(org, instruments, user=None, status="draft") -> Booking:
    booking = Booking(organization_id=org.id, status="draft", created_by_id=getattr(user, "id", None))
    db.session.add(booking)
    db.session.flush()
    booking.number = f"YYTEST{booking.id:06d}"
    for inst in instruments:
        db.session.add(BookingItem(booking_id=booking.id, instrument_id=inst.id, status="pending"))
    db.session.commit()
    return booking


def template_row(serial: str, **kw) -> list:
    """One data row of the import template (Chinese enumeration labels, as users fill it)."""
    row = {
        "器具名称*": "压力表",
        "器具类型*": "工作计量器具",
        "强检器具种别代码*": "0101",
        "型号规格*": "(0-1) MPa",
        "测量范围*": "(0-1) MPa",
        "准确度等级*": "1.6",
        "出厂编号*": serial,
        "生产厂家*": "上海银普仪表有限公司",
        "器具产地*": "国产",
        "使用地点行政区划代码*": "610113",
        "安装/使用地点*": "锅炉房",
        "购置时间": "2024-01-15",
        "器具数量*": 1,
        "器具用途*": "安全防护",
        "送检方式*": "送检",
        "有效期至": (date.today() + timedelta(days=300)).isoformat(),
    }
    row.update(kw)
    return [row[h] for h in HEADERS]


def xlsx_bytes(rows, headers=None, formula_at=None, instructions="说明") -> bytes:
    """A workbook laid out like the template: instructions row, header row, data rows."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"constant_memory": True, "strings_to_numbers": False})
    ws = wb.add_worksheet("强检器具信息")
    ws.write_string(0, 0, instructions)
    for c, h in enumerate(headers or HEADERS):
        ws.write_string(1, c, h)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row):
            if formula_at == (r, c):
                ws.write_formula(r, c, "=1+1")
            elif value is None:
                continue
            elif isinstance(value, int | float):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, str(value))
    wb.close()
    return buf.getvalue()


def upload(client, url, data: bytes, filename="器具.xlsx"):
    return client.post(url, data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")
