"""Unit tests of M0: validators, masking, working days and the M0 workflow tables over every
state x action x role."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text, update
from stdnum.cn import ric, uscc

from ecqs import workflows
from ecqs.extensions import db
from ecqs.models import ORG_ROLES, AuditEvent, EnterpriseLink, Organization
from ecqs.services import validators, workdays
from ecqs.services.masking import mask_id_number, mask_mobile
from tests.accounts.fixtures import count
from tests.conftest import make_org, make_user

# ---- validators ---------------------------------------------------------------------------------

GOOD_USCC = "91610113MA0000001" + uscc.calc_check_digit("91610113MA0000001")
GOOD_ID = "61011319900101123" + ric.calc_check_digit("61011319900101123" + "0")


def _flip(value: str) -> str:
    last = value[-1]
    return value[:-1] + ("1" if last != "1" else "2")


def test_uscc_checksum():
    assert validators.clean_uscc(GOOD_USCC) == GOOD_USCC
    assert validators.clean_uscc(" " + GOOD_USCC.lower() + " ") == GOOD_USCC
    for bad in (_flip(GOOD_USCC), GOOD_USCC[:-1], "", "X" * 18, GOOD_USCC + "0"):
        with pytest.raises(ValueError, match="统一社会信用代码不正确"):
            validators.clean_uscc(bad)


def test_resident_id_checksum_and_birth_date():
    assert validators.clean_id_number(GOOD_ID) == GOOD_ID
    assert validators.clean_id_number(GOOD_ID.lower()) == GOOD_ID
    bad_date = "61011319901301123"  # month 13
    for bad in (_flip(GOOD_ID), GOOD_ID[:-1], bad_date + ric.calc_check_digit(bad_date + "0"), "", "abc"):
        with pytest.raises(ValueError, match="身份证号码不正确"):
            validators.clean_id_number(bad)


def _with_check(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


@pytest.mark.parametrize(
    "number",
    [
        "610113197207201057",  # 雁塔区 (1983-) holder born 1972: issue 11's example
        _with_check("61011319650315002"),  # 雁塔区, born 1965
        _with_check("11011519580101003"),  # 北京大兴区 (2001-), born 1958
        _with_check("11010319700101004"),  # 北京崇文区 (-2010), born 1970: a code since retired
        _with_check("11011019500101005"),  # 北京燕山区 (-1986), born 1950
    ],
)
def test_resident_id_of_older_holders_with_codes_younger_or_older_than_their_birth(number):
    """A card keeps the code of the place of registration at issue, so a holder may be born
    before the code existed or carry a code since retired: any known code is accepted."""
    assert validators.clean_id_number(number) == number


def test_resident_id_unknown_division_or_impossible_birth_refused():
    future = (date.today().year + 1) * 10000 + 101
    for body in ("99999919800101001", "00000019800101001", f"610113{future}001", "61011318000101001"):
        with pytest.raises(ValueError, match="身份证号码不正确"):
            validators.clean_id_number(_with_check(body))


def test_x_check_digit_accepted():
    # Find a body whose check digit is X: the checksum is not only decimal.
    for n in range(1000):
        body = f"11010119800101{n:03d}"
        if ric.calc_check_digit(body + "0") == "X":
            assert validators.clean_id_number(body + "x") == body + "X"
            return
    pytest.fail("no X check digit found")


@pytest.mark.parametrize("mobile", ["13800138000", "19912345678", "16600001111"])
def test_mobile_ok(mobile):
    assert validators.clean_mobile(f" {mobile} ") == mobile


@pytest.mark.parametrize("mobile", ["12800138000", "1380013800", "138001380001", "+8613800138000", "", "abc"])
def test_mobile_bad(mobile):
    with pytest.raises(ValueError, match="手机号格式不正确"):
        validators.clean_mobile(mobile)


def test_password_policy():
    assert validators.password_problems("Good#Pass2026", "zhangsan") == []
    assert validators.password_problems("goodpass2026!", "zhangsan") == []  # 3 classes, no upper
    assert "密码长度应为 8 至 128 位" in validators.password_problems("Ab1!", None)
    assert "密码长度应为 8 至 128 位" in validators.password_problems("Aa1!" * 40, None)
    assert validators.password_problems("Aa1!" * 32, None) == []  # exactly 128
    assert any("至少三类" in p for p in validators.password_problems("abcdefgh12", None))
    assert any("至少三类" in p for p in validators.password_problems("ABCDEFGH!!", None))


def test_password_common_list_loaded():
    assert "admin@123" in validators.common_passwords()
    assert len(validators.common_passwords()) > 50
    assert "该密码过于常见，请更换" in validators.password_problems("Admin@123", None)
    assert "该密码过于常见，请更换" in validators.password_problems("ADMIN@123", None)


def test_password_may_not_contain_username():
    assert "密码不能包含用户名" in validators.password_problems("Xx_Zhangsan_2026", "zhangsan")
    assert "密码不能包含用户名" not in validators.password_problems("Xx_Lisi_2026!", "zhangsan")


def test_username_rule(app):
    from wtforms import Form, StringField

    class F(Form):
        username = StringField(validators=[validators.username_field])

    with app.test_request_context():
        assert F(data={"username": "zhang_san1"}).validate()
        for bad in ("1abc", "ab", "张三abc", "a" * 41, "abc def", "abc<x>"):
            assert not F(data={"username": bad}).validate(), bad


def test_masking():
    assert mask_id_number("34012319900101001X") == "340************01X"
    assert mask_mobile("13812341234") == "138****1234"
    assert mask_id_number(None) == "" and mask_mobile("") == ""
    assert mask_id_number("110101198001012345") == "110************345"


# ---- working days -------------------------------------------------------------------------------


def test_holidays_and_make_up_days():
    assert not workdays.is_working_day(date(2025, 10, 1))  # 国庆
    assert not workdays.is_working_day(date(2025, 10, 8))  # 国庆 + 中秋
    assert workdays.is_working_day(date(2025, 9, 28))  # Sunday, make-up working day
    assert workdays.is_working_day(date(2025, 10, 11))  # Saturday, make-up working day
    assert not workdays.is_working_day(date(2025, 10, 12))  # ordinary Sunday
    assert workdays.is_working_day(date(2025, 9, 30))


def test_deadline_across_national_day():
    # Two working days after Tuesday 30 September 2025: 9 and 10 October (1-8 October off).
    assert workdays.add_working_days(date(2025, 9, 30), 2) == date(2025, 10, 10)
    assert workdays.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    # From Saturday 27 September: the make-up Sunday 28th counts.
    assert workdays.add_working_days(date(2025, 9, 27), 1) == date(2025, 9, 28)
    assert workdays.add_working_days(date(2025, 10, 9), -1) == date(2025, 9, 30)
    assert workdays.working_days_between(date(2025, 9, 30), date(2025, 10, 10)) == 2
    assert workdays.working_days_between(date(2025, 10, 10), date(2025, 9, 30)) == -2
    assert workdays.working_days_between(date(2025, 10, 1), date(2025, 10, 1)) == 0


def test_deadline_from_timestamp_uses_beijing_date():
    # 17:00 UTC on 30 September is 01:00 on 1 October in Beijing: counting starts from the 1st.
    late = datetime(2025, 9, 30, 17, 0, tzinfo=UTC)
    assert workdays.add_working_days(late, 1) == date(2025, 10, 9)
    early = datetime(2025, 9, 30, 1, 0, tzinfo=UTC)
    assert workdays.add_working_days(early, 1) == date(2025, 10, 9)
    assert workdays.add_working_days(datetime(2025, 9, 29, 1, 0, tzinfo=UTC), 1) == date(2025, 9, 30)


def test_unknown_year_falls_back_to_weekdays():
    assert workdays.is_working_day(date(2099, 1, 5))  # a Monday
    assert not workdays.is_working_day(date(2099, 1, 4))  # a Sunday


# ---- the organisation review workflow: every state x action x role -----------------------------

ROLES = ["person", "enterprise", "metrology", "assessor", "unit", "reviewer", "association", "admin"]
ORG_STATES = ["pending", "approved", "rejected"]
ORG_ACTIONS = ["approve", "reject", "resubmit"]
# The expected table, written independently of workflows.py.
ORG_EXPECTED = {
    "approve": ({"pending"}, "approved", {"admin", "association"}),
    "reject": ({"pending"}, "rejected", {"admin", "association"}),
    "resubmit": ({"rejected"}, "pending", set(ORG_ROLES)),
}


def _org_in_state(kind: str, state: str) -> Organization:
    org = make_org(kind=kind, status=state)
    if state == "rejected":
        org.reject_reason = "材料不全"
        db.session.commit()
    return org


def _actor_for(role: str, org: Organization):
    """A user of `role` that is a party to `org` wherever the role can be one."""
    if role in ORG_ROLES:
        return make_user(role, org=org, is_org_admin=True)
    return make_user(role)


def _kind_for(role: str) -> str:
    return {"association": "unit", "metrology": "metrology", "assessor": "assessor", "unit": "unit"}.get(
        role, "enterprise"
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ORG_ACTIONS)
@pytest.mark.parametrize("state", ORG_STATES)
def test_organization_workflow_table(app, state, action, role):
    org = _org_in_state(_kind_for(role), state)
    actor = _actor_for(role, org)
    sources, target, roles = ORG_EXPECTED[action]
    before_events = count(AuditEvent, AuditEvent.event == "transition")
    version = org.version
    with app.test_request_context():
        if role in roles and state in sources:
            assert workflows.can(org, action, actor)
            workflows.transition(org, action, actor, comment="意见")
            db.session.commit()
            db.session.expire_all()
            assert org.status == target
            assert org.version == version + 1
            assert (org.approved_at is not None) == (target == "approved")
            if action == "reject":
                assert org.reject_reason == "意见"
            event = db.session.execute(
                select(AuditEvent).where(AuditEvent.event == "transition").order_by(AuditEvent.id.desc())
            ).scalar()
            assert (event.object_type, event.object_id, event.action) == ("Organization", org.id, action)
            assert (event.from_state, event.to_state, event.user_id) == (state, target, actor.id)
            assert event.comment == "意见"
        else:
            expected = workflows.NotPermitted if role not in roles else workflows.IllegalState
            assert not workflows.can(org, action, actor)
            with pytest.raises(expected) as info:
                workflows.transition(org, action, actor, comment="意见")
            assert str(info.value)  # a Chinese message for the user
            db.session.rollback()
            db.session.expire_all()
            assert org.status == state and org.version == version
            assert count(AuditEvent, AuditEvent.event == "transition") == before_events


def test_association_reviews_only_inspection_units(app):
    staff = make_user("association")
    enterprise = make_org(kind="enterprise", status="pending")
    with app.test_request_context(), pytest.raises(workflows.NotPermitted):
        workflows.transition(enterprise, "approve", staff)
    assert enterprise.status == "pending"


def test_resubmit_only_by_own_org_admin(app):
    org = _org_in_state("enterprise", "rejected")
    other_admin = make_user("enterprise", is_org_admin=True)
    sub_account = make_user("enterprise", org=org, is_org_admin=False)
    with app.test_request_context():
        for actor in (other_admin, sub_account):
            with pytest.raises(workflows.NotPermitted):
                workflows.transition(org, "resubmit", actor)
    assert org.status == "rejected"


def test_reject_needs_a_comment(app):
    org = make_org(status="pending")
    admin = make_user("admin")
    with app.test_request_context():
        for comment in (None, "", "   "):
            with pytest.raises(workflows.CommentRequired):
                workflows.transition(org, "reject", admin, comment=comment)
        with pytest.raises(workflows.GuardFailed):
            workflows.transition(org, "reject", admin, comment="x" * 2001)
    db.session.rollback()
    assert org.status == "pending"


def test_unknown_action_and_anonymous(app):
    from flask_login import AnonymousUserMixin

    org = make_org(status="pending")
    admin = make_user("admin")
    with app.test_request_context():
        with pytest.raises(workflows.UnknownAction):
            workflows.transition(org, "explode", admin)
        with pytest.raises(workflows.NotPermitted):
            workflows.transition(org, "approve", AnonymousUserMixin())
        with pytest.raises(workflows.NotPermitted):
            workflows.transition(org, "approve", None)


def test_stale_transition_by_expected_state(app):
    org = make_org(status="pending")
    admin = make_user("admin")
    with app.test_request_context():
        with pytest.raises(workflows.StaleTransition, match="已被他人处理"):
            workflows.transition(org, "approve", admin, expected_state="rejected")
        workflows.transition(org, "approve", admin, expected_state="pending")
        db.session.commit()
        # The second click of a double submit sees the state it expected is gone.
        with pytest.raises(workflows.StaleTransition):
            workflows.transition(org, "approve", admin, expected_state="pending")
    assert count(AuditEvent, AuditEvent.event == "transition") == 1


def test_stale_transition_by_version_column(app):
    """Another worker changed the row after we loaded it: exactly one effect survives."""
    org = make_org(status="pending")
    admin = make_user("admin")
    org_id = org.id
    assert org.status == "pending"  # loaded, version 1 in memory
    with db.engine.begin() as conn:
        conn.execute(
            update(Organization)
            .where(Organization.id == org_id)
            .values(status="rejected", reject_reason="另一审核员", version=Organization.version + 1)
        )
    with app.test_request_context(), pytest.raises(workflows.StaleTransition):
        workflows.transition(org, "approve", admin)
    db.session.expire_all()
    row = db.session.get(Organization, org_id)
    assert row.status == "rejected" and row.approved_at is None
    assert count(AuditEvent, AuditEvent.event == "transition") == 0


def test_status_check_constraint(app):
    org = make_org(status="pending")
    with pytest.raises(Exception):  # noqa: B017  (IntegrityError on every backend)
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE organizations SET status = 'approved' WHERE id = :i"), {"i": org.id})


# ---- the enterprise link workflow ----------------------------------------------------------------

LINK_STATES = ["pending", "approved", "rejected"]
LINK_ACTIONS = ["approve", "reject"]
LINK_EXPECTED = {
    "approve": ({"pending"}, "approved", {"enterprise"}),
    "reject": ({"pending"}, "rejected", {"enterprise"}),
}


def _link(state: str, org=None) -> EnterpriseLink:
    org = org or make_org(kind="enterprise")
    person = make_user("person")
    link = EnterpriseLink(person_id=person.id, organization_id=org.id, status=state)
    db.session.add(link)
    db.session.commit()
    return link


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", LINK_ACTIONS)
@pytest.mark.parametrize("state", LINK_STATES)
def test_enterprise_link_workflow_table(app, state, action, role):
    link = _link(state)
    if role == "enterprise":
        actor = make_user("enterprise", org=link.organization, is_org_admin=True)
    elif role == "person":
        actor = link.person
    else:
        actor = make_user(role)
    sources, target, roles = LINK_EXPECTED[action]
    with app.test_request_context():
        if role in roles and state in sources:
            workflows.transition(link, action, actor, comment="原因")
            db.session.commit()
            db.session.expire_all()
            assert link.status == target
            assert link.decided_at is not None
            assert link.reject_reason == ("原因" if action == "reject" else None)
            stmt = select(AuditEvent).where(AuditEvent.event == "transition")
            event = db.session.execute(stmt).scalar_one()
            assert (event.object_type, event.from_state, event.to_state) == ("EnterpriseLink", state, target)
            # The person hears about the decision.
            from ecqs.models import Notification

            assert count(Notification, Notification.user_id == link.person_id) == 1
        else:
            expected = workflows.NotPermitted if role not in roles else workflows.IllegalState
            with pytest.raises(expected):
                workflows.transition(link, action, actor, comment="原因")
            db.session.rollback()
            db.session.expire_all()
            assert link.status == state
            assert count(AuditEvent, AuditEvent.event == "transition") == 0


def test_link_decided_only_by_that_enterprises_admin(app):
    link = _link("pending")
    stranger = make_user("enterprise", is_org_admin=True)
    sub_account = make_user("enterprise", org=link.organization, is_org_admin=False)
    with app.test_request_context():
        for actor in (stranger, sub_account):
            with pytest.raises(workflows.NotPermitted):
                workflows.transition(link, "approve", actor)
    assert link.status == "pending"


def test_link_approval_refused_when_person_already_linked(app):
    first = _link("approved")
    second = EnterpriseLink(person_id=first.person_id, organization_id=make_org().id, status="pending")
    db.session.add(second)
    db.session.commit()
    admin = make_user("enterprise", org=second.organization, is_org_admin=True)
    with app.test_request_context(), pytest.raises(workflows.GuardFailed, match="已关联企业"):
        workflows.transition(second, "approve", admin)
    db.session.rollback()
    assert db.session.get(EnterpriseLink, second.id).status == "pending"


def test_concurrent_double_submit_has_one_effect(app):
    """Two workers approve the same organisation at once: one wins, the other is told it is stale.
    Needs real concurrent transactions, so it runs on PostgreSQL only."""
    import threading

    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    org = make_org(status="pending")
    admins = [make_user("admin"), make_user("admin")]
    org_id, admin_ids = org.id, [a.id for a in admins]
    barrier = threading.Barrier(2)
    outcomes = []

    def worker(admin_id):
        with app.app_context(), app.test_request_context():
            row = db.session.get(Organization, org_id)
            actor = db.session.get(type(admins[0]), admin_id)
            assert row.status == "pending"
            barrier.wait()
            try:
                workflows.transition(row, "approve", actor)
                db.session.commit()
                outcomes.append("done")
            except workflows.StaleTransition:
                db.session.rollback()
                outcomes.append("stale")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in admin_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["done", "stale"]
    db.session.expire_all()
    assert db.session.get(Organization, org_id).version == 2
    assert count(AuditEvent, AuditEvent.event == "transition") == 1
