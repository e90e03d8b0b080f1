"""Demo data of M4 part 2 (publicity applications), all through the operations and the engine:
certificate holders for each type at demo_unit — 王建国 never registered (初始), 李卫东 registered
at another unit for over a year (变更), 赵明 registered here with a new certificate (追加), 钱立新
due for renewal (续期) — plus 孙海涛's uploaded application waiting for casei_staff and a manual
verification 待人工核验. Idempotent (keyed on the first holder's account)."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from ecqs import workflows
from ecqs.documents import rules as document_rules
from ecqs.documents import samples as document_samples
from ecqs.extensions import db
from ecqs.models import Organization, PersonnelProject, User
from ecqs.qualifications import operations as qualification_operations
from ecqs.registry import application_operations as ops
from ecqs.registry import operations
from ecqs.services import seed_files, workdays

_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
OTHER_UNIT_USCC17 = "12130000401234567"
# username, real name, ID first 17 (陕西), mobile, certificates
HOLDERS = {
    "initial": ("demo_rt_initial", "王建国", "61011319880312101", "13800000101", ("RT-II",)),
    "change": ("demo_rt_change", "李卫东", "61011319870415102", "13800000102", ("UT-II",)),
    "addition": ("demo_rt_addition", "赵明", "61011319860520103", "13800000103", ("MT-II", "PT-II")),
    "renewal": ("demo_rt_renewal", "钱立新", "61011319850625104", "13800000104", ("RT-II",)),
    "review": ("demo_rt_review", "孙海涛", "61011319840730105", "13800000105", ("UT-II",)),
}
MANUAL_MOBILE = "13800000199"


def _png(name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(_PNG), filename=name, content_type="image/png")


def _user(username: str) -> User | None:
    return db.session.execute(select(User).where(User.username == username)).scalar()


def _person(username, name, id17, mobile) -> User:
    person = User(
        username=username,
        role="person",
        real_name=name,
        id_number=seed_files.make_id_number(id17),
        mobile=mobile,
    )
    person.set_password(seed_files.DEMO_PASSWORD)
    db.session.add(person)
    db.session.flush()
    return person


def _certify(person: User, code: str) -> None:
    """A certificate issued as in real life: applied for, received and approved by the reviewer
    of the authority it was routed to."""
    project = db.session.execute(select(PersonnelProject).where(PersonnelProject.code == code)).scalar()
    needed = document_rules.requirements("qualification", project.personnel_type, "initial")
    application = qualification_operations.submit_qualification_application(
        person, project, "initial", documents=document_samples.sample_documents(needed)
    )
    reviewer = db.session.execute(
        select(User).where(User.role == "reviewer", User.organization_id == application.authority_id)
    ).scalar()
    today = workdays.today()
    workflows.transition(application, "receive", reviewer)
    workflows.transition(
        application,
        "approve",
        reviewer,
        issued_on=today - timedelta(days=500),
        valid_until=today + timedelta(days=1000),
    )


def _other_unit(system: User, staff: User) -> User:
    """河北 unit where 李卫东 has practised for over a year, with its own approved qualification."""
    uscc = seed_files.make_uscc(OTHER_UNIT_USCC17)
    org = db.session.execute(select(Organization).where(Organization.uscc == uscc)).scalar()
    if org is None:
        org = Organization(
            kind="unit",
            name="河北省特种设备监督检验研究院",
            uscc=uscc,
            division_code="130000",
            address="石家庄市长安区",
            cert_type="综合检验机构",
            contact_name="周强",
            contact_mobile="13800000109",
            status="pending",
        )
        admin = User(
            username="demo_unit_hebei",
            role="unit",
            organization=org,
            is_org_admin=True,
            real_name="周强",
            mobile="13800000109",
        )
        admin.set_password(seed_files.DEMO_PASSWORD)
        db.session.add_all([org, admin])
        db.session.flush()
        workflows.transition(org, "approve", system, comment="演示数据")
        today = workdays.today()
        qualification = operations.file_qualification_request(
            admin,
            "inspection",
            "TS7131001-2029",
            today - timedelta(days=700),
            today + timedelta(days=1000),
            certificate=_png("hebei.png"),
        )
        workflows.transition(qualification, "approve", staff, comment="演示数据")
    return db.session.execute(
        select(User).where(User.organization_id == org.id, User.is_org_admin.is_(True))
    ).scalar()


def _publish(unit_admin: User, person: User, staff: User, registered_days_ago: int, valid_days_left=None):
    """Apply, upload with the practitioner's code, approve: the registration is published; then
    its dates are set back to show the demo's situation (registered long ago, due soon)."""
    application = _upload(unit_admin, person)
    workflows.transition(application, "approve", staff, comment="演示数据")
    registration = application.registration
    today = workdays.today()
    registration.registered_on = today - timedelta(days=registered_days_ago)
    if valid_days_left is not None:
        registration.valid_until = today + timedelta(days=valid_days_left)
    db.session.flush()
    return registration


def _upload(unit_admin: User, person: User):
    application = ops.create_application(unit_admin, person.real_name, person.id_number)
    code = ops.send_code(application, unit_admin)
    ops.submit(application, unit_admin, _png("form.png"), code)
    return application


def load_application_demo() -> int:
    unit_admin, staff, system = _user("demo_unit"), _user("casei_staff"), _user("admin")
    if unit_admin is None or staff is None or system is None or _user(HOLDERS["initial"][0]) is not None:
        return 0
    if not db.session.execute(select(PersonnelProject.id).where(PersonnelProject.code == "RT-II")).first():
        return 0
    people = {}
    for kind, (username, name, id17, mobile, codes) in HOLDERS.items():
        people[kind] = _person(username, name, id17, mobile)
        for code in codes:
            _certify(people[kind], code)
    hebei = _other_unit(system, staff)
    _publish(hebei, people["change"], staff, registered_days_ago=400)
    # 赵明: registered here with MT-II; his PT-II certificate is the new item (追加).
    addition = people["addition"]
    application = ops.create_application(
        unit_admin,
        addition.real_name,
        addition.id_number,
        project_ids=[
            db.session.execute(select(PersonnelProject.id).where(PersonnelProject.code == "MT-II")).scalar()
        ],
    )
    code = ops.send_code(application, unit_admin)
    ops.submit(application, unit_admin, _png("form.png"), code)
    workflows.transition(application, "approve", staff, comment="演示数据")
    _publish(unit_admin, people["renewal"], staff, registered_days_ago=1040, valid_days_left=55)
    _upload(unit_admin, people["review"])  # waits for casei_staff in 执业公示审核
    initial = people["initial"]
    ops.file_verification(
        unit_admin,
        initial.real_name,
        initial.id_number,
        MANUAL_MOBILE,
        proof=_png("mobile.png"),
        remarks="执业人手机号为单位集团号，非本人实名登记",
    )
    db.session.flush()
    return len(people) + 1
