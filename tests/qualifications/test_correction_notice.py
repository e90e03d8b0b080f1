"""补正告知书 of a qualification application as a printable A4 page (as the licence has): from
the details page of the applicant and of the reviewing authority, in the application's scope
(another person, another province's reviewer: 404; other roles: 403), the points listed once and
numbered once by the page, the documents to replace named."""

from __future__ import annotations

import re

import pytest

from ecqs import workflows
from ecqs.extensions import db
from tests.conftest import login, make_user
from tests.documents.test_qualification_correction import requirement, submitted
from tests.qualifications.fixtures import make_person


def logged_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def in_correction(projects, authorities, reviewers, document_catalogue_loaded):
    person = make_person("61", real_name="王检测")
    application = submitted(person, projects)
    eyes, photo = requirement("视力证明"), requirement("近期 1 寸免冠正面白底彩色照片")
    workflows.transition(
        application,
        "request_correction",
        reviewers["shaanxi"],
        comment="1. 工作单位证明未盖章\n\n（2）学历证明不清晰",  # the reviewer numbered them
        documents=[str(eyes.id), str(photo.id)],
    )
    db.session.commit()
    assert application.status == "correction"
    return application, person


def notice_points(page: str) -> list[str]:
    listed = re.search(r'<ol id="correction-list">(.*?)</ol>', page, re.S).group(1)
    return re.findall(r"<li>(.*?)</li>", listed)


def test_the_applicant_prints_the_notice_from_the_details_page(app, in_correction):
    application, person = in_correction
    client = logged_in(app, person)
    details = text(client.get(f"/admin/my_qualification_applications/details/?id={application.id}"))
    link = re.search(r'id="link-notice" href="([^"]+)"', details).group(1).replace("&amp;", "&")
    assert link == f"/admin/my_qualification_applications/notice/?id={application.id}"
    response = client.get(link)
    assert response.status_code == 200
    page = text(response)
    assert "补正告知书" in page and 'id="print-button"' in page
    assert f'href="/admin/my_qualification_applications/details/?id={application.id}" id="print-back"' in page
    assert '<strong id="notice-applicant">王检测</strong>' in page
    assert "RT-II" in page and "无损检测人员" in page and "取证" in page
    assert '<div id="notice-authority">陕西省市场监督管理局</div>' in page
    # Each point once, the numbering the reviewer typed gone (the <ol> numbers them), no empty one.
    assert notice_points(page) == [
        "工作单位证明未盖章",
        "学历证明不清晰",
        "请更换以下申请材料：视力证明、近期 1 寸免冠正面白底彩色照片",
    ]
    assert page.count("工作单位证明未盖章") == 1 and "1. 工作单位" not in page and "（2）" not in page
    # The details page lists the same points, numbered once too.
    listed = re.search(r"<ol class='mb-0 pl-3' id='correction-points'>(.*?)</ol>", details, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", listed) == notice_points(page)


def test_the_reviewing_authority_prints_it_too(app, in_correction, reviewers):
    application, _person = in_correction
    client = logged_in(app, reviewers["shaanxi"])
    details = text(client.get(f"/admin/qualification_applications/details/?id={application.id}"))
    assert f'href="/admin/qualification_applications/notice/?id={application.id}"' in details
    page = text(client.get(f"/admin/qualification_applications/notice/?id={application.id}"))
    assert len(notice_points(page)) == 3 and "视力证明" in page


def test_points_stored_with_their_numbers_are_numbered_once(app, in_correction):
    """Points stored before the workflow stripped the typed numbers print without them."""
    application, person = in_correction
    application.correction_points = "1. 补充学历证明\n\n2、补充工作经历证明\n①补充照片"
    db.session.commit()
    page = text(
        logged_in(app, person).get(f"/admin/my_qualification_applications/notice/?id={application.id}")
    )
    assert notice_points(page) == ["补充学历证明", "补充工作经历证明", "补充照片"]


def test_nobody_else_reaches_the_notice(app, in_correction, reviewers):
    application, _person = in_correction
    doors = (
        f"/admin/qualification_applications/notice/?id={application.id}",
        f"/admin/my_qualification_applications/notice/?id={application.id}",
    )
    for outsider, allowed in (
        (make_person("61"), (404,)),  # another person: not in the scope
        (reviewers["sichuan"], (403, 404)),  # another province's authority
        (make_user("enterprise"), (403,)),  # a role without the grid
        (make_user("unit"), (403,)),
    ):
        client = logged_in(app, outsider)
        for door in doors:
            code = client.get(door).status_code
            assert code in allowed, (outsider.role, door, code)
            assert "工作单位证明未盖章" not in text(client.get(door))
    anonymous = app.test_client().get(doors[0])
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_no_notice_before_a_correction_was_asked(app, projects, authorities, document_catalogue_loaded):
    person = make_person("61")
    application = submitted(person, projects)
    client = logged_in(app, person)
    details = text(client.get(f"/admin/my_qualification_applications/details/?id={application.id}"))
    assert 'id="link-notice"' not in details
    assert client.get(f"/admin/my_qualification_applications/notice/?id={application.id}").status_code == 404
