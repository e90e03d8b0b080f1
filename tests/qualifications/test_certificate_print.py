"""资格证书 on paper (issue 11): the printable page with its QR code, the resident ID in full
for the holder and staff only, the public verification page (genuine / revoked with its date /
expired / unknown), and revocation by the issuing authority only, through the details page."""

from __future__ import annotations

import re
from datetime import timedelta

from ecqs.extensions import db
from ecqs.services import workdays
from tests.conftest import flashes, login, make_user
from tests.qualifications.fixtures import give_certificate, make_person


def _verify_path(page: str) -> str:
    match = re.search(r'id="verify-url" href="https?://[^/]+(/verify/certificate/[^"]+)"', page)
    assert match, page[:2000]
    return match.group(1)


def test_print_page_shows_the_certificate_and_the_full_id_to_the_holder(client, projects, reviewers):
    person = make_person("61", real_name="李四")
    cert = give_certificate(person, projects["RT-II"], reviewers["shaanxi"])
    login(client, person)
    details = client.get(f"/admin/my_certificates/details/?id={cert.id}").get_data(as_text=True)
    assert f"/admin/my_certificates/print/?id={cert.id}" in details
    page = client.get(f"/admin/my_certificates/print/?id={cert.id}").get_data(as_text=True)
    for text in (
        cert.number,
        "李四",
        person.id_number,
        "RT-II",
        "陕西省市场监督管理局",
        "data:image/svg+xml",
    ):
        assert text in page
    assert str(cert.valid_until) in page and str(cert.issued_on) in page
    assert cert.verify_token in _verify_path(page)
    # Reachable from the application page too.
    app_page = client.get(f"/admin/qualification_applications/details/?id={cert.application.id}")
    assert f"/admin/my_certificates/print/?id={cert.id}" in app_page.get_data(as_text=True)


def test_print_page_per_viewer_and_scope(client, projects, reviewers):
    person = make_person("61")
    cert = give_certificate(person, projects["RT-II"], reviewers["shaanxi"])
    # Staff of the issuing authority: full ID.
    login(client, reviewers["shaanxi"])
    page = client.get(f"/admin/qualification_certificates/print/?id={cert.id}").get_data(as_text=True)
    assert person.id_number in page
    app_page = client.get(f"/admin/qualification_applications/details/?id={cert.application.id}")
    assert f"/admin/qualification_certificates/print/?id={cert.id}" in app_page.get_data(as_text=True)
    client.post("/logout")
    # Another authority's reviewer, another person: not found through any door.
    login(client, reviewers["sichuan"])
    assert client.get(f"/admin/qualification_certificates/print/?id={cert.id}").status_code == 404
    client.post("/logout")
    login(client, make_person("61"))
    assert client.get(f"/admin/my_certificates/print/?id={cert.id}").status_code == 404
    assert client.get(f"/admin/qualification_certificates/print/?id={cert.id}").status_code == 404
    client.post("/logout")
    # Anonymous: the login page.
    assert client.get(f"/admin/my_certificates/print/?id={cert.id}").status_code == 302


def test_public_verification_genuine_masks_the_id(client, projects, reviewers):
    person = make_person("61", real_name="王五")
    cert = give_certificate(person, projects["RT-II"], reviewers["shaanxi"])
    response = client.get(f"/verify/certificate/{cert.verify_token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-standing="valid"' in page and "该资格证书真实有效" in page
    assert cert.number in page and "王五" in page
    assert person.id_number not in page
    assert person.id_number[:3] + "*" * 12 + person.id_number[-3:] in page
    # A made-up token: not genuine.
    fake = client.get("/verify/certificate/" + "x" * 43)
    assert fake.status_code == 404 and 'data-genuine="0"' in fake.get_data(as_text=True)
    # The row id or the number never open it.
    assert client.get(f"/verify/certificate/{cert.id}").status_code == 404
    assert client.get(f"/verify/certificate/{cert.number}").status_code == 404


def test_public_verification_says_expired(client, projects, reviewers):
    person = make_person("61")
    cert = give_certificate(
        person, projects["RT-II"], reviewers["shaanxi"], valid_until=workdays.today() - timedelta(days=1)
    )
    page = client.get(f"/verify/certificate/{cert.verify_token}").get_data(as_text=True)
    assert 'data-standing="expired"' in page and "已过期" in page


def test_revoke_through_the_details_page_then_public_page_says_revoked(client, projects, reviewers):
    person = make_person("61")
    cert = give_certificate(person, projects["RT-II"], reviewers["shaanxi"])
    # Another authority's reviewer cannot reach it, nor revoke it by posting.
    login(client, reviewers["sichuan"])
    refused = client.post(
        f"/admin/qualification_certificates/transition/{cert.id}/revoke",
        data={"comment": "不该撤销", "expected_state": "valid"},
    )
    assert refused.status_code == 404
    db.session.refresh(cert)
    assert cert.status == "valid" and cert.revoked_on is None
    client.post("/logout")
    # The issuing authority's reviewer: a button with a confirmation and a reason.
    login(client, reviewers["shaanxi"])
    details = client.get(f"/admin/qualification_certificates/details/?id={cert.id}").get_data(as_text=True)
    assert 'data-action="revoke"' in details and "撤销后该证书不再有效，确定撤销吗？" in details
    missing = client.post(
        f"/admin/qualification_certificates/transition/{cert.id}/revoke",
        data={"comment": " ", "expected_state": "valid"},
        follow_redirects=True,
    )
    assert "原因" in flashes(missing) or "意见" in flashes(missing)
    db.session.refresh(cert)
    assert cert.status == "valid"
    done = client.post(
        f"/admin/qualification_certificates/transition/{cert.id}/revoke",
        data={"comment": "以欺骗手段取得证书", "expected_state": "valid"},
        follow_redirects=True,
    )
    assert "操作成功" in flashes(done)
    db.session.refresh(cert)
    assert cert.status == "revoked" and cert.revoked_on == workdays.today()
    page = client.get(f"/verify/certificate/{cert.verify_token}").get_data(as_text=True)
    assert 'data-standing="revoked"' in page and "已撤销" in page
    assert workdays.today().isoformat() in page
    printed = client.get(f"/admin/qualification_certificates/print/?id={cert.id}").get_data(as_text=True)
    assert "已撤销" in printed


def test_other_role_cannot_open_certificate_pages(client, projects, reviewers):
    person = make_person("61")
    cert = give_certificate(person, projects["RT-II"], reviewers["shaanxi"])
    login(client, make_user("enterprise"))
    for url in (
        f"/admin/qualification_certificates/print/?id={cert.id}",
        f"/admin/my_certificates/print/?id={cert.id}",
    ):
        assert client.get(url).status_code in (302, 403, 404)
