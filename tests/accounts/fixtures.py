"""Helpers and fixtures of the M0 tests (accounts, organisations, role-guarded grids)."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import func, select

from ecqs.extensions import db
from ecqs.models import SmsMessage

# Smallest files whose magic bytes filetype recognises.
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def pdf(name: str = "营业执照.pdf", data: bytes = PDF_BYTES):
    return (io.BytesIO(data), name)


def last_sms_code(mobile: str) -> str:
    """The 6-digit code of the newest outbox message to `mobile`."""
    body = db.session.execute(
        select(SmsMessage.body).where(SmsMessage.mobile == mobile).order_by(SmsMessage.id.desc()).limit(1)
    ).scalar()
    assert body, f"no SMS to {mobile}"
    return re.search(r"\d{6}", body).group(0)


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def xlsx_rows(response) -> list[list]:
    assert response.status_code == 200, response.status_code
    wb = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return [list(row) for row in wb.active.iter_rows(values_only=True)]


def text(response) -> str:
    return response.get_data(as_text=True)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no csrf token in page"
    return match.group(1)


def session_login(client, user) -> str:
    """Log `user` in on `client` without the login form (for apps whose login needs a captcha
    or an SMS factor): a server-side session row plus Flask-Login's key in the cookie."""
    import secrets

    from ecqs.models import UserSession

    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(token=token, user_id=user.id))
    db.session.commit()
    with client.session_transaction() as sess:
        sess["_user_id"] = token
        sess["_fresh"] = True
    return token
