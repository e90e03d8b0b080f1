"""E-mail for notifications and digests. MAIL_BACKEND=outbox (default) stores and logs every
message, nothing leaves the machine; MAIL_BACKEND=smtp sends through MAIL_SERVER (MAIL_PORT,
MAIL_USERNAME, MAIL_PASSWORD, MAIL_USE_TLS, MAIL_USE_SSL, MAIL_DEFAULT_SENDER). Either way a
message is queued in the caller's transaction and handed to the job queue only after the commit
succeeded; `deliver_mail` retries a failed SMTP send."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app
from sqlalchemy import event

from ecqs.extensions import db
from ecqs.models import MailMessage, utcnow
from ecqs.services import jobs

log = logging.getLogger("ecqs.mail")
RETRIES = 3
RETRY_DELAY_SECONDS = 60


def send(recipient: str, subject: str, body: str) -> MailMessage:
    """Queue an e-mail in this transaction; it is handed to the queue after the commit."""
    message = MailMessage(
        recipient=recipient[:120],
        subject=str(subject)[:200],
        body=str(body),
        backend=current_app.config.get("MAIL_BACKEND", "outbox"),
        status="queued",
    )
    db.session.add(message)
    db.session.info.setdefault("mail_queued", []).append(message)
    return message


@event.listens_for(db.session.__class__, "after_flush_postexec", propagate=True)
def _ids_while_open(session, flush_context):
    queued = session.info.get("mail_queued")
    if queued:
        session.info.setdefault("mail_ready", []).extend(m.id for m in queued if m.id is not None)
        session.info["mail_queued"] = [m for m in queued if m.id is None]


@event.listens_for(db.session.__class__, "after_commit", propagate=True)
def _enqueue_after_commit(session):
    if session.in_nested_transaction():  # SQLAlchemy 2.1 also calls this for a SAVEPOINT
        return
    ready = session.info.pop("mail_ready", None)
    session.info.pop("mail_queued", None)
    for message_id in ready or ():
        jobs.enqueue(deliver_mail, message_id)


@event.listens_for(db.session.__class__, "after_rollback", propagate=True)
def _drop_on_rollback(session):
    if session.in_nested_transaction():  # SQLAlchemy 2.1 also calls this for a SAVEPOINT
        return
    session.info.pop("mail_queued", None)
    session.info.pop("mail_ready", None)


def _smtp_send(message: MailMessage) -> str:
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain="ecqs")
    email.set_content(message.body)
    smtp_class = smtplib.SMTP_SSL if config.get("MAIL_USE_SSL") else smtplib.SMTP
    with smtp_class(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=15) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        refused = smtp.send_message(email)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)
    return f"250 {email['Message-ID']}"


@jobs.app_task(retries=RETRIES, retry_delay=RETRY_DELAY_SECONDS, context=True)
def deliver_mail(message_id: int, task=None) -> None:
    """Send one queued e-mail (outbox: log it); on an SMTP failure raise, so Huey retries, and
    mark it failed when no retry is left."""
    message = db.session.get(MailMessage, message_id)
    if message is None or message.status == "sent":
        return
    message.attempts = (message.attempts or 0) + 1
    if message.backend != "smtp":
        log.warning("mail outbox (not sent) to %s: %s", message.recipient, message.subject)
        message.status, message.provider_status, message.sent_at = "sent", "outbox", utcnow()
        db.session.commit()
        return
    try:
        message.provider_status = _smtp_send(message)[:200]
    except (OSError, smtplib.SMTPException) as exc:
        retries_left = task.retries if task is not None else 0
        message.provider_status = f"{type(exc).__name__}: {exc}"[:200]
        message.status = "retrying" if retries_left else "failed"
        db.session.commit()
        log.warning("mail %s failed: %s", message_id, message.provider_status)
        if retries_left:
            raise
        return
    message.status, message.sent_at = "sent", utcnow()
    db.session.commit()
