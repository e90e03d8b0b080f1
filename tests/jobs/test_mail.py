"""E-mail: the outbox by default; SMTP through a local aiosmtpd server on 127.0.0.1 (sent after
the commit, through the queue, retried when the server is away); users opt in under 个人中心."""

from __future__ import annotations

import email
import socket
from email.policy import default as default_policy
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from ecqs.extensions import db
from ecqs.models import MailMessage
from ecqs.services import mail
from ecqs.services.notify import notify_user


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    controller_module = pytest.importorskip("aiosmtpd.controller")
    handler = Collector()
    controller = controller_module.Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, handler
    controller.stop()


@pytest.fixture
def smtp(app, monkeypatch, smtp_server):
    controller, handler = smtp_server
    for key, value in {
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": controller.port,
        "MAIL_DEFAULT_SENDER": "e-CQS <noreply@ecqs.test>",
        "HUEY_IMMEDIATE": True,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    return handler


def _messages():
    db.session.rollback()
    return db.session.execute(select(MailMessage).order_by(MailMessage.id)).scalars().all()


def test_outbox_is_the_default_and_sends_nothing(app):
    assert app.config["MAIL_BACKEND"] == "outbox"
    mail.send("a@example.test", "主题", "正文")
    db.session.commit()
    (message,) = _messages()
    assert (message.backend, message.status, message.provider_status) == ("outbox", "sent", "outbox")


def test_smtp_sends_after_commit_only(smtp):
    mail.send("a@example.test", "强检器具到期提醒", "您有 3 件器具即将到期")
    assert smtp.messages == []
    db.session.commit()
    (envelope,) = smtp.messages
    assert envelope.rcpt_tos == ["a@example.test"]
    parsed = email.message_from_bytes(envelope.content, policy=default_policy)
    assert parsed["Subject"] == "强检器具到期提醒" and "3 件器具" in parsed.get_content()
    assert _messages()[0].status == "sent"


def test_rolled_back_mail_is_never_sent(smtp):
    mail.send("a@example.test", "x", "y")
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert smtp.messages == [] and _messages() == []


def test_an_unreachable_server_is_retried_then_marked_failed(app, monkeypatch, smtp):
    monkeypatch.setitem(app.config, "HUEY_IMMEDIATE", False)
    monkeypatch.setattr(mail.jobs, "enqueue", lambda task, *a: None)
    mail.send("a@example.test", "x", "y")
    db.session.commit()
    message_id = _messages()[0].id
    monkeypatch.setitem(app.config, "MAIL_PORT", _free_port())  # nothing listens there
    with pytest.raises(OSError):
        mail.deliver_mail.call_local(message_id, task=SimpleNamespace(retries=1))
    assert _messages()[0].status == "retrying"
    mail.deliver_mail.call_local(message_id, task=SimpleNamespace(retries=0))
    message = _messages()[0]
    assert (message.status, message.attempts) == ("failed", 2)


def test_notices_go_by_email_only_to_users_who_opted_in(client, login_as, smtp):
    user = login_as("enterprise")
    notify_user(user, "通知一")
    db.session.commit()
    assert smtp.messages == []
    response = client.post(
        "/admin/notification_settings/", data={"email": "me@example.com", "email_notices": "y"}
    )
    assert response.status_code == 302
    page = client.get("/admin/notification_settings/").get_data(as_text=True)
    assert "通知设置已保存" in page and 'value="me@example.com"' in page
    db.session.refresh(user)
    notify_user(user, "通知二", body="详情")
    db.session.commit()
    (envelope,) = smtp.messages
    assert envelope.rcpt_tos == ["me@example.com"]


def test_opting_in_needs_an_address(client, login_as):
    login_as("enterprise", email=None)
    page = client.post("/admin/notification_settings/", data={"email": "", "email_notices": "y"})
    assert "接收邮件通知需要填写电子邮箱" in page.get_data(as_text=True)
