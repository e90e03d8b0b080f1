"""The life of a publicity application 执业公示申报单: three-factor check with one correction and
manual verification, the practitioner's SMS code (24 h, 3 a day, 5 tries), the upload that
submits (once), staff review publishing each type, and the 7-day expiry on a frozen clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ecqs import workflows
from ecqs.extensions import db
from ecqs.models import (
    AuditEvent,
    PractitionerRegistration,
    PublicityApplication,
    RealNameVerification,
    SmsCode,
)
from ecqs.registry import application_operations as ops
from ecqs.registry import workflows as registry_workflows
from ecqs.registry.operations import RegistryError
from ecqs.services import sms, three_factor, workdays
from ecqs.services.models import utcnow
from tests.conftest import make_user
from tests.registry.application_fixtures import create, holder, register, sent_code, upload
from tests.registry.fixtures import png
from tests.registry.three_factor_stub import SECRET, ThreeFactorStub


@pytest.fixture
def clock(monkeypatch):
    """A frozen clock for the application's deadline, the engine's guards and SMS codes."""
    state = {"now": utcnow()}

    def now():
        return state["now"]

    for module in (ops, registry_workflows, sms):
        monkeypatch.setattr(module, "utcnow", now)
    return state


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


# ---- three-factor check ------------------------------------------------------------------------


def test_account_verifier_passes_the_mobile_of_the_persons_own_account(qunit):
    person = holder()
    application = create(qunit, person)
    assert application.mobile == person.mobile
    outcome = ops.verify_mobile(application, qunit.admin)
    assert outcome.passed and application.three_factor == "passed"


def test_mismatch_then_one_correction_then_manual_verification(qunit, casei):
    person = holder()
    application = create(qunit, person)
    application.mobile = "13700000001"  # the unit typed another number on the form
    db.session.commit()
    assert ops.send_code(application, qunit.admin) == ""  # no code: the check failed first
    db.session.commit()
    assert application.three_factor == "mismatch"
    assert count(SmsCode) == 0
    first = db.session.execute(select(RealNameVerification)).scalar_one()
    assert first.status == "mismatch" and first.mobile == "13700000001"

    outcome = ops.correct_mobile(application, qunit.admin, "13700000002")  # still not theirs
    db.session.commit()
    assert not outcome.passed and application.mobile_corrections == 1
    with pytest.raises(RegistryError, match="修改机会已用完"):
        ops.correct_mobile(application, qunit.admin, person.mobile)
    db.session.rollback()
    assert application.mobile == "13700000002"

    # The unit asks for a manual check of the second row; staff pass it; the code can go out.
    second = db.session.execute(
        select(RealNameVerification).where(RealNameVerification.mobile == "13700000002")
    ).scalar_one()
    workflows.transition(second, "apply", qunit.admin, proof=png("id.png"))
    db.session.commit()
    assert second.status == "pending"
    workflows.transition(second, "approve", casei)
    db.session.commit()
    assert second.status == "passed" and application.three_factor == "manual"
    assert sent_code(application, qunit)
    upload(application, qunit, code=None)
    assert application.status == "submitted"


def test_manual_verification_refused_keeps_the_code_from_going_out(qunit, casei):
    person = holder()
    application = create(qunit, person)
    application.mobile = "13700000003"
    db.session.commit()
    ops.verify_mobile(application, qunit.admin)
    db.session.commit()
    row = db.session.execute(select(RealNameVerification)).scalar_one()
    workflows.transition(row, "apply", qunit.admin)
    with pytest.raises(workflows.CommentRequired):
        workflows.transition(row, "reject", casei)
    workflows.transition(row, "reject", casei, comment="手机号非本人")
    db.session.commit()
    assert row.status == "failed" and application.three_factor == "mismatch"
    assert row.reject_reason == "手机号非本人" and row.decided_at is not None
    with pytest.raises(RegistryError, match="尚未通过实名验证"):
        ops.submit(application, qunit.admin, png(), "123456")


def test_unit_files_a_manual_verification_directly(qunit):
    person = holder()
    row = ops.file_verification(qunit.admin, person.real_name, person.id_number, "13700000009", proof=png())
    db.session.commit()
    assert row.status == "pending"
    with pytest.raises(RegistryError, match="已在人工核验中"):
        ops.file_verification(qunit.admin, person.real_name, person.id_number, "13700000009")
    with pytest.raises(RegistryError, match="身份证号码不正确"):
        ops.file_verification(qunit.admin, person.real_name, "123", "13700000009")


# ---- the practitioner's SMS code ---------------------------------------------------------------


def test_five_wrong_codes_then_a_new_code_is_needed(qunit):
    application = create(qunit, holder())
    code = sent_code(application, qunit)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        with pytest.raises(ops.CodeRefused, match=f"还可尝试 {left} 次"):
            ops.submit(application, qunit.admin, png(), wrong)
        db.session.commit()  # the view commits the counted try
    with pytest.raises(ops.CodeRefused, match="已达 5 次"):
        ops.submit(application, qunit.admin, png(), wrong)
    db.session.commit()
    with pytest.raises(ops.CodeRefused, match="已达 5 次"):
        ops.submit(application, qunit.admin, png(), code)  # even the right one: used up
    db.session.commit()
    assert application.status == "awaiting_upload" and application.form_upload_id is None
    upload(application, qunit)  # a new code works
    assert application.status == "submitted"


def test_an_expired_code_is_refused(qunit, clock):
    application = create(qunit, holder())
    code = sent_code(application, qunit)
    clock["now"] += timedelta(hours=24, minutes=1)
    application.deadline = clock["now"] + timedelta(days=1)  # still within the 7 days
    db.session.commit()
    with pytest.raises(ops.CodeRefused, match="已过期"):
        ops.submit(application, qunit.admin, png(), code)
    assert application.status == "awaiting_upload"


def test_three_codes_a_day_for_this_purpose(qunit):
    application = create(qunit, holder())
    for _ in range(3):
        sent_code(application, qunit)
    with pytest.raises(RegistryError, match="上限"):
        ops.send_code(application, qunit.admin)


def test_double_submission_of_an_upload_is_refused(qunit):
    application = create(qunit, holder())
    code = sent_code(application, qunit)
    version = application.version
    ops.submit(application, qunit.admin, png(), code, expected_version=version)
    db.session.commit()
    uploads_before = application.form_upload_id
    with pytest.raises(RegistryError, match=r"已被他人处理|请勿重复提交"):
        ops.submit(application, qunit.admin, png(), code, expected_version=version)
    with pytest.raises(RegistryError, match="请勿重复提交"):
        ops.submit(application, qunit.admin, png(), code)
    db.session.rollback()
    assert application.status == "submitted" and application.form_upload_id == uploads_before


def test_submit_is_not_reachable_without_the_code(qunit):
    application = create(qunit, holder())
    ops.verify_mobile(application, qunit.admin)
    with pytest.raises(workflows.GuardFailed, match="短信验证码"):
        workflows.transition(application, "submit", qunit.admin)


def test_another_unit_cannot_act_on_the_application(qunit, other_qunit):
    application = create(qunit, holder())
    with pytest.raises(RegistryError, match="无权"):
        ops.submit(application, other_qunit.admin, png(), "123456")
    with pytest.raises(workflows.NotPermitted):
        workflows.transition(application, "submit", other_qunit.admin, code_verified=True)


# ---- 7-day expiry -----------------------------------------------------------------------------


def test_seven_day_expiry_on_a_frozen_clock(qunit, clock):
    application = create(qunit, holder())
    kept = create(qunit, holder(name="盛凌"))
    clock["now"] += timedelta(days=6, hours=23)
    assert ops.expire_overdue() == 0
    code = sent_code(kept, qunit)
    upload(kept, qunit, code=code)
    clock["now"] += timedelta(hours=2)
    assert ops.expire_overdue() == 1
    db.session.commit()
    assert application.status == "expired" and kept.status == "submitted"
    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.object_id == application.id, AuditEvent.to_state == "expired")
    ).scalars()
    assert len(list(events)) == 1


def test_upload_after_the_deadline_is_refused_and_expires_it(qunit, clock):
    application = create(qunit, holder())
    code = sent_code(application, qunit)
    clock["now"] += timedelta(days=7, minutes=1)
    with pytest.raises(RegistryError, match="逾期作废"):
        ops.submit(application, qunit.admin, png(), code)
    db.session.commit()
    assert application.status == "expired" and application.form_upload_id is None
    with pytest.raises(RegistryError, match="逾期作废"):
        ops.send_code(application, qunit.admin)


def test_expire_cli(app, qunit, clock, monkeypatch):
    application = create(qunit, holder())
    application.deadline = utcnow() - timedelta(minutes=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["registry", "expire-applications"])
    assert result.exit_code == 0, result.output
    assert "1" in result.output
    db.session.expire_all()
    assert db.session.get(PublicityApplication, application.id).status == "expired"


# ---- staff review: publishing each type --------------------------------------------------------


def approve(application, casei):
    workflows.transition(application, "approve", casei)
    db.session.commit()
    return application.registration


def test_initial_publishes_a_registration(qunit, casei):
    person = holder(codes=("RT-II", "RT-III"))
    application = upload(create(qunit, person), qunit)
    registration = approve(application, casei)
    assert registration.status == "registered" and registration.organization_id == qunit.org.id
    assert [i.project_code for i in registration.items] == ["RT-III"]
    assert registration.number.startswith("ZC")
    today = workdays.today()
    assert registration.valid_until.year == today.year + 3


def test_change_moves_the_registration(qunit, other_qunit, casei):
    person = holder()
    old = register(person, other_qunit.org)
    application = create(qunit, person, resignation=png("leave.png"))
    registration = approve(upload(application, qunit), casei)
    assert registration.id == old.id and registration.organization_id == qunit.org.id
    assert registration.registered_on == workdays.today()
    assert count(PractitionerRegistration) == 1


def test_addition_adds_items_in_a_batch(qunit, casei):
    a = holder(name="孙宝岩", codes=("RT-II", "UT-II"))
    b = holder(name="宋大权", codes=("MT-II", "PT-II"))
    register(a, qunit.org, codes=("RT-II",))
    register(b, qunit.org, codes=("MT-II",))
    with pytest.raises(RegistryError, match="本人同意"):
        ops.create_additions(qunit.admin, [a.id_number, b.id_number], consent=False)
    rows = ops.create_additions(qunit.admin, [a.id_number, b.id_number], consent=True)
    db.session.commit()
    assert {r.kind for r in rows} == {"addition"}
    registration = approve(upload(rows[0], qunit), casei)
    assert sorted(i.project_code for i in registration.items) in (["RT-II", "UT-II"], ["MT-II", "PT-II"])


def test_renewal_extends_validity(qunit, casei):
    person = holder()
    today = workdays.today()
    old = register(
        person, qunit.org, registered_on=today - timedelta(days=1000), valid_until=today + timedelta(days=20)
    )
    before = old.valid_until
    registration = approve(upload(create(qunit, person), qunit), casei)
    assert registration.id == old.id and registration.valid_until.year == before.year + 3


def test_reject_needs_a_reason_and_notifies_the_unit(qunit, casei):
    application = upload(create(qunit, holder()), qunit)
    with pytest.raises(workflows.CommentRequired):
        workflows.transition(application, "reject", casei)
    workflows.transition(application, "reject", casei, comment="申报单未盖章")
    db.session.commit()
    assert application.status == "rejected" and application.reject_reason == "申报单未盖章"
    assert application.registration is None and count(PractitionerRegistration) == 0


def test_a_unit_cannot_approve(qunit):
    application = upload(create(qunit, holder()), qunit)
    with pytest.raises(workflows.NotPermitted):
        workflows.transition(application, "approve", qunit.admin)


# ---- the carrier-backed verifier against its stub ----------------------------------------------


@pytest.fixture
def carrier(app, monkeypatch):
    with ThreeFactorStub() as stub:
        for key, value in {
            "THREE_FACTOR_VERIFIER": "alibaba",
            "ALIBABA_3E_ACCESS_KEY_ID": "ali-3e-key",
            "ALIBABA_3E_ACCESS_KEY_SECRET": SECRET,
            "ALIBABA_3E_AUTH_CODE": "AUTH-42",
            "ALIBABA_3E_ENDPOINT": stub.endpoint,
        }.items():
            monkeypatch.setitem(app.config, key, value)
        yield stub


def test_carrier_verifier_signs_and_reads_the_answer(carrier):
    carrier.owners["13800000001"] = ("张振", "130982198406137314")
    verifier = three_factor.verifier()
    assert verifier.name == "alibaba"
    assert verifier.check("张振", "130982198406137314", "13800000001").result == three_factor.CONSISTENT
    assert verifier.check("盛凌", "130982198406137314", "13800000001").result == three_factor.INCONSISTENT
    assert verifier.check("张振", "130982198406137314", "13800000002").result == three_factor.UNKNOWN
    first = carrier.requests[0]
    assert first["valid"], "the client's ACS3-HMAC-SHA256 signature does not verify"
    assert first["headers"]["x-acs-action"] == "ThreeElementsVerification"
    assert first["headers"]["x-acs-version"] == "2020-02-17"
    assert first["params"]["AuthCode"] == "AUTH-42" and first["params"]["Mask"] == "NORMAL"
    assert first["params"]["CertCode"] == "130982198406137314" and first["params"]["Name"] == "张振"


def test_carrier_error_is_unknown_not_a_pass(carrier):
    carrier.fail_next = 1
    outcome = three_factor.verifier().check("张振", "130982198406137314", "13800000001")
    assert outcome.result == three_factor.UNKNOWN and "暂不可用" in outcome.message


def test_a_wrong_secret_is_caught_by_the_stub_and_is_no_verdict(carrier, app, monkeypatch):
    monkeypatch.setitem(app.config, "ALIBABA_3E_ACCESS_KEY_SECRET", "wrong")
    carrier.owners["13800000001"] = ("张振", "130982198406137314")
    outcome = three_factor.verifier().check("张振", "130982198406137314", "13800000001")
    assert carrier.requests[0]["valid"] is False
    assert outcome.result == three_factor.UNKNOWN


def test_carrier_verifier_drives_the_application(carrier, qunit):
    person = holder()
    carrier.owners[person.mobile] = (person.real_name, person.id_number)
    application = create(qunit, person)
    assert ops.verify_mobile(application, qunit.admin).passed
    other = create(qunit, holder(name="石登山"))
    assert not ops.verify_mobile(other, qunit.admin).passed and other.three_factor == "mismatch"


def test_association_user_is_not_a_unit(qunit):
    staff = make_user("association")
    with pytest.raises(RegistryError):
        ops.create_application(staff, "张振", "130982198406137314")


def test_approval_refused_when_a_certificate_was_revoked_meanwhile(qunit, casei):
    from ecqs.models import QualificationCertificate

    application = upload(create(qunit, holder()), qunit)
    cert = db.session.get(QualificationCertificate, application.items[0].certificate_id)
    cert.status = "revoked"  # set-up: revoked by its authority after the application was filed
    cert.revoked_on = workdays.today()
    db.session.commit()
    with pytest.raises(workflows.GuardFailed, match="已失效"):
        workflows.transition(application, "approve", casei)
    db.session.rollback()
    assert application.status == "submitted" and count(PractitionerRegistration) == 0


def test_the_hourly_job_expires_and_logs(qunit, clock):
    from ecqs.services import schedules

    application = create(qunit, holder())
    clock["now"] += timedelta(days=8)
    assert schedules.expire_publicity_applications(clock["now"]) == {"publicity_applications_expired": 1}
    assert application.status == "expired"
    assert schedules.hourly_publicity_expiry.name.endswith("hourly_publicity_expiry")
