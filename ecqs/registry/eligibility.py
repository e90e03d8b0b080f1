"""Who may be applied for, and as what: the type of a publicity application 执业公示申报类型
(初始 / 变更 / 追加 / 续期) and the eligibility table of seed 004 §3.3.1 (要求分类, 注册申报条件,
是否符合要求, 申报备注说明), every failed rule with its Chinese reason. Queries only: the
create operation, the search page and the tests read the same assessment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import (
    OPEN_APPLICATION_STATES,
    Organization,
    PractitionerRegistration,
    PublicityApplication,
    QualificationCertificate,
    UnitQualificationRequest,
    User,
)
from ecqs.qualifications import rules as qualification_rules
from ecqs.registry.registrations import unit_condition, unit_ids
from ecqs.services import workdays

# A registration is valid for three years from publication; 续期 adds three years (the seed and
# SPEC give no length: three years is CASEI's publicity period, recorded in README).
REGISTRATION_YEARS = 3
RENEWAL_WINDOW_DAYS = 90  # 续期 is offered from 90 days before the registration ends
CHANGE_MIN_DAYS = 365  # 变更单位: one year at the previous unit
UPLOAD_DAYS = 7  # print, sign, stamp and upload within 7 days, else 逾期作废

# Levels of one item, lowest first (TSG Z8001: I/II/III; TSG Z8002: 检验员/检验师/高级检验师).
LEVEL_RANK = {"I": 1, "II": 2, "III": 3, "检验员": 1, "检验师": 2, "高级检验师": 3}

CATEGORY_LABELS = {
    "unit": _l("单位资质要求"),
    "one_unit": _l("注册审核要求"),
    "one_open": _l("注册审核要求"),
    "items": _l("资质项目要求"),
    "change": _l("变更单位要求"),
}
RULE_TEXT = {
    "unit": _l("所在单位须已通过审核，且有审核通过并在有效期内的单位资质"),
    "one_unit": _l("申请注册的人员只能在一个单位办理执业注册申报"),
    "one_open": _l("个人的注册申报只有现有申请完成之后才能再次申报"),
    "items": _l(
        "1、申请注册的人员应持有有效的资格证书（已撤销、已过期、已换发的不计）；"
        "2、具有相同资质项目的多个不同级别证书，只能申请最高级别资质项目"
    ),
    "change": _l(
        "1、变更单位注册要求注册的人员在原单位进行执业注册满1年；"
        "2、由于原单位破产解散等原因而变更单位的注册人员不受1年限制；"
        "3、从未在中国特种设备检验协会注册过的人员不受1年限制"
    ),
}


@dataclass
class Check:
    key: str
    ok: bool
    reason: str = ""

    @property
    def category(self) -> str:
        return str(CATEGORY_LABELS[self.key])

    @property
    def requirement(self) -> str:
        return str(RULE_TEXT[self.key])


@dataclass
class Assessment:
    """The outcome of a person search: who, which type, which items, each rule's verdict."""

    person_name: str
    id_number: str
    person: User | None = None
    kind: str | None = None
    certificates: list[QualificationCertificate] = field(default_factory=list)  # the items to apply
    all_valid: list[QualificationCertificate] = field(default_factory=list)  # every valid one
    registration: PractitionerRegistration | None = None  # current registration (any unit)
    previous_unit: Organization | None = None  # 变更: the unit left
    needs_resignation_proof: bool = False
    checks: list[Check] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return self.kind is not None and all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def mobile(self) -> str | None:
        if self.person is not None and self.person.mobile:
            return self.person.mobile
        return self.registration.mobile if self.registration is not None else None


def item_key(cert) -> str:
    """The item a certificate (or registered item) is of, whatever its level: RT-II and RT-III
    are both RT; an inspector item without a code is its name."""
    code = cert.project_code or ""
    if code and "-" in code:
        return code.rsplit("-", 1)[0]
    return code or cert.project_name


def level_rank(level: str | None) -> int:
    return LEVEL_RANK.get((level or "").strip(), 0)


def highest_per_item(certificates) -> list:
    """Of several certificates of one item, the highest level only (then the latest expiry)."""
    best: dict = {}
    for cert in certificates:
        key = item_key(cert)
        current = best.get(key)
        if current is None or (level_rank(cert.level), cert.valid_until) > (
            level_rank(current.level),
            current.valid_until,
        ):
            best[key] = cert
    return sorted(best.values(), key=lambda c: (c.project_code, c.project_name))


def unit_qualified(org: Organization, today: date) -> bool:
    """The unit is approved and holds an approved, unexpired qualification 单位资质."""
    if org is None or not org.is_approved:
        return False
    return (
        db.session.execute(
            select(UnitQualificationRequest.id).where(
                UnitQualificationRequest.organization_id == org.id,
                UnitQualificationRequest.status == "approved",
                UnitQualificationRequest.valid_until >= today,
            )
        ).first()
        is not None
    )


def open_applications(id_number: str) -> list[PublicityApplication]:
    return list(
        db.session.execute(
            select(PublicityApplication).where(
                PublicityApplication.id_number == id_number,
                PublicityApplication.status.in_(OPEN_APPLICATION_STATES),
            )
        ).scalars()
    )


def current_registration(id_number: str) -> PractitionerRegistration | None:
    return db.session.execute(
        select(PractitionerRegistration)
        .where(
            PractitionerRegistration.id_number == id_number, PractitionerRegistration.status == "registered"
        )
        .order_by(PractitionerRegistration.id.desc())
        .limit(1)
    ).scalar()


def latest_registration(id_number: str) -> PractitionerRegistration | None:
    return db.session.execute(
        select(PractitionerRegistration)
        .where(PractitionerRegistration.id_number == id_number)
        .order_by(PractitionerRegistration.registered_on.desc(), PractitionerRegistration.id.desc())
        .limit(1)
    ).scalar()


def find_person(name: str, id_number: str) -> User | None:
    """The personal account of exactly this name and ID number, if there is one."""
    return db.session.execute(
        select(User)
        .where(User.role == "person", User.id_number == id_number, User.real_name == name)
        .limit(1)
    ).scalar()


def new_items(registration: PractitionerRegistration, certificates) -> list:
    """Certificates of items the registration lacks, or of a higher level than it holds."""
    held = {item_key(i): level_rank(i.level) for i in registration.items}
    return [c for c in certificates if item_key(c) not in held or level_rank(c.level) > held[item_key(c)]]


def check_requested(certificates, requested_project_ids, all_valid=()) -> Check:
    """资质项目要求 for a chosen set of projects: each must be one the person may apply for (a
    valid certificate's), and only the highest level of an item."""
    wanted = set(requested_project_ids)
    if not wanted:
        return Check("items", False, _("请至少选择一个资质项目"))
    allowed = {c.project_id for c in certificates}
    best = {item_key(c): c for c in certificates}
    for pid in wanted - allowed:
        lower = next((c for c in all_valid if c.project_id == pid), None)
        if lower is not None and item_key(lower) in best:
            return Check(
                "items",
                False,
                _(
                    "%(item)s 持有多个级别的证书，只能申请最高级别 %(level)s",
                    item=lower.project_label,
                    level=best[item_key(lower)].level,
                ),
            )
        return Check("items", False, _("所选项目没有有效的资格证书"))
    return Check("items", True)


def _no_certificate() -> str:
    return _("该人员没有有效的资格证书（已撤销、已过期、已换发的证书不计）")


def assess(org: Organization, name: str, id_number: str, today: date | None = None) -> Assessment:
    """Decide the type and run every rule of seed 004 §3.3.1 for this person at `org`."""
    today = today or workdays.today()
    person = find_person(name, id_number)
    all_valid = [c for c in qualification_rules.valid_certificates(id_number, today) if c.holder_name == name]
    highest = highest_per_item(all_valid)
    registration = current_registration(id_number)
    latest = registration or latest_registration(id_number)
    result = Assessment(
        person_name=name, id_number=id_number, person=person, registration=registration, all_valid=all_valid
    )
    units = set(unit_ids(org.id))

    # 单位资质要求
    result.checks.append(
        Check("unit", unit_qualified(org, today), "" if unit_qualified(org, today) else _unit_reason(org))
    )
    # 注册审核要求: one unit, one open application
    open_apps = open_applications(id_number)
    elsewhere = [a for a in open_apps if a.organization_id not in units]
    here = [a for a in open_apps if a.organization_id in units]
    result.checks.append(
        Check(
            "one_unit",
            not elsewhere,
            _("该人员已在“%(unit)s”办理执业公示申报", unit=elsewhere[0].organization.name)
            if elsewhere
            else "",
        )
    )
    result.checks.append(
        Check(
            "one_open",
            not here,
            _("该人员已有未完成的申报单 %(number)s，完成之后才能再次申报", number=here[0].number)
            if here
            else "",
        )
    )

    # The type, and the items it applies for.
    if registration is not None and registration.organization_id in units:
        fresh = new_items(registration, highest)
        if registration.valid_until < today:
            result.kind, items = "renewal", highest
        elif fresh:
            result.kind, items = "addition", fresh
        elif registration.valid_until <= today + timedelta(days=RENEWAL_WINDOW_DAYS):
            result.kind, items = "renewal", highest
        else:
            result.kind, items = None, []
    elif latest is not None and latest.organization_id not in units:
        result.kind, items = "change", highest
        result.previous_unit = latest.organization
        result.needs_resignation_proof = registration is not None
    else:
        result.kind, items = "initial", highest
    result.certificates = items

    # 资质项目要求
    if not all_valid:
        result.checks.append(Check("items", False, _no_certificate()))
    elif result.kind is None:
        result.checks.append(
            Check("items", False, _("该人员已在本单位注册，没有可追加的资质项目，也未到续期时间"))
        )
    else:
        result.checks.append(Check("items", True))

    # 变更单位要求
    if result.kind == "change":
        result.checks.append(change_check(latest, today))
    else:
        result.checks.append(Check("change", True))
    return result


def change_check(previous: PractitionerRegistration | None, today: date) -> Check:
    """One year at the previous unit, unless it went bankrupt/dissolved or there was none."""
    if previous is None:
        return Check("change", True)
    if previous.organization is not None and previous.organization.dissolved:
        return Check("change", True)
    if previous.registered_on <= today - timedelta(days=CHANGE_MIN_DAYS):
        return Check("change", True)
    return Check(
        "change",
        False,
        _(
            "该人员于 %(day)s 在“%(unit)s”注册，未满 1 年，不能变更单位",
            day=previous.registered_on.isoformat(),
            unit=previous.organization.name if previous.organization else "",
        ),
    )


def _unit_reason(org: Organization) -> str:
    if org is None or not org.is_approved:
        return _("所在单位尚未通过审核")
    return _("所在单位没有审核通过且在有效期内的单位资质，请先在“单位资质管理”中申请")


def addition_candidates(org: Organization, today: date | None = None) -> list[Assessment]:
    """追加: every person registered at the unit (or its branches) with new items, eligible."""
    today = today or workdays.today()
    registrations = db.session.execute(
        select(PractitionerRegistration)
        .where(
            unit_condition(PractitionerRegistration.organization_id, org.id),
            PractitionerRegistration.status == "registered",
        )
        .order_by(PractitionerRegistration.id)
    ).scalars()
    found = []
    for registration in registrations:
        result = assess(org, registration.person_name, registration.id_number, today)
        if result.kind == "addition" and result.eligible:
            found.append(result)
    return found
