"""Certificates have a state table of their own: superseded by a renewal or change (audited as
a follow-up of 审核通过), revoked by a reviewer of the issuing authority with a reason; a
revoked certificate fails every check that needs a valid one."""

from __future__ import annotations

import pytest

from ecqs import workflows
from ecqs.extensions import db
from ecqs.qualifications import operations as qualification_operations
from ecqs.qualifications import rules as qualifications
from ecqs.services import audit, workdays
from tests.conftest import flashes
from tests.qualifications.fixtures import approve_data, drive_to, give_certificate, make_person, submit


def _transitions(obj) -> list[tuple[str, str, str]]:
    return [(e.action, e.from_state, e.to_state) for e in audit.timeline(obj) if e.event == "transition"]


def test_superseding_a_certificate_is_an_audited_transition(projects, reviewers):
    person = make_person("61")
    reviewer = reviewers["shaanxi"]
    old = give_certificate(person, projects["RT-II"], reviewer)
    app = submit(person, projects["RT-II"], "review_renewal")
    drive_to(app, "approved", reviewer, person)
    db.session.refresh(old)
    assert old.status == "superseded"
    assert _transitions(old) == [("supersede", "valid", "superseded")]
    event = next(e for e in audit.timeline(old) if e.event == "transition")
    assert event.user_id == reviewer.id  # the system, on behalf of the approving reviewer
    assert event.comment == app.certificate.number
    # The approval is audited before the follow-up it caused.
    approval = next(e for e in audit.timeline(app) if e.action == "approve")
    assert approval.id < event.id


def test_revoke_is_an_action_of_the_issuing_authority_with_a_reason(projects, reviewers):
    person = make_person("61")
    cert = give_certificate(person, projects["RT-II"], reviewers["shaanxi"])
    assert workflows.can(cert, "revoke", reviewers["shaanxi"])
    assert not workflows.can(cert, "revoke", reviewers["sichuan"])  # another authority
    assert not workflows.can(cert, "revoke", person)
    assert not workflows.can(cert, "supersede", reviewers["shaanxi"])  # only the system
    with pytest.raises(workflows.CommentRequired):
        workflows.transition(cert, "revoke", reviewers["shaanxi"], comment=" ")
    db.session.rollback()
    workflows.transition(cert, "revoke", reviewers["shaanxi"], comment="以欺骗手段取得证书")
    db.session.commit()
    assert cert.status == "revoked"
    assert _transitions(cert) == [("revoke", "valid", "revoked")]
    assert not workflows.can(cert, "revoke", reviewers["shaanxi"])  # once


def test_a_revoked_certificate_fails_the_checks_that_need_a_valid_one(projects, reviewers):
    person = make_person("61")
    reviewer = reviewers["shaanxi"]
    project = projects["RT-II"]
    cert = give_certificate(person, project, reviewer)
    renewal = submit(person, project, "exam_renewal")
    drive_to(renewal, "received", reviewer, person)
    workflows.transition(cert, "revoke", reviewer, comment="撤销")
    db.session.commit()
    today = workdays.today()
    assert not cert.is_current(today)
    assert qualifications.current_certificate(person, project.id, today) is None
    assert qualifications.valid_certificates(person.id_number, today) == []
    # The open renewal based on it can no longer be approved ...
    with pytest.raises(workflows.GuardFailed, match="已被撤销"):
        workflows.transition(renewal, "approve", reviewer, **approve_data())
    db.session.rollback()
    workflows.transition(renewal, "reject", reviewer, comment="原证书已撤销")
    db.session.commit()
    # ... and no new renewal or change can be based on it; 取证 is open again.
    for category in ("exam_renewal", "review_renewal", "change"):
        with pytest.raises(workflows.GuardFailed, match="有效资格证书"):
            qualification_operations.submit_qualification_application(person, project, category, remarks="x")
        db.session.rollback()
    assert submit(person, project, "initial").status == "pending"


def test_reviewer_revokes_from_the_certificate_page(client, login_as, projects, reviewers):
    person = make_person("61")
    cert = give_certificate(person, projects["RT-II"], reviewers["shaanxi"])
    login_as(reviewers["shaanxi"])
    url = "/admin/qualification_certificates"
    details = client.get(f"{url}/details/?id={cert.id}").get_data(as_text=True)
    assert 'data-action="revoke"' in details
    response = client.post(
        f"{url}/transition/{cert.id}/revoke",
        data={"expected_state": "valid", "comment": ""},
        follow_redirects=True,
    )
    assert "必须填写意见或原因" in flashes(response)
    response = client.post(
        f"{url}/transition/{cert.id}/revoke",
        data={"expected_state": "valid", "comment": "证书信息造假"},
        follow_redirects=True,
    )
    assert "操作成功" in flashes(response)
    db.session.refresh(cert)
    assert cert.status == "revoked"
    grid = client.get(f"{url}/").get_data(as_text=True)
    assert "已撤销" in grid
    client.post("/logout")
    # Another authority's reviewer neither sees nor reaches it; the holder reads it, without a button.
    login_as(reviewers["sichuan"])
    assert client.get(f"{url}/details/?id={cert.id}").status_code == 404
    client.post("/logout")
    login_as(person)
    mine = client.get(f"/admin/my_certificates/details/?id={cert.id}").get_data(as_text=True)
    assert "已撤销" in mine and 'data-action="revoke"' not in mine
