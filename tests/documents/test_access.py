"""Who reaches an application's files: the applicant, the reviewers of the authority it is
addressed to, the engaged assessment institution (licences); every other organisation, person
or role gets 403/404 by every door (details page, download URL, direct URL of the file id)."""

from __future__ import annotations

from ecqs.documents import rules as document_rules
from ecqs.documents import samples
from ecqs.extensions import db
from ecqs.qualifications import operations as qualification_operations
from tests.conftest import login
from tests.licences.fixtures import advance, draft
from tests.qualifications.fixtures import make_person


def status(app, user, url) -> int:
    client = app.test_client()
    login(client, user)
    return client.get(url).status_code


def test_licence_documents_through_the_application_scope(app, world, document_catalogue_loaded):
    application = advance(world, draft(world), "engaged")
    document = document_rules.current_documents(application)[0]
    download = f"/admin/licence_applications/document/{document.id}"
    details = f"/admin/licence_applications/details/?id={application.id}"
    for user in (world.enterprise, world.sn_reviewer, world.assessor):
        assert status(app, user, download) == 200, user.role
        assert status(app, user, details) == 200, user.role
    for user in (world.other_enterprise, world.bj_reviewer, world.samr_reviewer, world.other_assessor):
        assert status(app, user, download) in (403, 404), user.role
        assert status(app, user, details) in (403, 404), user.role
    for url in (
        f"/admin/licence_review/document/{document.id}",
        f"/admin/licence_tasks/document/{document.id}",
        "/admin/licence_applications/document/999999",
        "/admin/licence_applications/document/abc",
    ):
        assert status(app, world.other_enterprise, url) in (403, 404), url
    anonymous = app.test_client().get(download)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_assessor_sees_documents_only_once_engaged(app, world, document_catalogue_loaded):
    application = advance(world, draft(world), "accepted")
    document = document_rules.current_documents(application)[0]
    assert status(app, world.assessor, f"/admin/licence_applications/document/{document.id}") in (403, 404)


def test_draft_documents_are_the_applicant_s_alone(app, world, document_catalogue_loaded):
    application = draft(world)
    document = document_rules.current_documents(application)[0]
    assert status(app, world.enterprise, f"/admin/licence_applications/document/{document.id}") == 200
    assert status(app, world.sn_reviewer, f"/admin/licence_applications/document/{document.id}") in (403, 404)


def test_qualification_documents_through_the_application_scope(
    app, projects, authorities, reviewers, document_catalogue_loaded
):
    person, stranger = make_person("61"), make_person("61")
    needed = document_rules.requirements("qualification", "无损检测人员", "initial")
    application = qualification_operations.submit_qualification_application(
        person, projects["RT-II"], "initial", documents=samples.sample_documents(needed)
    )
    db.session.commit()
    document = application.documents[0]
    mine = f"/admin/my_qualification_applications/document/{document.id}"
    staff = f"/admin/qualification_applications/document/{document.id}"
    assert status(app, person, mine) == 200 and status(app, person, staff) == 200
    assert status(app, reviewers["shaanxi"], staff) == 200
    details = app.test_client()
    login(details, reviewers["shaanxi"])
    page = details.get(f"/admin/qualification_applications/details/?id={application.id}").get_data(
        as_text=True
    )
    assert 'id="application-documents"' in page and "视力证明" in page
    for user in (stranger, reviewers["sichuan"], reviewers["samr"]):
        assert status(app, user, staff) in (403, 404)
        assert status(app, user, mine) in (403, 404)
        assert status(app, user, f"/admin/qualification_applications/details/?id={application.id}") in (
            403,
            404,
        )
