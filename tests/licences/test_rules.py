"""The licence rules are written once (ecqs/licences/rules.py) and asked by the acceptance
form's choices, the guard, the party check and the row scopes alike."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ecqs import access, workflows
from ecqs.extensions import db
from ecqs.licences import rules
from ecqs.models import LicenceApplication
from tests.conftest import make_org, make_user
from tests.licences.fixtures import advance, draft


def _accept_field(name):
    t = workflows.workflow_for(LicenceApplication).get("accept")
    return next(f for f in t.fields if f.name == name)


def test_only_approved_assessors_are_offered_and_accepted(world):
    application = advance(world, draft(world), "submitted")
    pending = make_org("assessor", status="pending", name="待审核评审机构")
    enterprise = world.enterprise_org
    offered = {
        int(v) for v, _label in _accept_field("assessor_org_id").options(application, world.sn_reviewer)
    }
    assert world.assessor_org.id in offered
    assert pending.id not in offered and enterprise.id not in offered
    assert not rules.may_be_engaged(pending) and rules.may_be_engaged(world.assessor_org)
    for org in (pending, enterprise):
        with pytest.raises(workflows.GuardFailed, match="受委托的鉴定评审机构"):
            workflows.transition(
                application,
                "accept",
                world.sn_reviewer,
                assessor_org_id=str(org.id),
                contact_name="x",
                contact_phone="1",
            )
        db.session.rollback()
    assert application.status == "submitted"


def test_may_review_is_the_party_check_and_the_scope(world):
    submitted = advance(world, draft(world), "submitted")
    still_draft = draft(world)
    db.session.commit()
    other_bureau = make_user("reviewer", org=world.beijing)
    for user in (world.sn_reviewer, other_bureau, world.enterprise, world.assessor):
        scoped = set(
            db.session.execute(
                access.scoped(select(LicenceApplication.id), LicenceApplication, user)
            ).scalars()
        )
        for application in (submitted, still_draft):
            assert rules.may_review(user, application) == (
                application.id in scoped and user.role == "reviewer"
            )
    assert rules.may_review(world.sn_reviewer, submitted)
    assert not rules.may_review(world.sn_reviewer, still_draft)
    assert not rules.may_review(other_bureau, submitted)
    assert workflows.can(submitted, "reject", world.sn_reviewer)
    assert not workflows.can(submitted, "reject", other_bureau)
