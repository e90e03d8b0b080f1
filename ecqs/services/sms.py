"""SMS gateway. The default backend is an outbox: every message is stored in the sms_messages
table (visible to administrators) and written to the server log; nothing leaves this machine.
A real provider is a backend class named by SMS_BACKEND, not a code change elsewhere."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import event, func, select, text

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import SmsCode, SmsMessage, utcnow
from ecqs.services import jobs, rate_limits
from ecqs.services.masking import mask_mobile

log = logging.getLogger("ecqs.sms")

CODE_LIFETIMES = {
    "register": timedelta(minutes=10),
    "login": timedelta(minutes=10),
    "reset": timedelta(minutes=10),
    "publicity": timedelta(hours=24),
}
MAX_CODE_ATTEMPTS = 5


PURPOSE_LABELS = {
    "register": _l("注册验证码"),
    "login": _l("登录验证码"),
    "reset": _l("找回密码验证码"),
    "publicity": _l("公示确认验证码"),
    "notice": _l("通知"),
}
STATUS_LABELS = {
    "queued": _l("待发送"),
    "retrying": _l("重试中"),
    "sent": _l("已发送"),
    "failed": _l("发送失败"),
}


class SmsError(Exception):
    """Refused: quota reached, unknown purpose... str(exc) is the Chinese message."""


class OutboxBackend:
    """Delivers by storing and logging. Says plainly in the log that nothing was sent."""

    name = "outbox"

    def deliver(self, message: SmsMessage) -> None:
        log.warning(
            "SMS outbox (not sent to any carrier) to %s: %s", mask_mobile(message.mobile), message.body
        )


BACKENDS = {"outbox": OutboxBackend}
# The 通道 column of the 短信发件箱, by backend name (providers register theirs beside).
BACKEND_LABELS = {
    "outbox": _l("站内发件箱（未发出）"),
    "alibaba": _l("阿里云短信"),
    "tencent": _l("腾讯云短信"),
}


def backend():
    return BACKENDS[current_app.config.get("SMS_BACKEND", "outbox")]()


def send(mobile: str, body: str, purpose: str = "notice") -> SmsMessage:
    """Queue a message in this transaction; it is delivered only after the commit succeeds."""
    msg = SmsMessage(mobile=mobile, body=body, purpose=purpose, backend=backend().name, status="queued")
    db.session.add(msg)
    db.session.info.setdefault("sms_queued", []).append(msg)
    return msg


@event.listens_for(db.session.__class__, "after_flush_postexec", propagate=True)
def _snapshot_flushed(session, flush_context):
    # After the commit the rows are expired and the session may not load them again: keep
    # what delivery needs while the transaction is still open.
    queued = session.info.get("sms_queued")
    if not queued:
        return
    ready = session.info.setdefault("sms_ready", [])
    for msg in [m for m in queued if m.id is not None]:
        ready.append(
            SmsMessage(id=msg.id, mobile=msg.mobile, body=msg.body, purpose=msg.purpose, backend=msg.backend)
        )
        queued.remove(msg)


@event.listens_for(db.session.__class__, "after_commit", propagate=True)
def _deliver_after_commit(session):
    if session.in_nested_transaction():  # SQLAlchemy 2.1 also calls this for a SAVEPOINT
        return
    ready = session.info.pop("sms_ready", None)
    session.info.pop("sms_queued", None)
    if not ready:
        return
    gateway = backend()
    if getattr(gateway, "queued", False):  # a provider: sent by the job consumer, with retries
        from ecqs.services import sms_providers  # it imports this module (its backends)

        for msg in ready:
            jobs.enqueue(sms_providers.deliver_sms, msg.id)
        return
    outcome = {}
    for msg in ready:
        try:
            gateway.deliver(msg)
            outcome[msg.id] = "sent"
        except Exception:  # a provider outage must not break the request that already committed
            log.exception("SMS delivery failed for message %s", msg.id)
            outcome[msg.id] = "failed"
    # The request's transaction is over: record the outcome on a connection of its own.
    table = SmsMessage.__table__
    with db.engine.begin() as conn:
        for status in ("sent", "failed"):
            ids = [i for i, s in outcome.items() if s == status]
            if ids:
                conn.execute(
                    table.update().where(table.c.id.in_(ids)).values(status=status, sent_at=utcnow())
                )


@event.listens_for(db.session.__class__, "after_rollback", propagate=True)
def _drop_on_rollback(session):
    if session.in_nested_transaction():  # SQLAlchemy 2.1 also calls this for a SAVEPOINT
        return
    session.info.pop("sms_queued", None)
    session.info.pop("sms_ready", None)


def _hash(mobile: str, purpose: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{mobile}:{purpose}:{code}".encode(), hashlib.sha256).hexdigest()


def codes_sent_today(mobile: str, purpose: str | None = None) -> int:
    """Codes issued to `mobile` in the last 24 hours (for one purpose, or all)."""
    start = utcnow() - timedelta(hours=24)
    stmt = select(func.count(SmsCode.id)).where(SmsCode.mobile == mobile, SmsCode.created_at >= start)
    if purpose is not None:
        stmt = stmt.where(SmsCode.purpose == purpose)
    return db.session.execute(stmt).scalar_one()


def daily_limit(purpose: str) -> int:
    """Codes a mobile may receive for `purpose` in 24 hours. Each purpose has its own count, so
    that codes a stranger requests (registration, reset) never use up the allowance of the
    staff login factor, which only a correct password unlocks."""
    if purpose == "login":
        return int(current_app.config.get("SMS_LOGIN_DAILY_LIMIT", 20))
    return int(current_app.config.get("SMS_DAILY_LIMIT", 3))


def quota_message(purpose: str) -> str:
    return _("该手机号今日获取验证码已达 %(n)d 次上限，请明天再试", n=daily_limit(purpose))


def _one_request_per_mobile_at_a_time(mobile: str) -> None:
    """Concurrent requests for one mobile (other workers, other hosts) wait here until this
    transaction ends, so that no two of them pass the daily count before either is saved."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"sms:{mobile}"})
    else:  # SQLite: any write takes the database's write lock until the transaction ends
        db.session.execute(text("UPDATE sms_codes SET mobile = mobile WHERE 0"))


def issue_code(mobile: str, purpose: str) -> str:
    """Create a 6-digit code for (mobile, purpose) and queue its SMS. At most daily_limit(purpose)
    codes per mobile and purpose in any 24 hours. Returns the code (only tests and the outbox
    see it)."""
    if purpose not in CODE_LIFETIMES:
        raise SmsError(_("未知的验证码用途"))
    _one_request_per_mobile_at_a_time(mobile)
    if codes_sent_today(mobile, purpose) >= daily_limit(purpose):
        raise SmsError(quota_message(purpose))
    code = f"{secrets.randbelow(10**6):06d}"
    lifetime = CODE_LIFETIMES[purpose]
    now = utcnow()
    db.session.add(
        SmsCode(
            mobile=mobile,
            purpose=purpose,
            code_hash=_hash(mobile, purpose, code),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    minutes = int(lifetime.total_seconds() // 60)
    send(
        mobile,
        _("【e-CQS】您的验证码为 %(code)s，%(minutes)d 分钟内有效，请勿泄露。", code=code, minutes=minutes),
        purpose,
    )
    return code


def verify_code(mobile: str, purpose: str, code: str) -> bool:
    """Consume the newest unexpired code for (mobile, purpose) if `code` matches it."""
    code = (code or "").strip()
    row = db.session.execute(
        select(SmsCode)
        .where(SmsCode.mobile == mobile, SmsCode.purpose == purpose, SmsCode.used_at.is_(None))
        .order_by(SmsCode.created_at.desc(), SmsCode.id.desc())
        .limit(1)
    ).scalar()
    if row is None or row.expires_at < utcnow() or row.attempts >= MAX_CODE_ATTEMPTS:
        return False
    if not hmac.compare_digest(row.code_hash, _hash(mobile, purpose, code)):
        row.attempts += 1
        return False
    row.used_at = utcnow()
    return True


# ---- codes a stranger asks for ------------------------------------------------------------------

ANONYMOUS_PURPOSES = frozenset({"register", "reset"})
PER_MOBILE_INTERVAL = "1 per minute"  # a resend button needs no more
PER_ADDRESS_DAILY = "30 per day"


def request_anonymous_code(mobile: str, purpose: str, deliverable: bool) -> None:
    """A code asked for by someone not logged in, answered the same way whether or not the
    mobile is registered: `deliverable` says whether a code should really go out (a reset to a
    registered mobile, a registration to a free one). Where it should not, the same quota is
    counted so that "limit reached" appears at the same point. Raises SmsError (quota, too
    frequent); the caller commits."""
    if purpose not in ANONYMOUS_PURPOSES:
        raise SmsError(_("未知的验证码用途"))
    if not rate_limits.hit(PER_MOBILE_INTERVAL, "sms-mobile", mobile):
        raise SmsError(_("获取验证码过于频繁，请 1 分钟后再试"))
    if not rate_limits.hit(PER_ADDRESS_DAILY, "sms-address", rate_limits.client_address()):
        raise SmsError(_("获取验证码过于频繁，请稍后再试"))
    if deliverable:
        issue_code(mobile, purpose)
    elif not rate_limits.hit(f"{daily_limit(purpose)} per day", "sms-none", purpose, mobile, always=True):
        raise SmsError(quota_message(purpose))
