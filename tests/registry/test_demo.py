"""`flask seed`: demo_unit has a branch, a sub-account and a qualification; casei_staff finds a
registration, a change request and a qualification waiting. Running it twice adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from ecqs import seeding
from ecqs.extensions import db
from ecqs.models import Organization, UnitChangeRequest, UnitQualificationRequest, User
from ecqs.services import inbox


def _counts():
    return tuple(
        db.session.execute(select(func.count()).select_from(m)).scalar()
        for m in (Organization, User, UnitChangeRequest, UnitQualificationRequest)
    )


def test_registry_demo_data(app):
    seeding.load_demo()
    unit = db.session.execute(select(User).where(User.username == "demo_unit")).scalar_one()
    org = unit.organization
    assert db.session.execute(select(Organization).where(Organization.parent_id == org.id)).scalar()
    sub = db.session.execute(select(User).where(User.username == "demo_unit_sub")).scalar_one()
    assert sub.organization_id == org.id and not sub.is_org_admin
    assert org.qualifications
    staff = db.session.execute(select(User).where(User.username == "casei_staff")).scalar_one()
    with app.test_request_context():
        titles = " ".join(item.title for item in inbox.items_for(staff))
    for waiting in ("单位注册审核", "单位变更审核", "单位资质审核", "在线提问"):
        assert waiting in titles, waiting
    before = _counts()
    seeding.load_demo()
    assert _counts() == before


def test_publicity_application_demo_data(app):
    """Each type can be tried at demo_unit; casei_staff finds an application and a manual
    verification waiting."""
    from ecqs.models import PublicityApplication, RealNameVerification
    from ecqs.registry import eligibility
    from ecqs.registry.application_demo import HOLDERS

    seeding.load_reference()
    seeding.load_demo()
    unit = db.session.execute(select(User).where(User.username == "demo_unit")).scalar_one()
    for kind in ("initial", "change", "renewal"):
        person = db.session.execute(select(User).where(User.username == HOLDERS[kind][0])).scalar_one()
        result = eligibility.assess(unit.organization, person.real_name, person.id_number)
        assert (result.kind, result.eligible) == (kind, True), (kind, [c.reason for c in result.failures])
    additions = eligibility.addition_candidates(unit.organization)
    assert [a.person_name for a in additions] == [HOLDERS["addition"][1]]
    waiting = db.session.execute(
        select(PublicityApplication).where(PublicityApplication.status == "submitted")
    ).scalar_one()
    assert waiting.person_name == HOLDERS["review"][1]
    assert db.session.execute(
        select(RealNameVerification).where(RealNameVerification.status == "pending")
    ).scalar_one()
    staff = db.session.execute(select(User).where(User.username == "casei_staff")).scalar_one()
    with app.test_request_context():
        titles = " ".join(item.title for item in inbox.items_for(staff))
    assert "执业公示审核" in titles and "公示人员人工核验" in titles
    before = db.session.execute(select(func.count()).select_from(PublicityApplication)).scalar()
    seeding.load_demo()
    assert db.session.execute(select(func.count()).select_from(PublicityApplication)).scalar() == before


def test_registration_demo_data(app):
    """demo_unit has registered practitioners (one at its branch, counted under the unit) and a
    注销申请 waiting for casei_staff's 注销审核; a second run adds nothing."""
    from ecqs.models import PractitionerDeregistration, PractitionerRegistration
    from ecqs.registry import home
    from tests.registry.fixtures import project

    project()  # the personnel catalogue, as `flask seed` loads it first
    seeding.load_demo()
    unit = db.session.execute(select(User).where(User.username == "demo_unit")).scalar_one()
    everyone = db.session.execute(select(PractitionerRegistration)).scalars().all()
    branch_ids = {o.id for o in unit.organization.branches}
    rows = [r for r in everyone if r.organization_id in {unit.organization_id, *branch_ids}]
    org_ids = {r.organization_id for r in rows}
    assert len(rows) >= 4 and unit.organization_id in org_ids and len(org_ids) == 2  # the unit and its branch
    assert all(r.status == "registered" for r in rows)
    assert home.unit_home(unit)["publicised"] == len(rows)
    request = db.session.execute(select(PractitionerDeregistration)).scalar_one()
    assert request.status == "submitted" and request.scan_upload_id and request.courier_number
    staff = db.session.execute(select(User).where(User.username == "casei_staff")).scalar_one()
    with app.test_request_context():
        assert any("注销审核" in item.title for item in inbox.items_for(staff))
    seeding.load_demo()
    again = db.session.execute(select(func.count()).select_from(PractitionerRegistration)).scalar()
    assert again == len(everyone)
