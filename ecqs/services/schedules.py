"""Periodic work on the job queue (Huey crontab), replacing "run the CLI from cron": the daily
expiry reminder digest, statutory-deadline warnings to reviewers, and purges. Each run is
logged with what it did (log line and an audit event `scheduled_run`); the CLI commands stay
for manual runs and call the same functions."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.instruments.reminders import send_reminders
from ecqs.models import SmsCode, User, UserSession, utcnow
from ecqs.registry import application_operations
from ecqs.services import audit, captcha, exports, inbox, rate_limits, uploads, workdays
from ecqs.services.jobs import app_periodic_task, crontab
from ecqs.services.notify import notify_user

log = logging.getLogger("ecqs.schedules")
DEADLINE_WARNING_WORKING_DAYS = 3
KEEP_ENDED_SESSIONS_DAYS = 30
KEEP_SMS_CODES_DAYS = 1


def _logged(name: str, outcome: dict) -> dict:
    log.info("scheduled %s: %s", name, outcome)
    audit.record_now(
        "scheduled_run", result="success", action=name[:40], comment=json.dumps(outcome, ensure_ascii=False)
    )
    return outcome


def deadline_warnings(today=None) -> dict:
    """Notify each reviewer of the items in their inbox due within 3 working days or overdue."""
    today = today or workdays.today()
    horizon = workdays.add_working_days(today, DEADLINE_WARNING_WORKING_DAYS)
    warned = overdue_total = 0
    reviewers = db.session.execute(
        select(User).where(User.role == "reviewer", User.active.is_(True))
    ).scalars()
    for user in reviewers:
        # The inbox builds links with url_for: outside a request (consumer, CLI) give it one.
        with current_app.test_request_context("/"):
            mine = inbox.items_for(user)
        items = [i for i in mine if i.deadline is not None and i.deadline <= horizon]
        if not items:
            continue
        overdue = sum(1 for i in items if i.overdue)
        overdue_total += overdue
        notify_user(
            user,
            _(
                "办理期限提醒：%(overdue)d 件已超期，%(soon)d 件 %(days)d 个工作日内到期",
                overdue=overdue,
                soon=len(items) - overdue,
                days=DEADLINE_WARNING_WORKING_DAYS,
            ),
            body="\n".join(f"{i.deadline.isoformat()} {i.title}（{i.state}）" for i in items[:20]),
        )
        warned += 1
    db.session.commit()
    return {"reviewers_warned": warned, "overdue": overdue_total}


def purge(now=None) -> dict:
    """Delete expired or spent captcha challenges, expired SMS codes, long-ended sessions,
    rate-limit counters whose window ended, export files past their keeping time and wizard
    uploads never claimed within their lifetime (the services' own purges, which also run on
    write)."""
    now = now or utcnow()
    captchas = captcha.purge(now)
    codes = db.session.execute(
        delete(SmsCode).where(SmsCode.expires_at < now - timedelta(days=KEEP_SMS_CODES_DAYS))
    ).rowcount
    sessions = db.session.execute(
        delete(UserSession).where(
            UserSession.ended_at.is_not(None),
            UserSession.ended_at < now - timedelta(days=KEEP_ENDED_SESSIONS_DAYS),
        )
    ).rowcount
    counters = rate_limits.purge_expired(now.timestamp())
    db.session.commit()
    files = exports.purge_expired(now)
    unclaimed, _held = uploads.purge_quarantine(now.timestamp())
    return {
        "captcha_challenges": captchas,
        "sms_codes": codes,
        "ended_sessions": sessions,
        "rate_counters": counters,
        "export_files": files,
        "quarantined_uploads": unclaimed,
    }


# ---- the schedules (China time: the consumer runs crontabs in UTC, huey utc=True) ------------


@app_periodic_task(crontab(minute="0", hour="0"))  # 08:00 Beijing time
def daily_expiry_reminders():
    return _logged("expiry_reminders", send_reminders())


@app_periodic_task(crontab(minute="30", hour="0"))  # 08:30 Beijing time
def daily_deadline_warnings():
    return _logged("deadline_warnings", deadline_warnings())


@app_periodic_task(crontab(minute="15"))  # hourly
def hourly_purge():
    return _logged("purge", purge())


def expire_publicity_applications(now=None) -> dict:
    """逾期作废: publicity applications not uploaded within 7 days end; their forms are void."""
    expired = application_operations.expire_overdue(now)
    db.session.commit()
    return {"publicity_applications_expired": expired}


@app_periodic_task(crontab(minute="5"))  # hourly
def hourly_publicity_expiry():
    return _logged("publicity_expiry", expire_publicity_applications())
