"""The public front page `/` (门户首页): 通知公告 published to everyone, the public queries, login
and registration — for visitors; a signed-in user sees the way into the back office instead."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user
from sqlalchemy import select

from ecqs.extensions import db
from ecqs.models import Notice, utcnow

NOTICES_ON_HOME = 10


def public_notices(limit: int = NOTICES_ON_HOME) -> list[Notice]:
    """Published notices addressed to everyone (role-addressed ones stay in the back office)."""
    stmt = (
        select(Notice)
        .where(Notice.audience == "all", Notice.published_at <= utcnow())
        .order_by(Notice.published_at.desc(), Notice.id.desc())
        .limit(limit)
    )
    return list(db.session.execute(stmt).scalars())


def home_page():
    notice_id = request.args.get("notice", type=int)
    notices = public_notices()
    opened = next((n for n in notices if n.id == notice_id), None)
    return render_template(
        "public_home.html",
        notices=notices,
        opened=opened,
        signed_in=current_user.is_authenticated,
    )
