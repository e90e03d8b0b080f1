"""M3 row-level access through every door: a reviewer of another province (or SAMR for a
provincial application), another person, other roles and anonymous users can neither see nor
change an application or a certificate — list, details, edit, delete, bulk action with the id
posted, transition URL, export."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from ecqs.extensions import db
from tests.conftest import flashes, make_user
from tests.qualifications.fixtures import drive_to, make_person, submit

APPS = "/admin/qualification_applications"
MY_APPS = "/admin/my_qualification_applications"
CERTS = "/admin/qualification_certificates"
MY_CERTS = "/admin/my_certificates"


def _export_text(client, url) -> str:
    response = client.get(f"{url}/export/xlsx/")
    assert response.status_code == 200
    wb = load_workbook(BytesIO(response.data), read_only=True)
    return " ".join(str(c) for row in wb.worksheets[0].iter_rows(values_only=True) for c in row if c)


@pytest.fixture
def approved(projects, reviewers):
    """An approved Shaanxi application (with its certificate) and a pending one of the same person."""
    person = make_person("61", real_name="秦保密")
    done = submit(person, projects["RT-II"])
    drive_to(done, "approved", reviewers["shaanxi"], person)
    pending = submit(person, projects["UT-II"])
    return person, done, pending


def _unchanged(*rows):
    states = []
    for row in rows:
        db.session.refresh(row)
        states.append((row.status, row.version))
    return states


@pytest.mark.parametrize("outsider", ["sichuan", "samr"])
def test_reviewer_of_another_authority_cannot_see_or_act(client, login_as, approved, reviewers, outsider):
    _person, done, pending = approved
    cert = done.certificate
    before = _unchanged(done, pending)
    login_as(reviewers[outsider])
    # list and export
    listing = client.get(f"{APPS}/")
    assert listing.status_code == 200 and "秦保密" not in listing.get_data(as_text=True)
    assert "秦保密" not in _export_text(client, APPS)
    assert cert.number not in client.get(f"{CERTS}/").get_data(as_text=True)
    assert cert.number not in _export_text(client, CERTS)
    # details, edit, delete
    assert client.get(f"{APPS}/details/?id={pending.id}").status_code == 404
    assert client.get(f"{CERTS}/details/?id={cert.id}").status_code == 404
    assert client.get(f"{APPS}/edit/?id={pending.id}").status_code in {302, 403, 404}
    client.post(f"{APPS}/edit/?id={pending.id}", data={"status": "approved"})
    client.post(f"{APPS}/delete/", data={"id": pending.id})
    # transitions by URL and by bulk action with the id posted
    for action in ("receive", "approve", "reject", "withdraw"):
        response = client.post(
            f"{APPS}/transition/{pending.id}/{action}", data={"comment": "x", "valid_until": "2099-01-01"}
        )
        assert response.status_code == 404
    response = client.post(
        f"{APPS}/action/", data={"action": "wf_receive", "rowid": [pending.id]}, follow_redirects=True
    )
    assert "不存在或无权操作" in flashes(response)
    # the person's own grids are not theirs at all
    assert client.get(f"{MY_APPS}/").status_code == 403
    assert client.get(f"{MY_CERTS}/").status_code == 403
    assert client.get("/admin/qualification_apply/").status_code == 403
    assert _unchanged(done, pending) == before


def test_another_person_cannot_see_or_withdraw(client, login_as, approved):
    _person, done, pending = approved
    before = _unchanged(done, pending)
    login_as(make_person("61"))
    for url in (f"{MY_APPS}/", f"{APPS}/"):
        page = client.get(url).get_data(as_text=True)
        assert "RT-II" not in page and "UT-II" not in page
    assert "UT-II" not in _export_text(client, MY_APPS)
    for url in (MY_APPS, APPS):
        assert client.get(f"{url}/details/?id={pending.id}").status_code == 404
        assert client.post(f"{url}/transition/{pending.id}/withdraw").status_code == 404
    response = client.post(
        f"{MY_APPS}/action/", data={"action": "wf_withdraw", "rowid": [pending.id]}, follow_redirects=True
    )
    assert "不存在或无权操作" in flashes(response)
    cert = done.certificate
    assert client.get(f"{MY_CERTS}/details/?id={cert.id}").status_code == 404
    assert client.get(f"{CERTS}/details/?id={cert.id}").status_code == 404
    assert cert.number not in client.get(f"{MY_CERTS}/").get_data(as_text=True)
    assert cert.number not in _export_text(client, MY_CERTS)
    assert _unchanged(done, pending) == before


@pytest.mark.parametrize("role", ["enterprise", "unit", "association", "metrology", "assessor"])
def test_other_roles_are_refused(client, login_as, approved, role):
    _person, done, pending = approved
    before = _unchanged(done, pending)
    login_as(make_user(role))
    for url in (APPS, MY_APPS, CERTS, MY_CERTS, "/admin/qualification_apply", "/admin/personnel_projects"):
        assert client.get(f"{url}/").status_code == 403, url
    assert client.get(f"{APPS}/details/?id={pending.id}").status_code == 403
    assert client.post(f"{APPS}/transition/{pending.id}/receive").status_code == 403
    assert client.get(f"{CERTS}/export/xlsx/").status_code == 403
    assert _unchanged(done, pending) == before


def test_anonymous_is_sent_to_login(client, approved):
    _person, _done, pending = approved
    for url in (
        f"{APPS}/",
        f"{APPS}/details/?id={pending.id}",
        f"{MY_CERTS}/",
        "/admin/qualification_apply/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post(f"{APPS}/transition/{pending.id}/receive")
    assert response.status_code in {302, 400, 403}
    assert _unchanged(pending)[0][0] == "pending"


def test_addressed_reviewer_sees_own_authority_rows_only(client, login_as, approved, projects, reviewers):
    person, done, _pending = approved
    sichuan_app = submit(make_person("51", real_name="川籍申请人"), projects["RT-II"])
    login_as(reviewers["shaanxi"])
    page = client.get(f"{APPS}/").get_data(as_text=True)
    assert "秦保密" in page and "川籍申请人" not in page
    exported = _export_text(client, APPS)
    assert "秦保密" in exported and "川籍申请人" not in exported
    assert person.id_number not in exported  # masked in the export
    assert client.get(f"{APPS}/details/?id={sichuan_app.id}").status_code == 404
    assert done.certificate.number in _export_text(client, CERTS)


def test_no_editing_or_deleting_for_anyone(client, login_as, approved):
    _person, done, pending = approved
    before = _unchanged(done, pending)
    login_as(make_user("admin"))
    client.post(f"{APPS}/edit/?id={pending.id}", data={"status": "approved", "authority": "1"})
    client.post(f"{APPS}/delete/", data={"id": pending.id})
    client.post(f"{CERTS}/delete/", data={"id": done.certificate.id})
    assert (
        client.post(f"{APPS}/ajax/update/", data={"list_form_pk": pending.id, "status": "x"}).status_code
        == 403
    )
    assert _unchanged(done, pending) == before
    db.session.refresh(done.certificate)
    assert done.certificate.status == "valid"
