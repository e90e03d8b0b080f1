"""信息查询服务 without login: instrument by enterprise name or USCC plus serial, institutions with
their scope, the catalogue."""

from __future__ import annotations

import pytest

from tests.conftest import make_org
from tests.instruments.fixtures import (
    authorise,
    kind,
    make_instrument,
    make_metrology,
)

pytestmark = pytest.mark.usefixtures("instrument_kinds")


def test_instrument_query_needs_enterprise_and_serial(client):
    org = make_org(name="西安示范锅炉制造有限公司")
    make_instrument(org, serial_no="HY37", manufacturer="上海银普仪表有限公司")
    make_instrument(org, serial_no="HY99")
    page = client.get("/public/instruments/query?enterprise=西安示范锅炉制造有限公司&serial=HY37").get_data(
        as_text=True
    )
    assert "上海银普仪表有限公司" in page and "HY37" in page and "HY99" not in page
    page = client.get(f"/public/instruments/query?enterprise={org.uscc}&serial=HY37").get_data(as_text=True)
    assert "上海银普仪表有限公司" in page
    # No browsing: a serial alone, a partial name, another enterprise's name find nothing.
    assert "请同时填写" in client.get("/public/instruments/query?serial=HY37").get_data(as_text=True)
    partial = client.get("/public/instruments/query?enterprise=西安&serial=HY37").get_data(as_text=True)
    assert "未查询到" in partial and "上海银普仪表有限公司" not in partial
    other = make_org(name="别的企业")
    assert "未查询到" in client.get(
        f"/public/instruments/query?enterprise={other.name}&serial=HY37"
    ).get_data(as_text=True)


def test_institutions_with_scope_and_catalogue(client):
    institution, _user = make_metrology("610000", name="陕西省计量科学研究院")
    authorise(institution, kind("0101"), "610000")
    make_metrology("610000", name="待审核机构", status="pending")
    page = client.get("/public/instruments/institutions").get_data(as_text=True)
    assert "陕西省计量科学研究院" in page and "指示类压力表" in page and "陕西省" in page
    assert "待审核机构" not in page
    page = client.get("/public/instruments/catalogue").get_data(as_text=True)
    assert "压力仪表" in page and "0102" in page and "部分条目" in page
    index = client.get("/public/instruments/").get_data(as_text=True)
    for label in ("强检器具信息", "计量检定机构信息", "强制检定器具目录信息"):
        assert label in index


def test_public_pages_escape_stored_text(client):
    org = make_org(name="<script>x</script>")
    make_instrument(org, serial_no="S1", name="<img src=x onerror=alert(1)>")
    page = client.get("/public/instruments/query", query_string={"enterprise": org.name, "serial": "S1"})
    html = page.get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_instrument_query_shows_the_last_verification(client):
    """最近检定: the latest verified item (by date, then id) with its institution and result;
    pending items and other instruments' verifications are not shown."""
    from datetime import date

    from ecqs.extensions import db
    from tests.instruments.fixtures import make_booking

    org = make_org(name="西安检定示范企业")
    inst = make_instrument(org, serial_no="LV1")
    other = make_instrument(org, serial_no="LV2")
    first, _u = make_metrology("610000", name="甲检定所")
    second, _u = make_metrology("610000", name="乙检定所")
    for instrument, institution, day, result in (
        (inst, first, date(2025, 3, 1), "unqualified"),
        (inst, second, date(2026, 3, 1), "qualified"),
        (other, first, date(2026, 6, 1), "unqualified"),
    ):
        (item,) = make_booking(org, [instrument]).items
        item.status, item.institution_id = "verified", institution.id
        item.verified_on, item.result = day, result
        db.session.commit()
    (open_item,) = make_booking(org, [inst]).items  # still open: not a verification
    open_item.status, open_item.institution_id = "allocated", first.id
    db.session.commit()
    page = client.get("/public/instruments/query", query_string={"enterprise": org.name, "serial": "LV1"})
    html = page.get_data(as_text=True)
    assert "乙检定所 2026-03-01 合格" in html
    assert "甲检定所" not in html and "2026-06-01" not in html
    query = {"enterprise": org.uscc.lower(), "serial": "LV2"}
    page = client.get("/public/instruments/query", query_string=query)
    assert "甲检定所 2026-06-01 不合格" in page.get_data(as_text=True)
