"""Demo data of M4: demo_unit has a branch, a sub-account, an approved qualification (expiring
within 30 days) and a pending one, a change request and a question waiting, and two notices;
casei_staff also finds a new unit's registration waiting. Part 2: demo_unit has registered
practitioners (one at its branch) and a 注销申请 uploaded and waiting for casei_staff's 注销审核.
Idempotent; everything is created through the operations and the engine."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import func, select
from stdnum.cn import ric
from werkzeug.datastructures import FileStorage

from ecqs import workflows
from ecqs.extensions import db
from ecqs.models import (
    Organization,
    PersonnelProject,
    PractitionerRegistration,
    RegistryNotice,
    UnitChangeRequest,
    UnitQualificationRequest,
    UnitQuestion,
    User,
    utcnow,
)
from ecqs.registry import operations, registrations
from ecqs.services import seed_files, workdays

# A 1×1 PNG standing in for scanned certificates and proofs.
_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
PENDING_UNIT_USCC17 = "12440000455801234"


def _png(name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(_PNG), filename=name, content_type="image/png")


def _user(username):
    return db.session.execute(select(User).where(User.username == username)).scalar()


def load_registry_demo() -> int:
    admin = _user("demo_unit")
    staff = _user("casei_staff")
    if admin is None or staff is None or not admin.org_approved:
        return 0
    org = admin.organization
    created = 0
    if not db.session.execute(select(Organization.id).where(Organization.parent_id == org.id)).first():
        operations.create_branch(admin, "陕西省特种设备检验检测研究院宝鸡分院", address="宝鸡市渭滨区")
        created += 1
    if _user("demo_unit_sub") is None:
        sub = User(
            username="demo_unit_sub",
            role="unit",
            organization=org,
            is_org_admin=False,
            real_name="单位子账号",
            mobile="13800000019",
            created_by_id=admin.id,
        )
        sub.set_password(seed_files.DEMO_PASSWORD)
        db.session.add(sub)
        created += 1
    count = db.session.execute(
        select(func.count())
        .select_from(UnitQualificationRequest)
        .where(UnitQualificationRequest.organization_id == org.id)
    ).scalar()
    if not count:
        today = workdays.today()
        held = operations.file_qualification_request(
            admin,
            "inspection",
            "TS7161001-2026",
            today - timedelta(days=1800),
            today + timedelta(days=20),
            certificate=_png("certificate.png"),
        )
        workflows.transition(held, "approve", staff, comment="演示数据")
        operations.file_qualification_request(
            admin,
            "type_test",
            "TS7161002-2031",
            today,
            today + timedelta(days=1826),
            certificate=_png("type.png"),
        )
        created += 2
    if not db.session.execute(
        select(UnitChangeRequest.id).where(UnitChangeRequest.organization_id == org.id)
    ).first():
        operations.file_change_request(
            admin,
            "info",
            {"address": "西安市未央区凤城八路 100 号", "postcode": "710018"},
            proof=_png("proof.png"),
            reason="单位搬迁",
        )
        created += 1
    if not db.session.execute(select(UnitQuestion.id).where(UnitQuestion.organization_id == org.id)).first():
        operations.ask_question(
            admin, "单位信息变更需要哪些证明材料？", "我单位地址变更，请问需要提交哪些证明材料？"
        )
        created += 1
    if not db.session.execute(select(RegistryNotice.id)).first():
        db.session.add_all(
            [
                RegistryNotice(
                    kind="publicity",
                    title="关于开展 2026 年度执业公示工作的通知",
                    body="各执业单位：请于规定时间内完成本单位执业人员的公示申报。",
                    created_by_id=staff.id,
                ),
                RegistryNotice(
                    kind="member",
                    title="关于缴纳 2026 年度会费的通知",
                    body="各会员单位：请按时缴纳年度会费。",
                    created_by_id=staff.id,
                ),
            ]
        )
        created += 2
    uscc = seed_files.make_uscc(PENDING_UNIT_USCC17)
    if not db.session.execute(select(Organization.id).where(Organization.uscc == uscc)).first():
        pending = Organization(
            kind="unit",
            name="广东华胜检验有限公司",
            uscc=uscc,
            legal_rep_name="王霓",
            division_code="440000",
            address="广州市天河区示范路 1 号",
            postcode="510000",
            phone="020-80000000",
            cert_type="电梯检测机构",
            cert_level="市级以下",
            cert_industry="质检",
            contact_name="唐建",
            contact_mobile="13800000029",
            status="pending",
            submitted_at=utcnow(),
        )
        contact = User(
            username="demo_unit_pending",
            role="unit",
            organization=pending,
            is_org_admin=True,
            real_name="唐建",
            mobile="13800000029",
        )
        contact.set_password(seed_files.DEMO_PASSWORD)
        db.session.add_all([pending, contact])
        created += 1
    db.session.flush()
    created += _registrations_demo(admin, staff)
    return created


# Registered practitioners of demo_unit: (username, name, ID first 17, mobile, items, at branch?)
PRACTITIONERS = (
    ("demo_reg_zhang", "张振", "61010319840613731", "13800000031", ("RT-II", "UT-II"), False),
    ("demo_reg_sheng", "盛凌", "61010319760428923", "13800000032", ("MT-II",), False),
    ("demo_reg_shi", "石登山", "61030219810802033", "13800000033", ("PT-II",), True),
    ("demo_reg_li", "李卫东", "61010319790315211", "13800000034", ("RT-II",), False),
)


def _registrations_demo(admin, staff) -> int:
    org = admin.organization
    if db.session.execute(
        select(PractitionerRegistration.id).where(
            registrations.unit_condition(PractitionerRegistration.organization_id, org.id)
        )
    ).first():
        return 0
    branch = db.session.execute(select(Organization).where(Organization.parent_id == org.id)).scalar()
    today = workdays.today()
    made = []
    for username, name, first17, mobile, codes, at_branch in PRACTITIONERS:
        person = _user(username)
        if person is None:
            person = User(
                username=username,
                role="person",
                real_name=name,
                id_number=first17 + ric.calc_check_digit(first17 + "0"),
                mobile=mobile,
            )
            person.set_password(seed_files.DEMO_PASSWORD)
            db.session.add(person)
            db.session.flush()
        projects = [
            db.session.execute(select(PersonnelProject).where(PersonnelProject.code == code)).scalar()
            for code in codes
        ]
        items = [(p, p.code.split("-")[-1]) for p in projects if p is not None]
        if not items or registrations.registered_at(person.id_number) is not None:
            continue
        unit = branch if at_branch and branch is not None else org
        made.append(
            registrations.record_registration(
                person,
                unit,
                items,
                today - timedelta(days=500),
                today - timedelta(days=500) + timedelta(days=1826),
            )
        )
    if len(made) >= 2:
        leaving = made[-1]
        request = registrations.file_deregistration(admin, {leaving.id: "已与本单位解除劳动合同"})
        workflows.transition(
            request, "submit", admin, scan=_png("stamped.png"), courier_number="SF1402876543"
        )
    return len(made)
