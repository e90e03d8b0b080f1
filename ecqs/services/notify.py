"""In-app notices and SMS to users, queued in the current transaction."""

from __future__ import annotations

from ecqs.extensions import db
from ecqs.models import Notification, User
from ecqs.services import mail, sms


def notify_user(user: User, title: str, body: str | None = None, link: str | None = None, sms_text=None):
    """Add an in-app notification; also an SMS when `sms_text` is given and the user has a mobile."""
    db.session.add(Notification(user_id=user.id, title=str(title)[:200], body=body, link=link))
    if user.email and user.email_notices:  # opted in under 个人中心 → 通知设置
        mail.send(user.email, title, "\n\n".join(str(part) for part in (title, body) if part))
    if sms_text and user.mobile:
        sms.send(user.mobile, f"【e-CQS】{sms_text}"[:500], "notice")
