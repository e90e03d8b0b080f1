"""待办事项 beyond workflow steps: instruments overdue / due in 30 days, licences and
certificates expiring within 90 days, 评审反馈表 to fill, reviewer deadlines, results waiting;
nearest first; options are not tasks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ecqs import workflows
from ecqs.extensions import db
from ecqs.models import BookingItem, QualificationCertificate, utcnow
from ecqs.services import inbox, workdays
from tests.conftest import make_org, make_user
from tests.instruments.fixtures import make_booking, make_instrument, make_metrology
from tests.licences.fixtures import advance, draft
from tests.registry.fixtures import file_qualification


def _titles(items):
    return [item.title for item in items]


@pytest.mark.usefixtures("instrument_kinds")
def test_instrument_counts_link_to_the_filtered_ledger(app, client, login_as):
    today = workdays.today()
    org = make_org()
    user = login_as(make_user("enterprise", org=org))
    make_instrument(org, valid_until=today - timedelta(days=5))
    make_instrument(org, valid_until=today - timedelta(days=1))
    make_instrument(org, valid_until=today + timedelta(days=20))
    make_instrument(org, valid_until=today - timedelta(days=9), status="scrapped")
    make_instrument(make_org(), valid_until=today - timedelta(days=5))  # another enterprise
    client.get("/admin/")  # a request context for url_for
    with app.test_request_context("/admin/"):
        items = inbox.due_items(user)
    assert _titles(items) == [
        "2 台强检器具已超过有效期，请尽快申请检定",
        "1 台强检器具 30 天内到期，请及时申请检定",
    ]
    overdue, _soon = items
    assert overdue.overdue and overdue.deadline == today - timedelta(days=5)
    assert overdue.url.startswith("/admin/instruments/?flt0_") and overdue.url.endswith("=overdue")
    page = client.get(overdue.url)
    assert page.status_code == 200
    home = client.get("/admin/").get_data(as_text=True)
    assert "2 台强检器具已超过有效期" in home


def test_licence_expiring_and_feedback_to_fill(app, world):
    application = advance(world, draft(world), "granted")
    application.licence_valid_until = workdays.today() + timedelta(days=60)
    db.session.commit()
    with app.test_request_context("/admin/"):
        items = inbox.due_items(world.enterprise)
    titles = _titles(items)
    assert any(t.startswith(f"许可证 {application.licence_number} 将于") for t in titles)
    assert any("鉴定评审工作反馈表" in t for t in titles)
    feedback = next(i for i in items if "反馈表" in i.title)
    assert feedback.url == f"/admin/licence_applications/feedback/?id={application.id}"


def test_withdrawing_is_not_a_task(app, world):
    advance(world, draft(world), "submitted")
    with app.test_request_context("/admin/"):
        items = inbox.everything_for(world.enterprise)
    assert not any("撤回" in a for item in items for a in item.actions)


def test_reviewer_sees_deadlines_within_three_working_days(app, world):
    application = advance(world, draft(world), "submitted")
    application.received_at = utcnow() - timedelta(days=30)  # correction notice long overdue
    db.session.commit()
    with app.test_request_context("/admin/"):
        items = inbox.due_items(world.sn_reviewer)
    assert len(items) == 1
    assert items[0].overdue
    assert "1 件许可申请法定期限" in items[0].title
    with app.test_request_context("/admin/"):
        everything = inbox.everything_for(world.sn_reviewer)
    assert everything[0].sort_key <= everything[-1].sort_key


def test_person_certificate_expiring(app):
    from ecqs.models import PersonnelProject

    person = make_user("person")
    authority = make_org(kind="authority")
    project = PersonnelProject(
        personnel_type="检验", code="T1", name="测试项目", level="", approval_level="national"
    )
    db.session.add(project)
    db.session.flush()
    cert = QualificationCertificate(
        number="TEST-0001",
        holder_id=person.id,
        holder_name="张三",
        holder_id_number=person.id_number,
        project_id=project.id,
        personnel_type="检验",
        issued_on=workdays.today() - timedelta(days=1400),
        valid_until=workdays.today() + timedelta(days=30),
        authority_id=authority.id,
        status="valid",
    )
    db.session.add(cert)
    db.session.commit()
    with app.test_request_context("/admin/"):
        items = inbox.due_items(person)
    assert _titles(items) == [f"资格证书 TEST-0001 将于 {cert.valid_until.isoformat()} 到期"]


@pytest.mark.usefixtures("instrument_kinds")
def test_institution_results_waiting(app):
    institution, staff = make_metrology()
    org = make_org()
    inst = make_instrument(org)
    booking = make_booking(org, [inst], status="submitted")
    item = db.session.get(BookingItem, booking.items[0].id)
    item.institution_id = institution.id
    item.status = "accepted"
    item.answered_at = utcnow() - timedelta(days=3)
    db.session.commit()
    with app.test_request_context("/admin/"):
        items = inbox.due_items(staff)
    assert _titles(items) == ["1 台器具已受理，待录入检定结果"]
    assert items[0].url == "/admin/verification_results/"


def test_unit_qualification_running_out_is_due_until_a_new_one_is_filed(app, unit, other_unit, casei):
    today = workdays.today()
    held = file_qualification(
        unit.admin,
        qual_type="inspection",
        issued_on=today - timedelta(days=1800),
        valid_until=today + timedelta(days=20),
    )
    workflows.transition(held, "approve", casei)
    far = file_qualification(unit.admin, certificate_number="TS2", valid_until=today + timedelta(days=900))
    workflows.transition(far, "approve", casei)
    db.session.commit()
    with app.test_request_context("/admin/"):
        items = inbox.due_items(unit.admin)
        assert inbox.due_items(other_unit.admin) == []  # another unit's qualification is not its work
    assert [item.url for item in items] == [f"/admin/unit_qualifications/details/?id={held.id}"]
    assert "将于" in items[0].title and not items[0].overdue
    file_qualification(
        unit.admin, qual_type="inspection", certificate_number="TS3", valid_until=today + timedelta(days=1800)
    )
    with app.test_request_context("/admin/"):
        assert inbox.due_items(unit.admin) == []  # the renewal is filed and waits for review
