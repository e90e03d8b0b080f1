"""The M2 workflow table over every state x action x actor, routing of the approving
authority, numbering, the statutory clock and the notices at each decision."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from ecqs import workflows
from ecqs.extensions import db
from ecqs.licences import clock as licence_clock
from ecqs.licences import operations as licence_applications
from ecqs.licences import workflows as licence_workflows
from ecqs.models import LICENCE_STATUS_LABELS, AuditEvent, LicenceApplication, Notification, SmsMessage
from ecqs.services import workdays
from tests.licences.fixtures import (  # noqa: F401  (fixtures)
    PATHS,
    action_data,
    advance,
    draft,
    item,
)

ACTORS = (
    "applicant",
    "other_enterprise",
    "sn_reviewer",
    "bj_reviewer",
    "samr_reviewer",
    "assessor",
    "other_assessor",
    "admin",
)
SCENARIOS = (*LICENCE_STATUS_LABELS, "engaged_by_assessor", "engaged_by_enterprise")
# (scenario, action) -> the actors who may do it; every other pair is refused.
ALLOWED = {
    ("draft", "submit"): {"applicant"},
    ("draft", "withdraw"): {"applicant"},
    ("submitted", "withdraw"): {"applicant"},
    ("submitted", "request_correction"): {"sn_reviewer"},
    ("submitted", "reject"): {"sn_reviewer"},
    ("submitted", "accept"): {"sn_reviewer"},
    ("correction", "resubmit"): {"applicant"},
    ("correction", "withdraw"): {"applicant"},
    ("accepted", "engage"): {"applicant"},
    ("engaged", "propose_dates"): {"assessor"},
    ("engaged_by_assessor", "propose_dates"): {"assessor"},
    ("engaged_by_assessor", "counter_propose"): {"applicant"},
    ("engaged_by_assessor", "confirm_dates"): {"applicant"},
    ("engaged_by_enterprise", "propose_dates"): {"assessor"},
    ("engaged_by_enterprise", "confirm_dates"): {"assessor"},
    ("scheduled", "submit_report"): {"assessor"},
    ("reviewed", "grant"): {"sn_reviewer"},
    ("reviewed", "refuse"): {"sn_reviewer"},
}
TARGET = {t.action: t.target for t in licence_workflows.LICENCE_APPLICATION.transitions}
COMMENTS = {"request_correction": "1. 补充材料", "reject": "理由", "refuse": "理由"}


def actor(world, key):
    return {
        "applicant": world.enterprise,
        "other_enterprise": world.other_enterprise,
        "sn_reviewer": world.sn_reviewer,
        "bj_reviewer": world.bj_reviewer,
        "samr_reviewer": world.samr_reviewer,
        "assessor": world.assessor,
        "other_assessor": world.other_assessor,
        "admin": world.admin,
    }[key]


def in_scenario(world, scenario):
    application = draft(world)
    if scenario.startswith("engaged_by_"):
        advance(world, application, "engaged")
        today = workdays.today()
        workflows.transition(
            application,
            "propose_dates",
            world.assessor,
            start=today + timedelta(days=10),
            end=today + timedelta(days=11),
        )
        if scenario == "engaged_by_enterprise":
            workflows.transition(
                application,
                "counter_propose",
                world.enterprise,
                start=today + timedelta(days=14),
                end=today + timedelta(days=15),
            )
        db.session.commit()
        return application
    return advance(world, application, scenario)


def attempt(world, application, action, who):
    data = action_data(world, action, application)
    if action in ("propose_dates", "counter_propose"):
        today = workdays.today()
        data = {"start": today + timedelta(days=30), "end": today + timedelta(days=31)}
    return workflows.transition(application, action, actor(world, who), comment=COMMENTS.get(action), **data)


def test_table_covers_every_action():
    actions = {t.action for t in licence_workflows.LICENCE_APPLICATION.transitions}
    assert {a for _s, a in ALLOWED} == actions


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_state_action_role_table(world, scenario):
    shared = in_scenario(world, scenario)
    state, version = shared.status, shared.version
    for t in licence_workflows.LICENCE_APPLICATION.transitions:
        allowed = ALLOWED.get((scenario, t.action), set())
        for who in ACTORS:
            if who in allowed:
                fresh = in_scenario(world, scenario)
                assert workflows.can(fresh, t.action, actor(world, who)), (scenario, t.action, who)
                attempt(world, fresh, t.action, who)
                db.session.commit()
                assert fresh.status == TARGET[t.action], (scenario, t.action, who)
            else:
                assert not workflows.can(shared, t.action, actor(world, who)), (scenario, t.action, who)
                with pytest.raises(workflows.WorkflowError):
                    attempt(world, shared, t.action, who)
                db.session.rollback()
                db.session.refresh(shared)
                assert (shared.status, shared.version) == (state, version), (scenario, t.action, who)


# ---- routing -------------------------------------------------------------------------------


def test_provincial_items_go_to_the_enterprise_province(world):
    application = draft(world, [item("安全阀", "B"), item("紧急切断阀", "B")])
    assert application.authority_id == world.shaanxi.id
    assert application.items_label == "安全阀B、紧急切断阀B"


def test_any_national_item_goes_to_samr(world):
    application = draft(world, [item("安全阀", "B"), item("爆破片装置")])
    assert application.authority_id == world.samr.id


def test_routing_follows_the_enterprise_province(world):
    beijing_enterprise = world.other_enterprise
    application = licence_applications.create(
        beijing_enterprise.organization, beijing_enterprise, "first", "制造", [item("安全阀", "B").id]
    )
    assert application.authority_id == world.beijing.id


def test_missing_provincial_authority_is_a_clear_message(world):
    from tests.conftest import make_org, make_user

    org = make_org("enterprise", division_code="440305")  # 广东: no bureau configured
    user = make_user("enterprise", org=org)
    before = db.session.execute(select(func.count(LicenceApplication.id))).scalar_one()
    with pytest.raises(licence_applications.ApplicationError, match="所在省份的审批机关"):
        licence_applications.create(org, user, "first", "制造", [item("安全阀", "B").id])
    db.session.rollback()
    assert db.session.execute(select(func.count(LicenceApplication.id))).scalar_one() == before


def test_correction_may_not_change_the_authority(world):
    application = advance(world, draft(world), "correction")
    with pytest.raises(licence_applications.ApplicationError, match="补正不能改变审批机关"):
        licence_applications.update_selection(
            application, world.enterprise, "first", "制造", [item("爆破片装置").id]
        )
    db.session.rollback()
    db.session.refresh(application)
    assert application.authority_id == world.shaanxi.id
    assert [i.label for i in application.items] == ["安全阀B"]


# ---- bad input -----------------------------------------------------------------------------


def test_submit_with_missing_pages_names_them(world):
    application = draft(world, fill=False)
    with pytest.raises(workflows.GuardFailed) as exc:
        workflows.transition(application, "submit", world.enterprise)
    message = str(exc.value)
    assert "以下页面尚未填写完整" in message and "人员情况" in message and "其他说明" not in message
    db.session.rollback()
    db.session.refresh(application)
    assert application.status == "draft" and application.submitted_at is None


def test_submit_without_items(world):
    application = draft(world)
    application.items = []
    db.session.commit()
    with pytest.raises(workflows.GuardFailed, match="尚未选择许可项目"):
        workflows.transition(application, "submit", world.enterprise)
    db.session.rollback()
    assert db.session.get(LicenceApplication, application.id).status == "draft"


def test_items_of_another_licence_type_are_refused(world):
    lift = item("曳引驱动乘客电梯(含消防员电梯)", "B", licence_type="安装改造修理")
    with pytest.raises(licence_applications.ApplicationError, match="与所选许可类型“制造单位许可”不一致"):
        licence_applications.create(world.enterprise_org, world.enterprise, "first", "制造", [lift.id])
    application = draft(world)
    application.items = [item("安全阀", "B"), lift]  # as if the database had been tampered with
    db.session.commit()
    with pytest.raises(workflows.GuardFailed, match="不一致"):
        workflows.transition(application, "submit", world.enterprise)
    db.session.rollback()
    assert db.session.get(LicenceApplication, application.id).status == "draft"


def test_bad_category_type_and_unknown_items(world):
    for category, licence_type, ids, message in (
        ("again", "制造", [item("安全阀", "B").id], "请选择申请类别"),
        ("first", "飞行", [item("安全阀", "B").id], "请选择许可类型"),
        ("first", "制造", [], "请至少选择一个许可项目"),
        ("first", "制造", ["abc"], "不存在"),
        ("first", "制造", [999999], "不存在"),
    ):
        with pytest.raises(licence_applications.ApplicationError, match=message):
            licence_applications.create(world.enterprise_org, world.enterprise, category, licence_type, ids)
    db.session.rollback()
    assert db.session.execute(select(func.count(LicenceApplication.id))).scalar_one() == 0


def test_review_dates_in_the_past_are_refused(world):
    application = advance(world, draft(world), "engaged")
    yesterday = workdays.today() - timedelta(days=1)
    for start, end, message in (
        (yesterday, yesterday, "已经过去"),
        (workdays.today() + timedelta(days=5), workdays.today() + timedelta(days=2), "不能早于开始日期"),
        ("2026-13-40", None, "评审开始日期不是有效日期"),
    ):
        with pytest.raises(workflows.GuardFailed, match=message):
            workflows.transition(application, "propose_dates", world.assessor, start=start, end=end)
        db.session.rollback()
    db.session.refresh(application)
    assert application.proposed_start is None and application.status == "engaged"


def test_confirming_a_proposal_that_became_past_is_refused(world, monkeypatch):
    application = advance(world, draft(world), "engaged")
    start = workdays.today() + timedelta(days=3)
    workflows.transition(application, "propose_dates", world.assessor, start=start, end=start)
    db.session.commit()
    monkeypatch.setattr(workdays, "today", lambda: start + timedelta(days=1))
    with pytest.raises(workflows.GuardFailed, match="请重新协商评审时间"):
        workflows.transition(application, "confirm_dates", world.enterprise)
    db.session.rollback()
    assert db.session.get(LicenceApplication, application.id).status == "engaged"


def test_double_click_is_refused_and_changes_nothing(world):
    application = advance(world, draft(world), "submitted")
    data = action_data(world, "accept", application)
    workflows.transition(application, "accept", world.sn_reviewer, expected_state="submitted", **data)
    db.session.commit()
    token = application.acceptance_token
    with pytest.raises(workflows.StaleTransition):
        workflows.transition(application, "accept", world.sn_reviewer, expected_state="submitted", **data)
    db.session.rollback()
    with pytest.raises(workflows.IllegalState):
        workflows.transition(application, "accept", world.sn_reviewer, **data)
    db.session.rollback()
    db.session.refresh(application)
    assert application.acceptance_token == token and application.status == "accepted"
    events = db.session.execute(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.object_type == "LicenceApplication",
            AuditEvent.object_id == application.id,
            AuditEvent.action == "accept",
        )
    ).scalar_one()
    assert events == 1


def test_same_proposal_twice_is_refused(world):
    application = advance(world, draft(world), "engaged")
    start = workdays.today() + timedelta(days=3)
    workflows.transition(application, "propose_dates", world.assessor, start=start, end=start)
    db.session.commit()
    with pytest.raises(workflows.GuardFailed, match="相同的评审时间"):
        workflows.transition(application, "propose_dates", world.assessor, start=start, end=start)
    db.session.rollback()


def test_accept_needs_an_assessment_institution(world):
    application = advance(world, draft(world), "submitted")
    for data in ({}, {"assessor_org_id": world.enterprise_org.id}, {"assessor_org_id": "x"}):
        with pytest.raises(workflows.GuardFailed, match="鉴定评审机构"):
            workflows.transition(application, "accept", world.sn_reviewer, **data)
        db.session.rollback()
    assert db.session.get(LicenceApplication, application.id).status == "submitted"


def test_grant_needs_a_unique_number_and_a_future_validity(world):
    first = advance(world, draft(world), "granted")
    application = advance(world, draft(world), "reviewed")
    today = workdays.today()
    for data, message in (
        ({"licence_number": "", "valid_until": today + timedelta(days=900)}, "请填写许可证编号"),
        ({"licence_number": first.licence_number, "valid_until": today + timedelta(days=900)}, "已被使用"),
        # The same number typed in lower case or with a full-width dash is the same number.
        (
            {
                "licence_number": first.licence_number.lower().replace("-", "－"),
                "valid_until": today.replace(year=today.year + 3),
            },
            "已被使用",
        ),
        ({"licence_number": "TS2261999-2030", "valid_until": today - timedelta(days=1)}, "有效期至必须晚于"),
        # TSG 07-2019 附件 A: TS + 4 digits + 3 serial characters + "-" + year.
        *(
            ({"licence_number": bad, "valid_until": today + timedelta(days=900)}, "许可证编号格式不正确")
            for bad in (
                "TS-NEW",
                "Z",
                "TS226100-2030",
                "TS22610012-2030",
                "TS2261001",
                "TS2261001-30",
                "XS2261001-2030",
                "TS2261001-1890",
            )
        ),
    ):
        with pytest.raises(workflows.GuardFailed, match=message):
            workflows.transition(application, "grant", world.sn_reviewer, **data)
        db.session.rollback()
    assert db.session.get(LicenceApplication, application.id).status == "reviewed"


def test_grant_accepts_a_tsg07_number_and_stores_it_normalised(world):
    application = advance(world, draft(world), "reviewed")
    today = workdays.today()
    workflows.transition(
        application,
        "grant",
        world.sn_reviewer,
        licence_number=" ts2261a63－2030 ",
        valid_until=today.replace(year=today.year + 4),
    )
    db.session.commit()
    assert db.session.get(LicenceApplication, application.id).licence_number == "TS2261A63-2030"


def test_a_failed_review_cannot_be_granted(world):
    application = advance(world, draft(world), "scheduled")
    workflows.transition(
        application,
        "submit_report",
        world.assessor,
        report=_upload(world),
        conclusion="fail",
        comment="不合格",
    )
    db.session.commit()
    data = action_data(world, "grant", application)
    with pytest.raises(workflows.GuardFailed, match="不能准予许可"):
        workflows.transition(application, "grant", world.sn_reviewer, **data)
    db.session.rollback()


def _upload(world):
    from tests.licences.fixtures import fake_upload

    return fake_upload(world.assessor)


# ---- numbers -------------------------------------------------------------------------------


def test_numbers_are_date_plus_daily_sequence(world):
    a, b = draft(world), draft(world)
    prefix = workdays.today().strftime("%Y%m%d")
    assert a.number == f"{prefix}00001" and b.number == f"{prefix}00002"
    assert licence_applications.next_number(date(2020, 12, 6)) == "2020120600001"
    assert licence_applications.next_number(date(2020, 12, 6)) == "2020120600002"


def test_numbers_are_unique_under_concurrent_creation(app, world):
    ids = [i.id for i in [item("安全阀", "B")]]
    org_id, user_id = world.enterprise_org.id, world.enterprise.id
    numbers, errors = [], []

    def worker():
        with app.app_context():
            try:
                from ecqs.models import Organization, User

                for _ in range(5):
                    org = db.session.get(Organization, org_id)
                    user = db.session.get(User, user_id)
                    application = licence_applications.create(org, user, "first", "制造", ids)
                    db.session.commit()
                    numbers.append(application.number)
            except Exception as exc:  # collected and asserted below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(numbers) == 20 and len(set(numbers)) == 20


# ---- statutory clock -----------------------------------------------------------------------


def test_clock_correction_notice_due_in_five_working_days(world, monkeypatch):
    application = advance(world, draft(world), "submitted")
    received = workdays._as_date(application.received_at)
    due = workdays.add_working_days(received, 5)
    assert licence_clock.deadline(application) == due
    status = licence_clock.status(application, today=received)
    assert status.remaining == 5 and "补正告知期限剩余 5 个工作日" in status.text
    late = licence_clock.status(application, today=workdays.add_working_days(due, 2))
    assert late.remaining == -2 and "已超期 2 个工作日" in late.text and late.level == "danger"


def test_clock_pauses_during_correction_and_expert_review(world, monkeypatch):
    day = {"today": date(2026, 3, 2)}  # a Monday
    monkeypatch.setattr(workdays, "today", lambda: day["today"])
    application = advance(world, draft(world), "submitted")
    workflows.transition(application, "request_correction", world.sn_reviewer, comment="1. 补充")
    db.session.commit()
    assert licence_clock.deadline(application) is None
    assert "不计时" in licence_clock.status(application).text
    workflows.transition(application, "resubmit", world.enterprise)
    data = action_data(world, "accept", application)
    workflows.transition(application, "accept", world.sn_reviewer, **data)
    db.session.commit()
    assert application.clock_started_on == date(2026, 3, 2)
    assert licence_clock.deadline(application) == workdays.add_working_days(date(2026, 3, 2), 20)
    day["today"] = date(2026, 3, 9)  # 5 working days later
    workflows.transition(application, "engage", world.enterprise)
    db.session.commit()
    assert application.clock_used_days == 5 and licence_clock.deadline(application) is None
    assert "已用 5 个工作日" in licence_clock.status(application).text
    day["today"] = date(2026, 4, 13)  # the expert review took five weeks
    workflows.transition(
        application, "propose_dates", world.assessor, start=date(2026, 4, 14), end=date(2026, 4, 15)
    )
    workflows.transition(application, "confirm_dates", world.enterprise)
    day["today"] = date(2026, 4, 20)
    workflows.transition(
        application, "submit_report", world.assessor, report=_upload(world), conclusion="pass"
    )
    db.session.commit()
    due = workdays.add_working_days(date(2026, 4, 20), 15)
    assert licence_clock.deadline(application) == due
    assert licence_clock.status(application).remaining == 15


def test_inbox_sorts_by_deadline_and_flags_breaches(app, world):
    from ecqs.services import inbox

    new = advance(world, draft(world), "submitted")
    old = advance(world, draft(world), "submitted")
    old.received_at = old.received_at - timedelta(days=30)
    db.session.commit()
    with app.test_request_context():
        items = [i for i in inbox.items_for(world.sn_reviewer) if "生产许可申请" in i.title]
        assert [old.number in items[0].title, new.number in items[1].title] == [True, True]
        assert items[0].overdue and not items[1].overdue
        assert not [i for i in inbox.items_for(world.bj_reviewer) if "生产许可申请" in i.title]


# ---- notices and timeline ------------------------------------------------------------------


def test_each_decision_notifies_the_enterprise_in_app_and_by_sms(world):
    application = advance(world, draft(world), "granted")
    titles = [
        n.title
        for n in db.session.execute(
            select(Notification).where(Notification.user_id == world.enterprise.id).order_by(Notification.id)
        ).scalars()
    ]
    assert any("已受理" in t for t in titles) and any("准予许可" in t for t in titles)
    sms = [
        m.body
        for m in db.session.execute(
            select(SmsMessage).where(SmsMessage.mobile == world.enterprise.mobile)
        ).scalars()
    ]
    assert any("已受理" in body for body in sms) and any("准予许可" in body for body in sms)
    steps = [
        e.action
        for e in db.session.execute(
            select(AuditEvent)
            .where(AuditEvent.object_type == "LicenceApplication", AuditEvent.object_id == application.id)
            .order_by(AuditEvent.id)
        ).scalars()
    ]
    assert steps == [
        None,  # record_created
        "submit",
        "accept",
        "engage",
        "propose_dates",
        "confirm_dates",
        "submit_report",
        "grant",
    ]


def test_correction_round_keeps_points_and_notifies(world):
    application = advance(world, draft(world), "submitted")
    workflows.transition(
        application, "request_correction", world.sn_reviewer, comment="补充质量手册\n\n补充人员证书 "
    )
    db.session.commit()
    assert application.correction_points == "补充质量手册\n补充人员证书"
    sms = (
        db.session.execute(select(SmsMessage).where(SmsMessage.mobile == world.enterprise.mobile))
        .scalars()
        .all()
    )
    assert any("需要补正" in m.body for m in sms)
    workflows.transition(application, "resubmit", world.enterprise)
    db.session.commit()
    assert application.status == "submitted"
