"""The printed qualification certificate 资格证书 and its public verification page: the QR code
on the paper opens /verify/certificate/<token> (no login) at an unguessable token, never at the
row id or the number, and the page says whether the certificate is genuine and still stands."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from sqlalchemy import select

from ecqs.extensions import db, limiter
from ecqs.i18n import gettext as _
from ecqs.licences.documents import qr_data_uri
from ecqs.models import QualificationCertificate
from ecqs.qualifications import rules
from ecqs.services import workdays
from ecqs.services.masking import mask_id_number

bp = Blueprint("certificate_verify", __name__)

__all__ = ["bp", "qr_data_uri", "verdict", "verify_url"]


def verify_url(certificate: QualificationCertificate) -> str:
    return url_for("certificate_verify.verify", token=certificate.verify_token, _external=True)


def verdict(certificate: QualificationCertificate) -> tuple[str, str]:
    """(standing, message) of the verification page: valid / expired / superseded / revoked."""
    standing = rules.certificate_standing(certificate, workdays.today())
    messages = {
        "valid": _("该资格证书真实有效"),
        "expired": _(
            "该资格证书真实，但已过期（有效期至 %(date)s）", date=certificate.valid_until.isoformat()
        ),
        "superseded": _("该资格证书真实，但已换发新证，本证不再有效"),
        "revoked": _(
            "该资格证书已撤销（撤销日期 %(date)s），不再有效",
            date=certificate.revoked_on.isoformat() if certificate.revoked_on else "-",
        ),
    }
    return standing, messages[standing]


@bp.route("/verify/certificate/<token>")
@limiter.limit("60/minute")
def verify(token: str):
    """资格证书核验: public, no login; shows only what the paper shows, the ID number masked."""
    certificate = None
    if 20 <= len(token) <= 64:
        certificate = db.session.execute(
            select(QualificationCertificate).where(QualificationCertificate.verify_token == token)
        ).scalar()
    if certificate is None:
        return render_template("qualification/verify.html", certificate=None), 404
    standing, message = verdict(certificate)
    return render_template(
        "qualification/verify.html",
        certificate=certificate,
        standing=standing,
        message=message,
        id_number=mask_id_number(certificate.holder_id_number),
    )
