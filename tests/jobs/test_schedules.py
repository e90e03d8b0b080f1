"""The schedules: each periodic task does its work and logs what it did (audit scheduled_run);
purges remove only what has expired; reviewers are warned of deadlines."""

from __future__ import annotations

import json
import os
import time
from datetime import date, timedelta

from sqlalchemy import func, select

from ecqs.extensions import db
from ecqs.models import AuditEvent, CaptchaChallenge, Notification, RateCounter, SmsCode, UserSession, utcnow
from ecqs.services import inbox, jobs, schedules, uploads, workdays
from tests.conftest import make_user
from tests.instruments.fixtures import make_instrument


def _runs(name: str) -> list[dict]:
    rows = db.session.execute(
        select(AuditEvent.comment).where(AuditEvent.event == "scheduled_run", AuditEvent.action == name)
    ).scalars()
    return [json.loads(c) for c in rows]


def test_the_schedules_are_registered_as_periodic_tasks():
    names = {t.__name__ for t in jobs.huey._registry._periodic_tasks}
    assert {"daily_expiry_reminders", "daily_deadline_warnings", "hourly_purge"} <= names


def test_purge_removes_only_expired_rows_and_is_logged():
    now = utcnow()
    user = make_user("enterprise")
    db.session.add_all(
        [
            CaptchaChallenge(token="old", answer_hash="x", expires_at=now - timedelta(minutes=1)),
            CaptchaChallenge(token="new", answer_hash="x", expires_at=now + timedelta(minutes=5)),
            SmsCode(mobile="13900000000", purpose="login", code_hash="x", expires_at=now - timedelta(days=2)),
            SmsCode(
                mobile="13900000000", purpose="login", code_hash="x", expires_at=now + timedelta(minutes=5)
            ),
            UserSession(token="ended", user_id=user.id, ended_at=now - timedelta(days=40)),
            UserSession(token="recent", user_id=user.id, ended_at=now - timedelta(days=1)),
            UserSession(token="live", user_id=user.id),
        ]
    )
    db.session.commit()
    schedules.hourly_purge.call_local()
    assert db.session.scalars(select(CaptchaChallenge.token)).all() == ["new"]
    assert db.session.scalar(select(func.count()).select_from(SmsCode)) == 1
    assert sorted(db.session.scalars(select(UserSession.token))) == ["live", "recent"]
    assert _runs("purge") == [
        {
            "captcha_challenges": 1,
            "sms_codes": 1,
            "ended_sessions": 1,
            "rate_counters": 0,
            "export_files": 0,
            "quarantined_uploads": 0,
        }
    ]


def test_purge_removes_spent_captcha_challenges():
    later = utcnow() + timedelta(minutes=4)
    db.session.add_all(
        [
            CaptchaChallenge(token="spent", answer_hash="x", expires_at=later, used=True),
            CaptchaChallenge(token="fresh", answer_hash="x", expires_at=later),
        ]
    )
    db.session.commit()
    schedules.hourly_purge.call_local()
    assert db.session.scalars(select(CaptchaChallenge.token)).all() == ["fresh"]
    assert _runs("purge")[-1]["captcha_challenges"] == 1


def test_purge_removes_unclaimed_wizard_uploads_past_their_lifetime(app):
    for path in uploads.quarantine_dir().iterdir():
        path.unlink()
    stale = uploads.quarantine_dir() / f"{'a' * 32}.pdf"
    fresh = uploads.quarantine_dir() / f"{'b' * 32}.pdf"
    claimed = uploads.upload_dir() / f"{'c' * 32}.pdf"
    for path in (stale, fresh, claimed):
        path.write_bytes(b"%PDF-1.4")
    old = time.time() - uploads.QUARANTINE_LIFETIME.total_seconds() - 60
    os.utime(stale, (old, old))
    os.utime(claimed, (old, old))
    schedules.hourly_purge.call_local()
    assert not stale.exists()
    assert fresh.exists() and claimed.exists()  # claimed files are not the quarantine's
    assert _runs("purge")[-1]["quarantined_uploads"] == 1
    fresh.unlink()
    claimed.unlink()


def test_purge_removes_rate_counters_past_their_window():
    now = time.time()
    db.session.add_all(
        [
            RateCounter(key="ecqs/anonymous-upload/198.51.100.7", count=3, expires_at=now - 1),
            RateCounter(key="ecqs/anonymous-upload/198.51.100.8", count=1, expires_at=now + 3600),
        ]
    )
    db.session.commit()
    schedules.hourly_purge.call_local()
    assert db.session.scalars(select(RateCounter.key)).all() == ["ecqs/anonymous-upload/198.51.100.8"]
    assert _runs("purge")[-1]["rate_counters"] == 1


def test_the_purge_command_runs_the_same_purge_and_is_logged(app):
    db.session.add(CaptchaChallenge(token="spent", answer_hash="x", expires_at=utcnow(), used=True))
    db.session.add(RateCounter(key="ecqs/old", count=1, expires_at=time.time() - 1))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "purge"])
    assert result.exit_code == 0, result.output
    assert "'captcha_challenges': 1" in result.output and "'rate_counters': 1" in result.output
    assert "quarantined_uploads" in result.output
    assert _runs("purge")[-1]["rate_counters"] == 1


def test_daily_expiry_reminders_reuse_the_digest_and_are_logged(instrument_kinds):
    user = make_user("enterprise")
    make_instrument(user.organization, valid_until=workdays.today() + timedelta(days=5))
    schedules.daily_expiry_reminders.call_local()
    assert _runs("expiry_reminders") == [{"digests": 1, "instruments": 1}]
    assert db.session.scalar(select(func.count()).where(Notification.user_id == user.id)) == 1
    schedules.daily_expiry_reminders.call_local()  # reminded once per window
    assert _runs("expiry_reminders")[-1] == {"digests": 0, "instruments": 0}


def test_reviewers_are_warned_three_working_days_before_and_when_overdue(monkeypatch):
    reviewer = make_user("reviewer")
    idle = make_user("reviewer")
    today = date(2026, 12, 1)  # a Tuesday
    items = [
        inbox.InboxItem("许可申请 A", "待受理", ["受理"], today - timedelta(days=1), None, True, ()),
        inbox.InboxItem("许可申请 B", "待受理", ["受理"], today + timedelta(days=2), None, False, ()),
        inbox.InboxItem("许可申请 C", "待受理", ["受理"], today + timedelta(days=30), None, False, ()),
    ]
    monkeypatch.setattr(inbox, "items_for", lambda user: items if user.id == reviewer.id else [])
    outcome = schedules.deadline_warnings(today)
    assert outcome == {"reviewers_warned": 1, "overdue": 1}
    note = db.session.execute(select(Notification).where(Notification.user_id == reviewer.id)).scalar_one()
    assert "1 件已超期，1 件 3 个工作日内到期" in note.title
    assert "许可申请 A" in note.body and "许可申请 C" not in note.body
    assert db.session.scalar(select(func.count()).where(Notification.user_id == idle.id)) == 0


def test_deadline_warnings_run_outside_a_request_as_in_the_consumer(monkeypatch):
    from flask import url_for

    reviewer = make_user("reviewer")
    overdue = workdays.today() - timedelta(days=1)

    def items_for(user):  # the real inbox builds its links with url_for, as this does
        return [inbox.InboxItem("许可申请 X", "待受理", ["受理"], overdue, url_for("admin.index"), True, ())]

    monkeypatch.setattr(inbox, "items_for", items_for)
    schedules.daily_deadline_warnings.call_local()
    assert _runs("deadline_warnings") == [{"reviewers_warned": 1, "overdue": 1}]
    assert db.session.scalar(select(func.count()).where(Notification.user_id == reviewer.id)) == 1
