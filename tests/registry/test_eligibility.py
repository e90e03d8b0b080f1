"""The eligibility table of seed 004 §3.3.1 (each rule passing and failing) and the type of a
publicity application (初始 / 变更 / 追加 / 续期)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ecqs.extensions import db
from ecqs.registry import eligibility
from ecqs.registry.operations import RegistryError
from ecqs.services import workdays
from tests.registry.application_fixtures import (
    certificate,
    create,
    holder,
    register,
)
from tests.registry.fixtures import add_branch, make_unit, png


def verdict(unit, person):
    result = eligibility.assess(unit.org, person.real_name, person.id_number)
    return result, {c.key: c for c in result.checks}


def test_type_initial_for_a_person_never_registered(qunit):
    result, _checks = verdict(qunit, holder())
    assert result.kind == "initial" and result.eligible
    assert [c.project_code for c in result.certificates] == ["RT-II"]


def test_type_change_for_a_person_registered_elsewhere_over_a_year(qunit, other_qunit):
    person = holder()
    register(person, other_qunit.org, registered_on=workdays.today() - timedelta(days=400))
    result, _checks = verdict(qunit, person)
    assert result.kind == "change" and result.eligible
    assert result.previous_unit.id == other_qunit.org.id
    assert result.needs_resignation_proof  # still registered there


def test_type_addition_for_a_person_registered_here_with_a_new_certificate(qunit):
    person = holder(codes=("RT-II", "UT-II"))
    register(person, qunit.org, codes=("RT-II",))
    result, _checks = verdict(qunit, person)
    assert result.kind == "addition" and result.eligible
    assert [c.project_code for c in result.certificates] == ["UT-II"]


def test_type_renewal_for_a_registration_due(qunit):
    person = holder()
    today = workdays.today()
    register(
        person, qunit.org, registered_on=today - timedelta(days=1000), valid_until=today + timedelta(days=30)
    )
    result, _checks = verdict(qunit, person)
    assert result.kind == "renewal" and result.eligible


def test_no_type_when_registered_here_with_nothing_new_and_not_due(qunit):
    person = holder()
    register(person, qunit.org, registered_on=workdays.today() - timedelta(days=10))
    result, checks = verdict(qunit, person)
    assert result.kind is None and not result.eligible
    assert "没有可追加" in checks["items"].reason


def test_a_person_registered_at_a_branch_counts_under_the_parent_unit(qunit, other_qunit):
    """The unit and its branches are one unit for the type (追加, not 变更) and for 追加's list."""
    person = holder(codes=("RT-II", "UT-II"))
    branch = add_branch(qunit, "河北渤海检验有限公司沧州分公司")
    register(person, branch, codes=("RT-II",))
    result, _checks = verdict(qunit, person)
    assert result.kind == "addition" and result.eligible
    assert [a.id_number for a in eligibility.addition_candidates(qunit.org)] == [person.id_number]
    assert eligibility.addition_candidates(other_qunit.org) == []
    assert eligibility.assess(other_qunit.org, person.real_name, person.id_number).kind == "change"


# ---- 单位资质要求 -------------------------------------------------------------------------------


def test_unit_rule_passes_with_an_approved_unexpired_qualification(qunit):
    assert verdict(qunit, holder())[1]["unit"].ok


def test_unit_rule_fails_without_a_qualification():
    unit = make_unit()
    result, checks = verdict(unit, holder())
    assert not checks["unit"].ok and "单位资质" in checks["unit"].reason and not result.eligible


def test_unit_rule_fails_with_an_expired_qualification(qunit):
    from ecqs.models import UnitQualificationRequest

    row = db.session.execute(db.select(UnitQualificationRequest)).scalar()
    row.issued_on = workdays.today() - timedelta(days=800)
    row.valid_until = workdays.today() - timedelta(days=1)
    db.session.commit()
    assert not verdict(qunit, holder())[1]["unit"].ok


# ---- 注册审核要求 ------------------------------------------------------------------------------


def test_one_unit_rule_fails_when_another_unit_applied_for_the_person(qunit, other_qunit):
    person = holder()
    assert verdict(qunit, person)[1]["one_unit"].ok
    create(other_qunit, person)
    _result, checks = verdict(qunit, person)
    assert not checks["one_unit"].ok and other_qunit.org.name in checks["one_unit"].reason


def test_one_open_application_rule(qunit):
    person = holder()
    assert verdict(qunit, person)[1]["one_open"].ok
    first = create(qunit, person)
    _result, checks = verdict(qunit, person)
    assert not checks["one_open"].ok and first.number in checks["one_open"].reason
    with pytest.raises(RegistryError, match="未完成的申报单"):
        create(qunit, person)


# ---- 资质项目要求 ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["revoked", "superseded"])
def test_items_rule_fails_with_only_a_revoked_or_superseded_certificate(qunit, status):
    person = holder(codes=())
    certificate(person, "RT-II", status=status)
    _result, checks = verdict(qunit, person)
    assert not checks["items"].ok and "没有有效的资格证书" in checks["items"].reason


def test_items_rule_fails_with_only_an_expired_certificate(qunit):
    person = holder(codes=())
    certificate(person, "RT-II", valid_until=workdays.today() - timedelta(days=1))
    assert not verdict(qunit, person)[1]["items"].ok


def test_items_rule_passes_and_keeps_only_the_highest_level(qunit):
    person = holder(codes=("RT-II", "RT-III", "MT-II"))
    result, checks = verdict(qunit, person)
    assert checks["items"].ok
    assert sorted(c.project_code for c in result.certificates) == ["MT-II", "RT-III"]


def test_items_rule_refuses_a_lower_level_chosen(qunit):
    person = holder(codes=("RT-II", "RT-III"))
    result = eligibility.assess(qunit.org, person.real_name, person.id_number)
    lower = next(c for c in result.all_valid if c.project_code == "RT-II")
    higher = next(c for c in result.all_valid if c.project_code == "RT-III")
    check = eligibility.check_requested(result.certificates, [lower.project_id], result.all_valid)
    assert not check.ok and "只能申请最高级别" in check.reason
    assert eligibility.check_requested(result.certificates, [higher.project_id], result.all_valid).ok
    with pytest.raises(RegistryError, match="只能申请最高级别"):
        create(qunit, person, project_ids=[lower.project_id])


# ---- 变更单位要求 ------------------------------------------------------------------------------


def test_change_rule_fails_within_a_year_at_the_previous_unit(qunit, other_qunit):
    person = holder()
    register(person, other_qunit.org, registered_on=workdays.today() - timedelta(days=200))
    result, checks = verdict(qunit, person)
    assert result.kind == "change" and not checks["change"].ok and "未满 1 年" in checks["change"].reason


def test_change_rule_passes_within_a_year_when_the_previous_unit_dissolved(qunit, other_qunit):
    person = holder()
    register(person, other_qunit.org, registered_on=workdays.today() - timedelta(days=200))
    other_qunit.org.dissolved = True
    db.session.commit()
    result, checks = verdict(qunit, person)
    assert result.kind == "change" and checks["change"].ok and result.eligible


def test_change_rule_does_not_apply_to_a_person_never_registered(qunit):
    result, checks = verdict(qunit, holder())
    assert result.kind == "initial" and checks["change"].ok


def test_change_needs_the_resignation_proof_when_not_deregistered(qunit, other_qunit):
    person = holder()
    register(person, other_qunit.org)
    with pytest.raises(RegistryError, match="离职证明"):
        create(qunit, person)
    row = create(qunit, person, resignation=png("leave.png"))
    assert row.kind == "change" and row.resignation_upload is not None


def test_a_failed_rule_changes_nothing(qunit):
    from ecqs.models import PublicityApplication

    person = holder(codes=())
    with pytest.raises(RegistryError, match="资质项目要求"):
        create(qunit, person)
    db.session.rollback()
    assert db.session.execute(db.select(PublicityApplication)).first() is None


def test_name_must_match_the_id_number(qunit):
    person = holder()
    result = eligibility.assess(qunit.org, "别人", person.id_number)
    assert not result.eligible


def test_unit_rule_fails_for_a_unit_under_review():
    unit = make_unit()
    unit.org.status = "pending"  # set-up: a unit the association has not approved yet
    unit.org.approved_at = None
    db.session.commit()
    _result, checks = verdict(unit, holder())
    assert not checks["unit"].ok and "尚未通过审核" in checks["unit"].reason


def test_association_staff_mark_a_unit_dissolved_on_its_organisation_page(
    client, login_as, qunit, other_qunit
):
    """单位/机构管理 → 编辑 → 破产解散: the flag the change rule reads is set by staff, audited."""
    from sqlalchemy import select

    from ecqs.models import AuditEvent

    person = holder()
    register(person, other_qunit.org, registered_on=workdays.today() - timedelta(days=200))
    assert not verdict(qunit, person)[0].eligible
    login_as("association")
    org = other_qunit.org
    page = client.get(f"/admin/organizations/edit/?id={org.id}").get_data(as_text=True)
    assert 'name="dissolved"' in page and "破产解散" in page
    form = {
        "name": org.name,
        "address": org.address or "",
        "postcode": org.postcode or "",
        "phone": org.phone or "",
        "email": org.email or "",
        "contact_name": org.contact_name or "",
        "contact_mobile": org.contact_mobile or "",
        "dissolved": "y",
    }
    response = client.post(f"/admin/organizations/edit/?id={org.id}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert db.session.get(type(org), org.id).dissolved is True
    assert verdict(qunit, person)[0].eligible
    assert (
        db.session.execute(select(AuditEvent).where(AuditEvent.event == "record_changed")).scalars().first()
    )
