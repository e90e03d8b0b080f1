"""The registry's state tables over every state × action × role, and what each decision does:
unit registration review (3 working days, SMS + notice), change requests applied atomically
(信息变更 / 单位拆分 / 单位合并), qualification requests (待审核 → 通过 / 驳回, 30-day expiry flag)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from ecqs import workflows
from ecqs.extensions import db
from ecqs.models import (
    Notification,
    Organization,
    OrganizationQualification,
    SmsMessage,
    UnitChangeRequest,
    UnitQualificationRequest,
    User,
    utcnow,
)
from ecqs.registry import rules
from ecqs.registry import workflows as registry_workflows
from ecqs.services import workdays
from tests.conftest import make_org, make_uscc, make_user
from tests.registry.fixtures import add_branch, file_change, file_qualification

ROLES = ("person", "enterprise", "metrology", "assessor", "unit", "reviewer", "association", "admin")
STATES = ("pending", "approved", "rejected")
ALLOWED = {("pending", "approve"): {"association", "admin"}, ("pending", "reject"): {"association", "admin"}}


def _actor(role, unit):
    if role == "unit":
        return unit.admin
    return make_user(role)


@pytest.mark.parametrize("kind", ["change", "qualification"])
def test_every_state_action_role(unit, kind):
    actors = {role: _actor(role, unit) for role in ROLES}
    for state in STATES:
        for action in ("approve", "reject"):
            for role, actor in actors.items():
                row = (
                    file_change(unit.admin, values={"name": f"新名称{state}{action}{role}"})
                    if kind == "change"
                    else file_qualification(unit.admin)
                )
                if state != "pending":
                    row.status, row.decided_at = state, utcnow()
                    db.session.commit()
                allowed = role in ALLOWED.get((state, action), set())
                assert workflows.can(row, action, actor) is allowed, (kind, state, action, role)
                if allowed:
                    workflows.transition(row, action, actor, comment="原因")
                    db.session.commit()
                    assert row.status == ("approved" if action == "approve" else "rejected")
                else:
                    with pytest.raises(workflows.WorkflowError):
                        workflows.transition(row, action, actor, comment="原因")
                    db.session.rollback()
                # one open change request per unit: close this one before the next
                if kind == "change" and row.status == "pending":
                    row.status, row.decided_at = "rejected", utcnow()
                    db.session.commit()


def test_unit_registration_review_three_working_days_sms_and_notice(casei):
    org = make_org("unit", status="pending")
    admin = make_user("unit", org=org)
    wf = workflows.workflow_for(org)
    assert wf.deadline(org) == workdays.add_working_days(org.submitted_at, 3)
    enterprise = make_org("enterprise", status="pending")
    assert wf.deadline(enterprise) == workdays.add_working_days(enterprise.submitted_at, 2)
    with pytest.raises(workflows.CommentRequired):
        workflows.transition(org, "reject", casei)
    workflows.transition(org, "reject", casei, comment="营业执照不清晰")
    db.session.commit()
    assert org.status == "rejected" and org.reject_reason == "营业执照不清晰"
    assert db.session.execute(select(SmsMessage).where(SmsMessage.mobile == admin.mobile)).scalar()
    assert db.session.execute(select(Notification).where(Notification.user_id == admin.id)).scalar()
    workflows.transition(org, "resubmit", admin)
    workflows.transition(org, "approve", casei)
    db.session.commit()
    assert org.is_approved


def test_info_change_applies_on_approval_only(unit, casei):
    row = file_change(unit.admin, values={"name": "广东华胜检验检测有限公司", "postcode": "053901"})
    assert row.current_values["name"] == "广东华胜检验有限公司"
    assert rules.changed_fields(row.current_values, row.requested_values) == ["name", "postcode"]
    assert unit.org.name == "广东华胜检验有限公司"
    workflows.transition(row, "approve", casei)
    db.session.commit()
    db.session.refresh(unit.org)
    assert (unit.org.name, unit.org.postcode, unit.org.legal_rep_name) == (
        "广东华胜检验检测有限公司",
        "053901",
        "王霓",
    )
    notice = db.session.execute(select(Notification).where(Notification.user_id == unit.admin.id)).scalar()
    assert "已审核通过" in notice.title


def test_reject_changes_nothing(unit, casei):
    row = file_change(unit.admin, values={"legal_rep_name": "李四"})
    workflows.transition(row, "reject", casei, comment="证明材料不全")
    db.session.commit()
    assert unit.org.legal_rep_name == "王霓" and row.reject_reason == "证明材料不全"


def test_merge_keeps_every_account_branch_and_qualification(unit, other_unit, casei):
    add_branch(other_unit, "北京分部")
    sub = make_user("unit", org=other_unit.org, is_org_admin=False)
    q = file_qualification(other_unit.admin)
    workflows.transition(q, "approve", casei)
    db.session.commit()
    before_users = db.session.execute(select(func.count(User.id))).scalar()
    row = file_change(unit.admin, "merge", partner_uscc=other_unit.org.uscc)
    workflows.transition(row, "approve", casei)
    db.session.commit()
    absorbed = db.session.get(Organization, other_unit.org.id)
    assert absorbed.parent_id == unit.org.id
    branches = set(rules.branch_ids(unit.org))
    assert absorbed.id in branches and len(branches) == 2
    assert db.session.get(User, sub.id).organization_id == unit.org.id
    assert db.session.get(User, other_unit.admin.id).is_org_admin is False
    assert db.session.execute(select(func.count(User.id))).scalar() == before_users
    assert {oq.organization_id for oq in db.session.execute(select(OrganizationQualification)).scalars()} == {
        unit.org.id
    }
    assert db.session.get(UnitQualificationRequest, q.id).organization_id == unit.org.id


def test_split_creates_the_new_unit_with_its_branches(unit, casei):
    keep = add_branch(unit, "留下的分部")
    leave = add_branch(unit, "拆出的分部")
    new_uscc = make_uscc()
    row = file_change(
        unit.admin, "split", {"name": "华胜新公司", "uscc": new_uscc}, split_branch_ids=[leave.id]
    )
    workflows.transition(row, "approve", casei)
    db.session.commit()
    new_unit = row.created_unit
    assert (new_unit.name, new_unit.uscc, new_unit.status) == ("华胜新公司", new_uscc, "approved")
    assert db.session.get(Organization, leave.id).parent_id == new_unit.id
    assert db.session.get(Organization, keep.id).parent_id == unit.org.id


def test_merge_refused_at_approval_if_partner_went_under_review(unit, other_unit, casei):
    row = file_change(unit.admin, "merge", partner_uscc=other_unit.org.uscc)
    other_unit.org.status, other_unit.org.approved_at = "pending", None
    db.session.commit()
    with pytest.raises(workflows.GuardFailed, match="审核中"):
        workflows.transition(row, "approve", casei)
    db.session.rollback()
    assert db.session.get(UnitChangeRequest, row.id).status == "pending"
    assert db.session.get(Organization, other_unit.org.id).parent_id is None


def test_qualification_approval_records_the_qualification_and_expiry_flag(unit, casei):
    row = file_qualification(unit.admin, valid_until=date.today() + timedelta(days=20))
    workflows.transition(row, "approve", casei)
    db.session.commit()
    held = db.session.execute(select(OrganizationQualification)).scalar_one()
    assert (held.organization_id, held.number, held.name) == (unit.org.id, "TS7110001-2027", "型式试验机构")
    today = workdays.today()
    assert rules.expiry_flag(today + timedelta(days=30), today) == "expiring"
    assert rules.expiry_flag(today + timedelta(days=31), today) is None
    assert rules.expiry_flag(today - timedelta(days=1), today) == "expired"


def test_overdue_review_is_flagged():
    assert rules.is_overdue(workdays.today() - timedelta(days=1))
    assert not rules.is_overdue(workdays.today() - timedelta(days=1), pending=False)
    assert not rules.is_overdue(workdays.today())


def test_staff_decision_is_the_pair_of_every_registry_review():
    """One factory writes the staff's 审核通过 / 驳回 pair; what varies is passed in."""

    def effect(obj, actor, data):
        pass

    def guard(obj, actor, data):
        pass

    def after(obj, actor, data):
        return []

    approve, reject = registry_workflows.staff_decision(effect)
    assert (approve.action, str(approve.label), approve.sources, approve.target) == (
        "approve",
        "审核通过",
        ("pending",),
        "approved",
    )
    assert (approve.effect, approve.guard, approve.after, approve.confirm, approve.bulk) == (
        effect,
        None,
        None,
        None,
        True,
    )
    assert (reject.action, str(reject.label), reject.sources, reject.target) == (
        "reject",
        "驳回",
        ("pending",),
        "rejected",
    )
    assert reject.needs_comment and reject.bulk and reject.guard is None
    assert approve.roles == reject.roles == registry_workflows.STAFF
    assert (approve.style, reject.style) == ("success", "danger")

    approve, reject = registry_workflows.staff_decision(
        effect,
        guard=guard,
        confirm="确定吗？",
        bulk=False,
        after=after,
        source="submitted",
        approved="passed",
        rejected="failed",
        labels=("通过", "不通过"),
    )
    assert (approve.sources, approve.target, approve.label) == (("submitted",), "passed", "通过")
    assert (approve.guard, approve.after, approve.confirm, approve.bulk) == (guard, after, "确定吗？", False)
    assert (reject.sources, reject.target, reject.label) == (("submitted",), "failed", "不通过")
    assert reject.bulk  # a rejection is offered in bulk whatever the approval does

    # The rejection records the reason and the moment, on any registry request.
    request = UnitQualificationRequest()
    reject.effect(request, None, {"comment": "证书不清晰"})
    assert request.reject_reason == "证书不清晰" and request.decided_at is not None
