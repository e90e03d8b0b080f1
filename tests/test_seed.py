"""The seed command: reference data and demo accounts, idempotent."""

from __future__ import annotations

from sqlalchemy import select

from ecqs import seeding
from ecqs.extensions import db
from ecqs.models import AuditEvent, Division, Organization, User
from ecqs.services import inbox, validators
from tests.accounts.fixtures import count
from tests.conftest import USER_TYPE

DEMO_ROLES = {
    "admin": "admin",
    "samr_reviewer": "reviewer",
    "sn_reviewer": "reviewer",
    "casei_staff": "association",
    "demo_enterprise": "enterprise",
    "demo_person": "person",
    "demo_metrology": "metrology",
    "demo_assessor": "assessor",
    "demo_unit": "unit",
}


def _counts():
    return {
        "divisions": count(Division),
        "organizations": count(Organization),
        "users": count(User),
        "transitions": count(AuditEvent, AuditEvent.event == "transition"),
    }


def test_seed_command_is_idempotent(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    first = _counts()
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert _counts() == first
    assert first["divisions"] > 3000 and first["users"] >= len(DEMO_ROLES)
    # Direct calls as well: nothing new the second time.
    assert seeding.load_reference()["divisions"] == 0
    assert seeding.load_demo()["users"] == 0
    assert _counts() == first


def test_demo_accounts(app, client):
    seeding.load_demo()
    for username, role in DEMO_ROLES.items():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        assert user.role == role
        assert user.check_password(seeding.DEMO_PASSWORD)
        assert validators.clean_id_number(user.id_number) == user.id_number
        if user.organization is not None:
            assert user.organization.status == "approved" and user.is_org_admin
            assert validators.clean_uscc(user.organization.uscc) == user.organization.uscc
    names = {o.name for o in db.session.execute(select(Organization)).scalars()}
    assert {"国家市场监督管理总局", "陕西省市场监督管理局"} <= names
    enterprise = db.session.execute(select(User).where(User.username == "demo_enterprise")).scalar_one()
    assert enterprise.organization.division.full_name.startswith("陕西省西安市")
    assert validators.password_problems(seeding.DEMO_PASSWORD, "demo_enterprise") == []
    # Every demo account logs in with its user type (captcha and SMS factor off in tests).
    for username in DEMO_ROLES:
        response = client.post(
            "/login",
            data={
                "user_type": USER_TYPE[DEMO_ROLES[username]],
                "username": username,
                "password": seeding.DEMO_PASSWORD,
            },
        )
        assert response.status_code == 302, username
        assert client.get("/admin/").status_code == 200
        client.post("/logout")


def test_divisions_reference():
    assert count(Division, Division.level == 1) == 34
    assert db.session.get(Division, "610100").name == "西安市"
    assert count(Division, Division.parent_code == "610100") >= 13
    # Every parent exists; no orphan codes.
    parents = set(db.session.execute(select(Division.parent_code).distinct()).scalars()) - {None}
    codes = set(db.session.execute(select(Division.code)).scalars())
    assert parents <= codes


def test_demo_metrology_finds_a_booking_to_accept(app):
    """The metrology institution's first login shows real work: the demo enterprise's booking of
    its overdue 压力表 (HY39), submitted through the engine and allocated to it."""
    seeding.load_reference()
    seeding.load_demo()
    db.session.commit()
    metrology = db.session.execute(select(User).where(User.username == "demo_metrology")).scalar_one()
    with app.test_request_context("/admin/"):
        titles = [item.title for item in inbox.everything_for(metrology)]
    assert any("HY39" in title for title in titles), titles


def test_demo_metrology_institution_has_its_contact_details(app, client):
    """Issue 11: the demo institution has a phone, a contact person and an address, which the
    public institution page and the booking receipt show; a database seeded before gets them."""
    seeding.load_reference()
    seeding.load_demo()
    db.session.commit()
    metrology = db.session.execute(select(User).where(User.username == "demo_metrology")).scalar_one()
    org = metrology.organization
    assert org.phone and org.contact_name and org.address
    org.phone = None  # seeded before the field was filled
    db.session.commit()
    seeding.load_demo()
    db.session.commit()
    assert org.phone == "029-86000007"
    page = client.get("/public/instruments/institutions").get_data(as_text=True)
    assert "电话：029-86000007" in page and f"联系人：{org.contact_name}" in page


def test_every_demo_role_finds_work_on_first_login(app, client):
    """On a fresh seed each demo account's 待办事项 lists real work: samr_reviewer a nationally
    approved licence application, demo_person a certificate to renew, demo_unit a qualification
    running out; each created through the operations and the engine. The home page shows it."""
    seeding.load_reference()
    seeding.load_demo()
    db.session.commit()
    found = {}
    for username in DEMO_ROLES:
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        with app.test_request_context("/admin/"):
            found[username] = [item.title for item in inbox.everything_for(user)]
    assert all(found.values()), {name: titles for name, titles in found.items() if not titles}
    assert any("西安示范锅炉制造有限公司" in t for t in found["samr_reviewer"]), found["samr_reviewer"]
    assert any(t.startswith("资格证书") and "到期" in t for t in found["demo_person"]), found["demo_person"]
    assert any(t.startswith("单位资质") for t in found["demo_unit"]), found["demo_unit"]
    for username in ("samr_reviewer", "demo_person", "demo_unit"):
        client.post(
            "/login",
            data={
                "user_type": USER_TYPE[DEMO_ROLES[username]],
                "username": username,
                "password": seeding.DEMO_PASSWORD,
            },
        )
        page = client.get("/admin/").get_data(as_text=True)
        assert "暂无待办事项" not in page and 'id="inbox"' in page, username
        client.post("/logout")
