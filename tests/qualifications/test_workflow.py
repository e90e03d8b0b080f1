"""M3 workflow table over every state x action x actor, the certificate issued on approval,
renewal guards, one open application per project, stale and double transitions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ecqs import workflows
from ecqs.extensions import db
from ecqs.models import (
    AuditEvent,
    Notification,
    QualificationApplication,
    QualificationCertificate,
    SmsMessage,
)
from ecqs.qualifications import operations as qualification_operations
from ecqs.qualifications import rules as qualifications
from ecqs.services import workdays
from tests.conftest import make_user
from tests.qualifications.fixtures import approve_data, drive_to, give_certificate, make_person, submit

STATES = ["pending", "received", "approved", "rejected", "withdrawn"]
ACTIONS = ["receive", "approve", "reject", "withdraw"]
# The only (state, action) -> actor that may act; every other combination is refused.
ALLOWED = {
    ("pending", "receive"): "addressed_reviewer",
    ("received", "approve"): "addressed_reviewer",
    ("received", "reject"): "addressed_reviewer",
    ("pending", "withdraw"): "applicant",
}
TARGET = {"receive": "received", "approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}
ACTORS = [
    "applicant",
    "other_person",
    "addressed_reviewer",
    "other_province_reviewer",
    "national_reviewer",
    "admin",
    "association",
    "enterprise",
    "unit",
]


def _data(action):
    if action == "approve":
        return {**approve_data(), "comment": "同意"}
    if action == "reject":
        return {"comment": "材料不符合要求"}
    return {}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", ACTIONS)
def test_workflow_table(state, action, projects, reviewers):
    person = make_person("61")
    actors = {
        "applicant": person,
        "other_person": make_person("61"),
        "addressed_reviewer": reviewers["shaanxi"],
        "other_province_reviewer": reviewers["sichuan"],
        "national_reviewer": reviewers["samr"],
        "admin": make_user("admin"),
        "association": make_user("association"),
        "enterprise": make_user("enterprise"),
        "unit": make_user("unit"),
    }
    app = submit(person, projects["RT-II"])
    assert app.authority.name == "陕西省市场监督管理局"
    drive_to(app, state, reviewers["shaanxi"], person)
    allowed = ALLOWED.get((state, action))
    for key in ACTORS:
        if key == allowed:
            continue
        version = app.version
        assert not workflows.can(app, action, actors[key]), (state, action, key)
        with pytest.raises(workflows.WorkflowError):
            workflows.transition(app, action, actors[key], **_data(action))
        db.session.rollback()
        db.session.refresh(app)
        assert (app.status, app.version) == (state, version), (state, action, key)
    if allowed:
        assert workflows.can(app, action, actors[allowed])
        workflows.transition(app, action, actors[allowed], **_data(action))
        db.session.commit()
        assert app.status == TARGET[action]


def test_approval_issues_certificate_with_correct_data(projects, reviewers):
    person = make_person("61", real_name="李四")
    reviewer = reviewers["shaanxi"]
    app = submit(person, projects["RT-II"], work_unit="示范检测公司")
    drive_to(app, "received", reviewer, person)
    today = workdays.today()
    until = today + timedelta(days=4 * 365)
    workflows.transition(app, "approve", reviewer, issued_on=today.isoformat(), valid_until=until.isoformat())
    db.session.commit()
    cert = db.session.execute(select(QualificationCertificate)).scalar_one()
    assert app.certificate_id == cert.id and cert.application is app
    assert (cert.holder_id, cert.holder_name, cert.holder_id_number) == (person.id, "李四", person.id_number)
    assert (cert.project_id, cert.project_code, cert.project_name) == (
        projects["RT-II"].id,
        "RT-II",
        "射线胶片照相检测",
    )
    assert (cert.personnel_type, cert.level) == ("无损检测人员", "II")
    assert (cert.issued_on, cert.valid_until, cert.status) == (today, until, "valid")
    assert cert.authority_id == reviewer.organization_id
    assert cert.number == f"RY-610000-{today.year}-00001"
    assert app.decided_on == today and app.accepted_on == today
    assert cert.is_current(today) and not cert.is_current(until + timedelta(days=1))
    assert qualifications.valid_certificates(person.id_number, today) == [cert]
    # The next certificate of that authority and year gets the next number.
    other = make_person("61")
    app2 = submit(other, projects["RT-II"])
    drive_to(app2, "approved", reviewer, other)
    assert app2.certificate.number == f"RY-610000-{today.year}-00002"


def test_approval_with_chosen_number_and_bad_dates(projects, reviewers):
    person = make_person("61")
    reviewer = reviewers["shaanxi"]
    app = submit(person, projects["MT-II"])
    drive_to(app, "received", reviewer, person)
    today = workdays.today()
    bad = [
        ({}, "有效期至"),
        ({"valid_until": "2030-13-01"}, "不是有效日期"),
        ({"valid_until": today.isoformat()}, "必须晚于发证日期"),
        ({"issued_on": (today + timedelta(days=1)).isoformat(), "valid_until": "2099-01-01"}, "不能晚于今天"),
        ({"valid_until": "2099-01-01", "number": "有 空格"}, "不能包含空格"),
    ]
    for data, message in bad:
        with pytest.raises(workflows.GuardFailed, match=message):
            workflows.transition(app, "approve", reviewer, **data)
        db.session.rollback()
        db.session.refresh(app)
        assert app.status == "received"
    assert db.session.execute(select(func.count(QualificationCertificate.id))).scalar() == 0
    workflows.transition(app, "approve", reviewer, valid_until="2099-01-01", number="SN-MT-0001")
    db.session.commit()
    assert app.certificate.number == "SN-MT-0001"
    # A number already used is refused with a message.
    other = make_person("61")
    app2 = submit(other, projects["MT-II"])
    drive_to(app2, "received", reviewer, other)
    with pytest.raises(workflows.GuardFailed, match="已存在"):
        workflows.transition(app2, "approve", reviewer, valid_until="2099-01-01", number="SN-MT-0001")


def test_reject_needs_reason_and_records_it(projects, reviewers):
    person = make_person("61")
    app = submit(person, projects["PT-II"])
    drive_to(app, "received", reviewers["shaanxi"], person)
    with pytest.raises(workflows.CommentRequired, match="必须填写"):
        workflows.transition(app, "reject", reviewers["shaanxi"], comment="  ")
    db.session.rollback()
    workflows.transition(app, "reject", reviewers["shaanxi"], comment="考试成绩不合格")
    db.session.commit()
    assert (app.status, app.reject_reason, app.decided_on) == ("rejected", "考试成绩不合格", workdays.today())
    assert app.certificate is None


def test_renewal_and_change_need_a_valid_certificate(projects, reviewers):
    person = make_person("61")
    project = projects["RT-II"]
    for category in ("exam_renewal", "review_renewal", "change"):
        with pytest.raises(workflows.GuardFailed, match=r"须持有该项目.*有效资格证书"):
            qualification_operations.submit_qualification_application(
                person, project, category, remarks="姓名变更"
            )
        db.session.rollback()
    assert db.session.execute(select(func.count(QualificationApplication.id))).scalar() == 0
    # An expired certificate does not count either.
    cert = give_certificate(
        person, project, reviewers["shaanxi"], valid_until=workdays.today() - timedelta(days=1)
    )
    with pytest.raises(workflows.GuardFailed, match="有效资格证书"):
        qualification_operations.submit_qualification_application(person, project, "exam_renewal")
    db.session.rollback()
    # A certificate of another project does not count.
    cert.valid_until = workdays.today() + timedelta(days=30)
    db.session.commit()
    with pytest.raises(workflows.GuardFailed, match="有效资格证书"):
        qualification_operations.submit_qualification_application(person, projects["UT-II"], "review_renewal")
    db.session.rollback()


def test_renewal_replaces_the_old_certificate(projects, reviewers):
    person = make_person("61")
    project = projects["RT-II"]
    reviewer = reviewers["shaanxi"]
    old = give_certificate(person, project, reviewer)
    with pytest.raises(workflows.GuardFailed, match="已持有该项目的有效资格证书"):
        qualification_operations.submit_qualification_application(person, project, "initial")
    db.session.rollback()
    app = submit(person, project, "review_renewal")
    assert app.base_certificate_id == old.id
    drive_to(app, "approved", reviewer, person)
    db.session.refresh(old)
    assert old.status == "superseded"
    assert app.certificate.status == "valid" and app.certificate.id != old.id


def test_change_requires_remarks(projects, reviewers):
    person = make_person("61")
    give_certificate(person, projects["RT-II"], reviewers["shaanxi"])
    with pytest.raises(workflows.GuardFailed, match="变更事项"):
        qualification_operations.submit_qualification_application(person, projects["RT-II"], "change")
    db.session.rollback()
    app = submit(person, projects["RT-II"], "change", remarks="姓名由张三变更为张叁")
    assert app.category == "change"


def test_one_open_application_per_project(projects, reviewers):
    person = make_person("61")
    app = submit(person, projects["RT-II"])
    with pytest.raises(workflows.GuardFailed, match="正在办理的申请（待受理）"):
        qualification_operations.submit_qualification_application(person, projects["RT-II"], "initial")
    db.session.rollback()
    # Another project is fine; after a withdrawal the same project is open again.
    submit(person, projects["UT-II"])
    drive_to(app, "withdrawn", reviewers["shaanxi"], person)
    again = submit(person, projects["RT-II"])
    assert again.status == "pending"
    count = db.session.execute(
        select(func.count(QualificationApplication.id)).where(
            QualificationApplication.applicant_id == person.id
        )
    ).scalar()
    assert count == 3


def test_database_refuses_a_second_open_application(projects, reviewers):
    """Two requests racing past the check still leave one open application (partial unique index)."""
    person = make_person("61")
    first = submit(person, projects["RT-II"])
    duplicate = QualificationApplication(
        applicant_id=person.id,
        applicant_name=first.applicant_name,
        applicant_id_number=first.applicant_id_number,
        project_id=first.project_id,
        personnel_type=first.personnel_type,
        approval_level=first.approval_level,
        application_year=first.application_year,
        category="initial",
        authority_id=first.authority_id,
        applied_on=first.applied_on,
    )
    db.session.add(duplicate)
    with pytest.raises(Exception, match=r"(?i)unique"):
        db.session.commit()
    db.session.rollback()


def test_stale_and_double_transitions_are_refused(projects, reviewers):
    person = make_person("61")
    reviewer = reviewers["shaanxi"]
    app = submit(person, projects["RT-II"])
    workflows.transition(app, "receive", reviewer, expected_state="pending")
    db.session.commit()
    # The same button pressed again (page not refreshed): refused with the current state.
    with pytest.raises(workflows.StaleTransition, match=r"已被他人处理.*材料已接收"):
        workflows.transition(app, "receive", reviewer, expected_state="pending")
    db.session.rollback()
    with pytest.raises(workflows.IllegalState, match="当前状态为“材料已接收”"):
        workflows.transition(app, "receive", reviewer)
    db.session.rollback()
    # The applicant cannot withdraw once the materials are received.
    with pytest.raises(workflows.IllegalState, match="不能执行“撤回”"):
        workflows.transition(app, "withdraw", person)
    db.session.rollback()
    assert app.status == "received"


def test_concurrent_second_effect_is_refused_by_version(app, projects, reviewers):
    """Two workers load the same row; the second commit finds the version changed."""
    from sqlalchemy.orm import Session

    person = make_person("61")
    reviewer = reviewers["shaanxi"]
    application = submit(person, projects["RT-II"])
    with Session(db.engine) as other:
        stale = other.get(QualificationApplication, application.id)
        workflows.transition(application, "receive", reviewer)
        db.session.commit()
        stale.accepted_on = workdays.today()
        stale.status = "received"
        from sqlalchemy.orm.exc import StaleDataError

        with pytest.raises(StaleDataError):
            other.commit()


def test_notifications_sms_and_timeline(projects, reviewers):
    person = make_person("61")
    reviewer = reviewers["shaanxi"]
    app = submit(person, projects["RT-II"])
    # The reviewers of the addressed authority are told about the new application (in-app).
    assert db.session.execute(
        select(Notification).where(Notification.user_id == reviewer.id, Notification.title.contains("RT-II"))
    ).scalar()
    assert not db.session.execute(
        select(Notification).where(Notification.user_id == reviewers["sichuan"].id)
    ).scalar()
    drive_to(app, "approved", reviewer, person)
    titles = list(
        db.session.execute(
            select(Notification.title).where(Notification.user_id == person.id).order_by(Notification.id)
        ).scalars()
    )
    assert any("材料已接收" in t for t in titles)
    assert any("已审核通过" in t and app.certificate.number in t for t in titles)
    sms = list(
        db.session.execute(select(SmsMessage.body).where(SmsMessage.mobile == person.mobile)).scalars()
    )
    assert len(sms) == 2 and any(app.certificate.number in body for body in sms)
    events = list(
        db.session.execute(
            select(AuditEvent)
            .where(AuditEvent.object_type == "QualificationApplication", AuditEvent.object_id == app.id)
            .order_by(AuditEvent.id)
        ).scalars()
    )
    assert [e.event for e in events] == ["record_created", "transition", "transition"]
    assert [(e.from_state, e.to_state) for e in events[1:]] == [
        ("pending", "received"),
        ("received", "approved"),
    ]


def test_reject_notifies_with_reason_and_withdraw_tells_reviewers(projects, reviewers):
    person = make_person("61")
    reviewer = reviewers["shaanxi"]
    app = submit(person, projects["RT-II"])
    drive_to(app, "rejected", reviewer, person)
    assert db.session.execute(
        select(SmsMessage).where(
            SmsMessage.mobile == person.mobile, SmsMessage.body.contains("不予批准：材料不全")
        )
    ).scalar()
    app2 = submit(person, projects["UT-II"])
    drive_to(app2, "withdrawn", reviewer, person)
    assert db.session.execute(
        select(Notification).where(Notification.user_id == reviewer.id, Notification.title.contains("撤回"))
    ).scalar()


def test_inbox_shows_applications_to_the_addressed_reviewer_only(app, projects, reviewers):

    with app.test_request_context():
        _inbox_checks(projects, reviewers)


def _inbox_checks(projects, reviewers):
    from ecqs.services import inbox

    person = make_person("61")
    submit(person, projects["RT-II"])
    mine = [i for i in inbox.items_for(reviewers["shaanxi"]) if "人员资格认定申请" in i.title]
    assert len(mine) == 1 and mine[0].actions == ["接收材料", "补正告知"]
    assert mine[0].url.startswith("/admin/qualification_applications/details/")
    assert mine[0].deadline == workdays.add_working_days(workdays.today(), 5)
    assert not [i for i in inbox.items_for(reviewers["sichuan"]) if "人员资格认定申请" in i.title]
    assert not [i for i in inbox.items_for(reviewers["samr"]) if "人员资格认定申请" in i.title]
