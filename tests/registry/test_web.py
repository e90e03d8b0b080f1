"""M4 part 1 through HTTP: the unit's menu, filing a change request and a qualification request
through the grids, staff approval through the generic transition form, refusals in Chinese,
and a sub-account kept out of 单位账号管理 / 二级单位管理."""

from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy import func, select

from ecqs.extensions import db
from ecqs.models import Organization, UnitChangeRequest, UnitQualificationRequest
from tests.conftest import flashes, login
from tests.registry.fixtures import PNG, file_change


def _count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def test_unit_menu_follows_seed_004(client, unit):
    login(client, unit.admin)
    page = client.get("/admin/").get_data(as_text=True)
    for label in ("单位信息管理", "单位账号管理", "二级单位管理", "单位信息变更", "单位资质管理"):
        assert label in page, label
    assert "单位变更审核" not in page


def test_change_request_filed_and_approved_over_http(app, unit, casei):
    client = app.test_client()
    login(client, unit.admin)
    form = client.get("/admin/unit_changes/new/").get_data(as_text=True)
    assert "广东华胜检验有限公司" in form  # prefilled with the current values
    data = {
        "kind": "info",
        "name": "广东华胜检验检测有限公司",
        "legal_rep_name": "王霓",
        "uscc": unit.org.uscc,
        "address": unit.org.address,
        "postcode": "053900",
        "contact_name": "联系人",
        "contact_mobile": unit.org.contact_mobile,
        "reason": "更名",
        "proof": (io.BytesIO(PNG), "proof.png"),
    }
    response = client.post("/admin/unit_changes/new/", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, flashes(response)
    row = db.session.execute(select(UnitChangeRequest)).scalar_one()
    details = client.get(f"/admin/unit_changes/details/?id={row.id}").get_data(as_text=True)
    assert "当前信息为" in details and "希望变更为" in details and 'data-changed="1"' in details
    staff = app.test_client()
    login(staff, casei)
    assert row.number in staff.get("/admin/unit_change_review/").get_data(as_text=True)
    response = staff.post(
        f"/admin/unit_change_review/transition/{row.id}/approve",
        data={"expected_state": "pending", "expected_version": row.version},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organization, unit.org.id).name == "广东华胜检验检测有限公司"


def test_change_that_changes_nothing_is_refused_over_http(client, unit):
    login(client, unit.admin)
    data = {"kind": "info", "name": unit.org.name, "proof": (io.BytesIO(PNG), "p.png")}
    response = client.post(
        "/admin/unit_changes/new/", data=data, content_type="multipart/form-data", follow_redirects=True
    )
    assert "完全相同" in flashes(response)
    assert _count(UnitChangeRequest) == 0


def test_qualification_request_over_http_and_bad_dates(client, unit):
    login(client, unit.admin)
    today = date.today()
    bad = {
        "qual_type": "type_test",
        "certificate_number": "TS-1",
        "issued_on": today.isoformat(),
        "valid_until": (today - timedelta(days=1)).isoformat(),
        "certificate": (io.BytesIO(PNG), "c.png"),
    }
    response = client.post(
        "/admin/unit_qualifications/new/", data=bad, content_type="multipart/form-data", follow_redirects=True
    )
    assert "有效日期应晚于发证日期" in flashes(response)
    assert _count(UnitQualificationRequest) == 0
    good = {
        **bad,
        "valid_until": (today + timedelta(days=10)).isoformat(),
        "certificate": (io.BytesIO(PNG), "c.png"),
    }
    response = client.post("/admin/unit_qualifications/new/", data=good, content_type="multipart/form-data")
    assert response.status_code == 302
    assert _count(UnitQualificationRequest) == 1


def test_sub_account_cannot_manage_accounts_or_branches(client, unit):
    login(client, unit.sub)
    for url in ("/admin/unit_accounts/", "/admin/unit_branches/", "/admin/unit_branches/new/"):
        assert client.get(url).status_code == 403, url
    assert client.get("/admin/unit_changes/new/").status_code in (302, 403)
    response = client.post("/admin/unit_branches/new/", data={"name": "分部"})
    assert response.status_code == 403
    assert (
        db.session.execute(
            select(func.count()).select_from(Organization).where(Organization.parent_id == unit.org.id)
        ).scalar()
        == 0
    )


def test_admin_creates_a_branch(client, unit):
    login(client, unit.admin)
    response = client.post("/admin/unit_branches/new/", data={"name": "华胜东莞分部"})
    assert response.status_code == 302, flashes(response)
    assert "华胜东莞分部" in client.get("/admin/unit_branches/").get_data(as_text=True)


def test_staff_sees_deadline_and_overdue_registration(app, casei):
    from ecqs.models import utcnow
    from tests.conftest import make_org

    org = make_org("unit", status="pending", name="逾期单位")
    org.submitted_at = utcnow() - timedelta(days=15)
    db.session.commit()
    client = app.test_client()
    login(client, casei)
    page = client.get("/admin/unit_registrations/").get_data(as_text=True)
    assert "逾期单位" in page and 'data-overdue="1"' in page


def test_other_units_change_request_not_visible(client, unit, other_unit):
    row = file_change(other_unit.admin, values={"name": "别家新名"})
    login(client, unit.admin)
    assert client.get(f"/admin/unit_changes/details/?id={row.id}").status_code == 404
    assert "别家新名" not in client.get("/admin/unit_changes/").get_data(as_text=True)


def test_unit_home_shows_counts_and_expiring_qualifications(client, unit, casei):
    from ecqs import workflows
    from tests.registry.fixtures import add_branch, file_qualification

    add_branch(unit)
    q = file_qualification(unit.admin, valid_until=date.today() + timedelta(days=10))
    workflows.transition(q, "approve", casei)
    db.session.commit()
    login(client, unit.admin)
    page = client.get("/admin/").get_data(as_text=True)
    assert "单位首页" in page and 'id="branch-count">1<' in page
    assert "TS7110001-2027" in page  # flagged 30 days ahead
