"""审计日志: an edit of master or personal data records the fields it changed, old → new, with
personal values masked when recorded; the audit grid links each entry to its record."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ecqs import workflows
from ecqs.extensions import db
from ecqs.models import AuditEvent, Division
from ecqs.services import audit
from tests.conftest import login, make_user
from tests.registry.fixtures import file_change
from tests.registry.test_unit_info import GOOD


def _last_change(obj) -> AuditEvent:
    return db.session.execute(
        select(AuditEvent)
        .where(
            AuditEvent.event == "record_changed",
            AuditEvent.object_type == type(obj).__name__,
            AuditEvent.object_id == obj.id,
        )
        .order_by(AuditEvent.id.desc())
    ).scalar()


def test_field_changes_come_from_history_and_mask_personal_values(app):
    user = make_user("person", mobile="13912345678", real_name="张三")
    user.mobile = "13987654321"
    user.real_name = "张四"
    user.password_hash = "secret"
    changes = {c["field"]: (c["old"], c["new"]) for c in audit.field_changes(user)}
    assert changes == {"mobile": ("139****5678", "139****4321"), "real_name": ("张三", "张四")}
    db.session.rollback()
    assert audit.record_change(None, user) is None  # nothing changed, nothing recorded


def test_unit_information_edit_is_audited_field_by_field(client, unit):
    login(client, unit.admin)
    response = client.post(
        f"/admin/unit_info/edit/?id={unit.org.id}",
        data={**GOOD, "taxpayer_id": unit.org.uscc, "email": "new@casei.org.cn"},
    )
    assert response.status_code == 302
    event = _last_change(unit.org)
    changes = {c["field"]: (c["old"], c["new"]) for c in event.changes}
    assert changes["member_type"] == (None, "member")
    assert changes["bank_account"] == (None, "***************3456")  # masked, last 4 kept
    assert changes["email"][1] == "n***@casei.org.cn"
    assert "version" not in changes and event.username == unit.admin.username


@pytest.fixture
def renamed_district():
    """Divisions are reference data kept between tests: the test's rename is undone."""
    yield
    db.session.rollback()
    db.session.get(Division, "610113").name = "雁塔区"
    db.session.commit()


def test_admin_edit_of_master_data_shows_old_and_new_values_with_a_link(client, login_as, renamed_district):
    admin = login_as("admin")
    division = db.session.get(Division, "610113")
    response = client.post(
        "/admin/divisions/edit/?id=610113",
        data={"code": "610113", "name": "雁塔区（新）", "level": division.level, "parent_code": "610100"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.event == "record_changed").order_by(AuditEvent.id.desc())
    ).scalar()
    assert event.changes == [{"field": "name", "old": "雁塔区", "new": "雁塔区（新）"}]
    details = client.get(f"/admin/audit/details/?id={event.id}").get_data(as_text=True)
    assert 'id="audit-changes"' in details and "雁塔区（新）" in details
    # An entry about a record with a details page links to it.
    user = make_user("person")
    user.real_name = "改名"
    audit.record_change(admin, user)
    db.session.commit()
    grid = client.get("/admin/audit/").get_data(as_text=True)
    assert f'/admin/users/details/?id={user.id}" data-audit-record="1"' in grid


def test_an_approved_change_request_records_what_it_changed(unit, casei):
    request = file_change(unit.admin, values={"address": "西安市未央区凤城八路 100 号"}, reason="搬迁")
    workflows.transition(request, "approve", casei)
    db.session.commit()
    event = _last_change(unit.org)
    assert {
        "field": "address",
        "old": "饶阳县马屯工业园区正港路1号",
        "new": "西安市未央区凤城八路 100 号",
    } in (event.changes)
    assert event.username == casei.username and event.comment == request.number
