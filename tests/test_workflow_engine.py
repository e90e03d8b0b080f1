"""The engine itself (ecqs/workflows.py), on a small state table of its own: inputs declared on
a transition are parsed before the guard, follow-up transitions run after the state is set and
are audited after it, a stale version is refused, and nothing changes on a refusal."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from ecqs import workflows
from ecqs.extensions import db
from ecqs.models import AuditEvent, Organization, utcnow
from ecqs.workflows import Field, Then, Transition, Workflow
from tests.conftest import make_org, make_user

ADMIN = frozenset({"admin"})
CALLS: list[str] = []


def _effect(org, actor, data):
    CALLS.append(f"effect {data.get('when')} {data.get('note')}")
    org.contact_name = data.get("note") or org.contact_name
    org.approved_at = utcnow()


def _then_close(org, actor, data):
    return [Then(other, "close") for other in data.get("others", ())]


def _guard(org, actor, data):
    if data.get("when") and data["when"] < date(2026, 1, 1):
        raise workflows.GuardFailed("太早")


TOY = Workflow(
    name="toy",
    model=Organization,
    states={"pending": "待审核", "approved": "已通过", "rejected": "已驳回"},
    transitions=(
        Transition(
            "open",
            "打开",
            ("pending",),
            "approved",
            ADMIN,
            guard=_guard,
            effect=_effect,
            fields=(
                Field("when", "日期", kind="date"),
                Field("note", "说明", required=False, max_length=5),
                Field("colour", "颜色", kind="choice", required=False, choices=lambda o, a: [("red", "红")]),
            ),
            after=_then_close,
        ),
        Transition("close", "关闭", ("pending",), "rejected", ADMIN),
    ),
    title=lambda org: org.name,
)


@pytest.fixture
def toy():
    saved = workflows.WORKFLOWS.get(Organization)
    workflows.WORKFLOWS[Organization] = TOY
    CALLS.clear()
    yield TOY
    workflows.WORKFLOWS[Organization] = saved


def _events(org_ids):
    rows = db.session.execute(
        select(AuditEvent.object_id, AuditEvent.action)
        .where(AuditEvent.event == "transition", AuditEvent.object_type == "Organization")
        .order_by(AuditEvent.id)
    ).all()
    return [(int(oid), action) for oid, action in rows if int(oid) in org_ids]


def test_inputs_are_parsed_before_the_guard_and_reach_the_effect(app, toy):
    admin = make_user("admin")
    org = make_org(status="pending")
    workflows.transition(org, "open", admin, when="2026-03-01", note=" 好 ")
    assert org.status == "approved"
    assert CALLS == ["effect 2026-03-01 好"]


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "请填写日期"),
        ({"when": "2026-13-01"}, "日期不是有效日期"),
        ({"when": "2025-12-31"}, "太早"),
        ({"when": "2026-03-01", "note": "太长了太长了"}, "说明不能超过 5 个字"),
        ({"when": "2026-03-01", "colour": "blue"}, "请选择有效的颜色"),
    ],
)
def test_bad_inputs_are_refused_with_a_message_and_change_nothing(app, toy, inputs, message):
    admin = make_user("admin")
    org = make_org(status="pending")
    with pytest.raises(workflows.GuardFailed, match=message):
        workflows.transition(org, "open", admin, **inputs)
    db.session.rollback()
    assert db.session.get(Organization, org.id).status == "pending"
    assert CALLS == []


def test_follow_ups_run_after_the_state_is_set_and_are_audited_after_it(app, toy):
    admin = make_user("admin")
    first, second, third = (make_org(status="pending") for _ in range(3))
    workflows.transition(first, "open", admin, when=date(2026, 5, 1), others=(second, third))
    assert (first.status, second.status, third.status) == ("approved", "rejected", "rejected")
    assert _events({first.id, second.id, third.id}) == [
        (first.id, "open"),
        (second.id, "close"),
        (third.id, "close"),
    ]


def test_a_refused_follow_up_refuses_the_whole_transition(app, toy):
    admin = make_user("admin")
    first = make_org(status="pending")
    done = make_org(status="approved")
    with pytest.raises(workflows.IllegalState):
        workflows.transition(first, "open", admin, when=date(2026, 5, 1), others=(done,))
    db.session.rollback()
    assert db.session.get(Organization, first.id).status == "pending"


def test_a_stale_version_is_refused(app, toy):
    admin = make_user("admin")
    org = make_org(status="pending")
    with pytest.raises(workflows.StaleTransition):
        workflows.transition(org, "close", admin, expected_version=org.version + 1)
    workflows.transition(org, "close", admin, expected_version=org.version)
    assert org.status == "rejected"
