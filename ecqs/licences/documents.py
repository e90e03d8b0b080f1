"""The documents of a production licence procedure that leave the system on paper: 补正告知书,
受理决定书 and the licence certificate. The last two carry a QR code that opens the public
verification page (no login) at an unguessable token, never at the row id."""

from __future__ import annotations

from dataclasses import dataclass

import segno
from flask import Blueprint, render_template, url_for
from sqlalchemy import or_, select

from ecqs.extensions import db, limiter
from ecqs.i18n import gettext as _
from ecqs.models import LicenceApplication

bp = Blueprint("licence_verify", __name__)


def verify_url(token: str) -> str:
    return url_for("licence_verify.verify", token=token, _external=True)


def qr_data_uri(url: str) -> str:
    """An SVG QR code as a data: URI (the CSP allows data: images, nothing inline to run)."""
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


@dataclass
class Verdict:
    kind: str  # 'decision' or 'certificate'
    genuine: bool
    current: bool
    message: str


def verdict(application: LicenceApplication, token: str) -> Verdict:
    if token == application.certificate_token:
        if application.licence_is_current:
            return Verdict("certificate", True, True, _("该许可证真实有效"))
        if application.status == "granted":
            return Verdict("certificate", True, False, _("该许可证真实，但不在有效期内"))
        return Verdict("certificate", True, False, _("该许可证真实，但已失效"))
    # 受理决定书: current while the procedure it opened is still running or ended in a licence.
    if application.status in ("accepted", "engaged", "scheduled", "reviewed", "granted"):
        return Verdict("decision", True, True, _("该受理决定书真实有效"))
    return Verdict(
        "decision",
        True,
        False,
        _("该受理决定书真实，但对应的许可程序已终结（%(state)s）", state=application.status_label),
    )


@bp.route("/verify/licence/<token>")
@limiter.limit("60/minute")
def verify(token: str):
    """证书/许可核验: public, no login; shows only what the paper document itself shows."""
    application = None
    if 20 <= len(token) <= 64:
        application = db.session.execute(
            select(LicenceApplication).where(
                or_(
                    LicenceApplication.acceptance_token == token,
                    LicenceApplication.certificate_token == token,
                )
            )
        ).scalar()
    if application is None:
        return render_template("licence/verify.html", application=None, verdict=None), 404
    return render_template(
        "licence/verify.html", application=application, verdict=verdict(application, token)
    )
