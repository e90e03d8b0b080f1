"""在线提问解答 (ask, answer, follow up; unanswered in the staff inbox; every state × action ×
role) and 公示通知 / 会员通知 on the unit's home page, newest first, with read marks."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from ecqs import workflows
from ecqs.extensions import db
from ecqs.models import Notification, RegistryNotice, RegistryNoticeRead, UnitQuestion, utcnow
from ecqs.registry import operations
from ecqs.services import inbox
from tests.conftest import flashes, login, make_user
from tests.registry.fixtures import PNG, not_an_image, png

ROLES = ("person", "enterprise", "metrology", "assessor", "unit", "reviewer", "association", "admin")


def _ask(unit, **kw):
    row = operations.ask_question(unit.admin, kw.pop("title", "如何办理变更？"), "具体流程是什么？", **kw)
    db.session.commit()
    return row


def test_question_state_action_role(unit, other_unit):
    actors = {role: unit.admin if role == "unit" else make_user(role) for role in ROLES}
    allowed = {("open", "answer"): {"association", "admin"}, ("answered", "follow_up"): {"unit"}}
    for state in ("open", "answered"):
        for action in ("answer", "follow_up"):
            for role, actor in actors.items():
                q = _ask(unit)
                if state == "answered":
                    q.status, q.answer, q.answered_at = "answered", "答", utcnow()
                    db.session.commit()
                assert workflows.can(q, action, actor) is (role in allowed.get((state, action), set())), (
                    state,
                    action,
                    role,
                )
    answered = _ask(unit)
    workflows.transition(answered, "answer", actors["association"], comment="答")
    assert not workflows.can(answered, "follow_up", other_unit.admin)  # another unit's question


def test_ask_answer_follow_up_thread_and_inbox(app, unit, casei):
    q = _ask(unit, attachment=png())
    with app.test_request_context():
        assert any("如何办理变更" in item.title for item in inbox.items_for(casei))
    with pytest.raises(workflows.CommentRequired):
        workflows.transition(q, "answer", casei)
    workflows.transition(q, "answer", casei, comment="请在单位信息变更中提交申请")
    db.session.commit()
    assert (q.status, q.answer) == ("answered", "请在单位信息变更中提交申请")
    assert db.session.execute(select(Notification).where(Notification.user_id == unit.admin.id)).scalar()
    workflows.transition(q, "follow_up", unit.sub, comment="证明材料需要盖章吗？")
    db.session.commit()
    assert (q.status, q.answer) == ("open", None)
    client = app.test_client()
    login(client, unit.admin)
    page = client.get(f"/admin/unit_questions/details/?id={q.id}").get_data(as_text=True)
    assert "请在单位信息变更中提交申请" in page and "证明材料需要盖章吗？" in page  # the thread


def test_bad_question_changes_nothing(unit):
    for kwargs, message in (
        ({"title": " "}, "请填写问题标题和内容"),
        ({"attachment": not_an_image()}, "JPG、PNG"),
    ):
        with pytest.raises(operations.RegistryError, match=message):
            operations.ask_question(unit.admin, kwargs.get("title", "标题"), "内容", kwargs.get("attachment"))
        db.session.rollback()
    assert db.session.execute(select(func.count(UnitQuestion.id))).scalar() == 0


def test_question_over_http(client, unit):
    login(client, unit.admin)
    data = {"title": "资质到期怎么办", "body": "请问流程", "attachment": (io.BytesIO(PNG), "a.png")}
    response = client.post("/admin/unit_questions/new/", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, flashes(response)
    assert "资质到期怎么办" in client.get("/admin/unit_questions/").get_data(as_text=True)


def test_notices_newest_first_with_read_marks(app, unit, casei):
    staff = app.test_client()
    login(staff, casei)
    for kind, title in (("publicity", "第一批公示"), ("member", "会费通知"), ("publicity", "第二批公示")):
        response = staff.post(
            "/admin/registry_notices/new/", data={"kind": kind, "title": title, "body": "正文"}
        )
        assert response.status_code == 302, flashes(response)
    client = app.test_client()
    login(client, unit.admin)
    page = client.get("/admin/").get_data(as_text=True)
    assert page.index("第二批公示") < page.index("第一批公示")
    assert page.count('data-read="0"') == 3
    second = db.session.execute(
        select(RegistryNotice).where(RegistryNotice.title == "第二批公示")
    ).scalar_one()
    assert client.get(f"/admin/unit_notices/details/?id={second.id}").status_code == 200
    client.get(f"/admin/unit_notices/details/?id={second.id}")
    assert db.session.execute(select(func.count(RegistryNoticeRead.id))).scalar() == 1
    page = client.get("/admin/").get_data(as_text=True)
    assert page.count('data-read="0"') == 2 and page.count('data-read="1"') == 1
    other = app.test_client()
    login(other, unit.sub)
    assert other.get("/admin/").get_data(as_text=True).count('data-read="0"') == 3  # marks are per user
