"""打印拟公示申请表 (seed 004 §3.3.1 第三步, the fourth button of 执业公示申报单): the printable
form of what the publicity will show, built as 打印申报单 is — reached from the grid's row and
the details page, the unit's own applications only, void once expired, in both languages."""

from __future__ import annotations

import re
from datetime import timedelta

from flask_babel import refresh

from ecqs.extensions import db
from ecqs.services.masking import mask_id_number
from ecqs.services.models import utcnow
from tests.conftest import login
from tests.registry.application_fixtures import create, holder, upload

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def logged_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


def door(application) -> str:
    return f"/admin/publicity_applications/publicity_print/{application.id}"


def visible_text(html: str) -> str:
    html = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    return re.sub(r"\s+", " ", re.sub(r"(?s)<[^>]+>", " ", html))


def test_the_owner_prints_the_applicants_publicity_data(app, qunit):
    person = holder(codes=("RT-II", "RT-III"))
    application = create(qunit, person)
    response = logged_in(app, qunit.admin).get(door(application))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'class="licence-print"' in page and 'id="print-button"' in page  # the house print layout
    for text in (
        "特种设备检验检测人员执业拟公示申请表",
        application.number,
        person.real_name,
        qunit.org.name,
        "初始",
        "RT-III",
        application.items[0].certificate_number,
        "执业人签字",
        "单位授权人签字",
        "单位公章",
    ):
        assert text in page, text
    # The ID number as the public query will publish it, never in full.
    assert mask_id_number(person.id_number) in page and person.id_number not in page
    assert 'data-void="1"' not in page


def test_offered_in_every_state_as_the_application_form_and_void_once_expired(app, qunit):
    submitted = upload(create(qunit, holder(name="李明")), qunit)
    expired = create(qunit, holder(name="王强"))
    expired.deadline = utcnow() - timedelta(minutes=1)
    db.session.commit()
    client = logged_in(app, qunit.admin)
    assert client.get(door(submitted)).status_code == 200
    page = client.get(door(expired)).get_data(as_text=True)  # expires on access, as print_view
    assert 'data-void="1"' in page
    db.session.expire_all()
    assert expired.status == "expired"


def test_another_unit_is_refused_by_the_direct_url(app, qunit, other_qunit):
    application = create(qunit, holder())
    intruder = logged_in(app, other_qunit.admin)
    assert intruder.get(door(application)).status_code in (403, 404)
    assert intruder.get("/admin/publicity_applications/publicity_print/999999").status_code == 404
    grid = intruder.get("/admin/publicity_applications/").get_data(as_text=True)
    assert door(application) not in grid


def test_the_row_button_and_the_details_page_link_to_it(app, qunit):
    application = create(qunit, holder())
    client = logged_in(app, qunit.admin)
    grid = client.get("/admin/publicity_applications/").get_data(as_text=True)
    button = re.search(rf'<a [^>]*data-publicity-print-link="{application.number}"[^>]*>', grid)
    assert button, "row button missing"
    assert f'href="{door(application)}"' in button.group(0) and 'title="打印拟公示申请表"' in button.group(0)
    details = client.get(f"/admin/publicity_applications/details/?id={application.id}").get_data(as_text=True)
    assert 'id="print-publicity-application"' in details and door(application) in details


def test_the_english_page_is_in_english(app, qunit):
    person = holder()
    application = create(qunit, person)
    client = logged_in(app, qunit.admin)
    assert client.post("/lang/en", data={"next": "/admin/"}).status_code == 302
    refresh()  # the test's app context spans the requests (see tests/test_i18n_catalogue.py)
    try:
        html = client.get(door(application)).get_data(as_text=True)
        assert '<html lang="en">' in html
        text = visible_text(html)
        for english in (
            "Special equipment inspection and testing practitioner proposed publicity application form",
            "China Association of Special Equipment Inspection",
            "Items proposed for publicity",
            "Applicant name",
            "Print",
        ):
            assert english in text, english
        # Nothing Chinese but the applicant's own data.
        item = application.items[0]
        for data in (person.real_name, qunit.org.name, item.project_name):
            text = text.replace(data, "")
        assert CJK.findall(text) == []
        grid = client.get("/admin/publicity_applications/").get_data(as_text=True)
        assert 'title="Print proposed publicity application form"' in grid
    finally:
        client.post("/lang/zh_Hans_CN", data={"next": "/admin/"})
        refresh()
