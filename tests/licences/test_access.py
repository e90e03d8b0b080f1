"""Row scope of licence applications through every door: a reviewer of another authority, another
enterprise and an assessment institution not engaged can neither see nor act — list, details,
edit, delete, bulk actions, workflow endpoints, export, file download, documents, wizard."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import func, select

from ecqs import workflows
from ecqs.extensions import db
from ecqs.models import AuditEvent, LicenceApplication, LicenceReviewFeedback
from tests.licences.fixtures import (
    action_data,
    advance,
    draft,
)

VIEWS = ("licence_applications", "licence_review", "licence_tasks", "licence_negotiation", "licence_reports")
DOCUMENTS = ("details", "decision", "certificate", "notice", "negotiate", "feedback")


def full_application(world) -> LicenceApplication:
    """Granted after one correction round, with a report, and a feedback form."""
    application = advance(world, draft(world), "correction")
    workflows.transition(application, "resubmit", world.enterprise)
    for action, who in (
        ("accept", world.sn_reviewer),
        ("engage", world.enterprise),
        ("propose_dates", world.assessor),
        ("confirm_dates", world.enterprise),
        ("submit_report", world.assessor),
        ("grant", world.sn_reviewer),
    ):
        workflows.transition(application, action, who, **action_data(world, action, application))
    db.session.add(
        LicenceReviewFeedback(
            application=application,
            company_name="x",
            review_start=application.review_start,
            review_end=application.review_end,
            review_categories="压力容器",
            institution_name="x",
            reviewers="x",
            q1_has_issue=False,
            q2_has_issue=True,
            q2_detail="保密的反馈内容",
            q3_has_issue=False,
            satisfied=True,
        )
    )
    db.session.commit()
    return application


def transitions_recorded(application) -> int:
    return db.session.execute(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.object_type == "LicenceApplication",
            AuditEvent.object_id == application.id,
            AuditEvent.event == "transition",
        )
    ).scalar_one()


def xlsx_text(data: bytes) -> str:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return " ".join(str(c) for row in wb.active.iter_rows(values_only=True) for c in row if c is not None)


def assert_no_door_opens(client, application, number):
    aid = application.id
    for view in VIEWS:
        response = client.get(f"/admin/{view}/")
        assert response.status_code in (200, 403), view
        assert number not in response.get_data(as_text=True), view
        for doc in DOCUMENTS:
            response = client.get(f"/admin/{view}/{doc}/?id={aid}")
            assert response.status_code in (403, 404), (view, doc, response.status_code)
        for path in (f"print/{aid}/basic", f"print/{aid}/items", f"file/{aid}/report_upload"):
            assert client.get(f"/admin/{view}/{path}").status_code in (403, 404), (view, path)
        response = client.get(f"/admin/{view}/edit/?id={aid}")
        assert response.status_code in (302, 403, 404), view
        assert number not in response.get_data(as_text=True)
        response = client.post(f"/admin/{view}/delete/", data={"id": aid})
        assert response.status_code in (302, 403, 404), view
        for action in ("delete", "wf_accept", "wf_grant"):
            response = client.post(f"/admin/{view}/action/", data={"action": action, "rowid": [aid]})
            assert response.status_code in (302, 400, 403, 404), (view, action)
        for action in ("accept", "grant", "withdraw", "refuse", "confirm_dates"):
            for endpoint in ("transition", "act"):
                response = client.post(
                    f"/admin/{view}/{endpoint}/{aid}/{action}",
                    data={"expected_state": application.status, "comment": "x", "licence_number": "Z"},
                )
                assert response.status_code in (403, 404), (view, endpoint, action)
        response = client.post(f"/admin/{view}/ajax/update/", data={"list_form_pk": aid, "status": "draft"})
        assert response.status_code in (403, 404)
        response = client.get(f"/admin/{view}/export/xlsx/")
        if response.status_code == 200:
            assert number not in xlsx_text(response.data), view
        else:
            assert response.status_code in (302, 403), view
    for key in ("items", "basic", "submit"):
        assert client.get(f"/admin/licence_apply/{aid}/{key}").status_code in (403, 404)
        assert client.post(f"/admin/licence_apply/{aid}/{key}", data={"goto": key}).status_code in (403, 404)


@pytest.mark.parametrize("outsider", ["bj_reviewer", "samr_reviewer", "other_enterprise", "other_assessor"])
def test_outsiders_cannot_see_or_act(client, login_as, world, outsider):
    application = full_application(world)
    number, state, version = application.number, application.status, application.version
    events = transitions_recorded(application)
    login_as(getattr(world, outsider))
    assert_no_door_opens(client, application, number)
    db.session.expire_all()
    application = db.session.get(LicenceApplication, application.id)
    assert (application.status, application.version) == (state, version)
    assert transitions_recorded(application) == events
    denied = db.session.execute(
        select(func.count(AuditEvent.id)).where(AuditEvent.event == "access_denied")
    ).scalar_one()
    assert denied > 0


def test_other_province_reviewer_cannot_act_on_a_submitted_application(client, login_as, world):
    application = advance(world, draft(world), "submitted")
    login_as(world.bj_reviewer)
    for action, data in (
        ("accept", {"assessor_org_id": world.assessor_org.id}),
        ("request_correction", {"comment": "1. x"}),
    ):
        response = client.post(
            f"/admin/licence_review/transition/{application.id}/{action}",
            data=dict(data, expected_state="submitted"),
        )
        assert response.status_code == 404
    response = client.post(
        f"/admin/licence_review/transition/{application.id}/reject",
        data={"comment": "x", "expected_state": "submitted"},
    )
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(LicenceApplication, application.id).status == "submitted"
    assert application.number not in client.get("/admin/").get_data(as_text=True)  # inbox


def test_the_parties_do_see_it(client, login_as, world):
    application = full_application(world)
    for who, view in (
        (world.enterprise, "licence_applications"),
        (world.sn_reviewer, "licence_review"),
        (world.assessor, "licence_tasks"),
        (world.assessor, "licence_reports"),
        (world.admin, "licence_review"),
    ):
        login_as(who)
        assert application.number in client.get(f"/admin/{view}/").get_data(as_text=True), (who.role, view)
        assert client.get(f"/admin/{view}/details/?id={application.id}").status_code == 200
        assert client.get(f"/admin/{view}/certificate/?id={application.id}").status_code == 200
        response = client.get(f"/admin/{view}/export/xlsx/")
        assert response.status_code == 200 and application.number in xlsx_text(response.data)
        client.post("/logout")


def test_drafts_stay_with_the_enterprise(client, login_as, world):
    application = draft(world)
    login_as(world.sn_reviewer)
    assert application.number not in client.get("/admin/licence_review/").get_data(as_text=True)
    assert client.get(f"/admin/licence_review/details/?id={application.id}").status_code == 404


def test_assessor_sees_nothing_before_engagement(client, login_as, world):
    application = advance(world, draft(world), "accepted")
    login_as(world.assessor)
    assert application.number not in client.get("/admin/licence_tasks/").get_data(as_text=True)
    assert client.get(f"/admin/licence_tasks/details/?id={application.id}").status_code == 404
    assert client.get(f"/admin/licence_tasks/decision/?id={application.id}").status_code == 404


def test_reviewer_pages_refuse_enterprise_and_assessor(client, login_as, world):
    login_as(world.enterprise)
    assert client.get("/admin/licence_review/").status_code == 403
    assert client.get("/admin/licence_tasks/").status_code == 403
    client.post("/logout")
    login_as(world.sn_reviewer)
    assert client.get("/admin/licence_apply/").status_code == 403
    assert client.get("/admin/licence_tasks/").status_code == 403
