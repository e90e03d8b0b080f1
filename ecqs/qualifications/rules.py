"""Personnel qualification 人员资格认定: which authority an application goes to, which
certificates a person holds, and the numbers of new certificates. Queries only; every state
change is in workflows.py."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, or_, select

from ecqs.extensions import db
from ecqs.models import Division, Organization, QualificationCertificate, User

CERTIFICATE_PREFIX = "RY"  # 人员; readable numbers: RY-610000-2026-00001


def province_from_id_number(id_number: str | None) -> str | None:
    """The province of a resident ID number (GB 11643: first two digits), if it is a known one."""
    if not id_number or len(id_number) < 2 or not id_number[:2].isdigit():
        return None
    code = id_number[:2] + "0000"
    division = db.session.get(Division, code)
    return code if division is not None and division.level == 1 else None


def provinces() -> list[Division]:
    return list(
        db.session.execute(select(Division).where(Division.level == 1).order_by(Division.code)).scalars()
    )


def find_authority(approval_level: str | None, province_code: str | None) -> Organization | None:
    """The approving authority: SAMR for national projects, the province's bureau otherwise."""
    query = select(Organization).where(Organization.kind == "authority", Organization.status == "approved")
    if approval_level == "national":
        query = query.where(Organization.authority_level == "national")
    elif approval_level == "provincial" and province_code:
        query = query.where(
            Organization.authority_level == "provincial", Organization.division_code == province_code
        )
    else:
        return None
    return db.session.execute(query.order_by(Organization.id).limit(1)).scalar()


def _held_by(person: User):
    if person.id_number:
        return or_(
            QualificationCertificate.holder_id == person.id,
            QualificationCertificate.holder_id_number == person.id_number,
        )
    return QualificationCertificate.holder_id == person.id


def current_certificate(person: User, project_id: int, on: date) -> QualificationCertificate | None:
    """The person's valid, unexpired certificate of this project (latest expiry first)."""
    return db.session.execute(
        select(QualificationCertificate)
        .where(
            _held_by(person),
            QualificationCertificate.project_id == project_id,
            _valid_on(on),
        )
        .order_by(QualificationCertificate.valid_until.desc(), QualificationCertificate.id.desc())
        .limit(1)
    ).scalar()


def valid_certificates(id_number: str, on: date) -> list[QualificationCertificate]:
    """Every current certificate of the person with this resident ID (for M4's eligibility rules)."""
    return list(
        db.session.execute(
            select(QualificationCertificate)
            .where(
                QualificationCertificate.holder_id_number == id_number,
                _valid_on(on),
            )
            .order_by(QualificationCertificate.project_code, QualificationCertificate.id)
        ).scalars()
    )


def next_certificate_number(authority: Organization, year: int) -> str:
    """RY-<authority division>-<year>-<sequence>; the unique constraint settles any race."""
    prefix = f"{CERTIFICATE_PREFIX}-{authority.division_code or '000000'}-{year}-"
    last = db.session.execute(
        select(func.max(QualificationCertificate.number)).where(
            QualificationCertificate.number.like(prefix + "%")
        )
    ).scalar()
    seq = 1
    if last:
        tail = last[len(prefix) :]
        seq = int(tail) + 1 if tail.isdigit() else 1
    return f"{prefix}{seq:05d}"


def certificate_number_taken(number: str) -> bool:
    return (
        db.session.execute(
            select(QualificationCertificate.id).where(QualificationCertificate.number == number)
        ).first()
        is not None
    )


def reviewed_authority(user: User) -> int | None:
    """The authority whose applications and certificates this user reviews: a reviewer's own
    organisation (None for everyone else). The party check, the row scopes and the
    certificate grid all ask this one question."""
    if user is None or getattr(user, "role", None) != "reviewer":
        return None
    return user.organization_id


def may_review(user: User, authority_id: int | None) -> bool:
    """May `user` review the records of the authority `authority_id`?"""
    return authority_id is not None and reviewed_authority(user) == authority_id


def _valid_on(on: date):
    # The SQL form of QualificationCertificate.is_current: a superseded, revoked or expired
    # certificate fails every check that needs a valid one.
    return (QualificationCertificate.status == "valid") & (QualificationCertificate.valid_until >= on)


def certificate_standing(certificate: QualificationCertificate, on: date) -> str:
    """'valid', 'expired', 'superseded' or 'revoked': what the grid's badge, the printed page and
    the public verification page say of a certificate on `on`."""
    if certificate.status != "valid":
        return certificate.status
    return "valid" if certificate.valid_until >= on else "expired"


def shows_full_id_number(user, certificate: QualificationCertificate) -> bool:
    """The holder and staff (a reviewer of the issuing authority, an administrator) read the
    holder's resident ID in full; everyone else sees it masked."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return (
        user.id == certificate.holder_id or user.role == "admin" or may_review(user, certificate.authority_id)
    )
