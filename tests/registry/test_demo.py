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
