"""Alibaba Cloud and Tencent Cloud SMS backends against a local stub of their APIs that checks
the request each SDK signed; sends go through the queue, failures are retried, the outbox grid
shows the provider's status."""

from __future__ import annotations

import json
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select

from ecqs.extensions import db
from ecqs.models import SmsMessage
from ecqs.services import sms, sms_providers
from tests.jobs.provider_stub import SECRETS, ProviderStub


@pytest.fixture
def stub():
    with ProviderStub() as running:
        yield running


@pytest.fixture
def provider(app, monkeypatch, stub):
    def use(name: str):
        settings = {
            "SMS_BACKEND": name,
            "SMS_SIGN_NAME": "陕西计量",
            "SMS_TEMPLATE_CODE": "SMS_100001" if name == "alibaba" else "100001",
            "SMS_TEMPLATE_NOTICE": "SMS_100002" if name == "alibaba" else "100002",
            "ALIBABA_SMS_ACCESS_KEY_ID": "ali-key-id",
            "ALIBABA_SMS_ACCESS_KEY_SECRET": SECRETS["alibaba"],
            "ALIBABA_SMS_ENDPOINT": stub.endpoint,
            "TENCENT_SMS_SECRET_ID": "tc-secret-id",
            "TENCENT_SMS_SECRET_KEY": SECRETS["tencent"],
            "TENCENT_SMS_SDK_APP_ID": "1400123456",
            "TENCENT_SMS_ENDPOINT": stub.endpoint,
            "HUEY_IMMEDIATE": True,
        }
        for key, value in settings.items():
            monkeypatch.setitem(app.config, key, value)

    return use


def _only_message() -> SmsMessage:
    db.session.rollback()
    return db.session.execute(select(SmsMessage)).scalar_one()


def test_alibaba_code_is_sent_with_a_valid_signature(provider, stub):
    provider("alibaba")
    sms.send("13900001111", "【e-CQS】您的验证码为 123456，10 分钟内有效", "login")
    db.session.commit()
    (request,) = stub.requests
    assert request["valid"], "the SDK's ACS3-HMAC-SHA256 signature does not verify"
    assert request["headers"]["x-acs-action"] == "SendSms"
    assert "Credential=ali-key-id" in request["headers"]["authorization"]
    params = dict(parse_qsl(urlsplit(request["path"]).query))
    assert params["PhoneNumbers"] == "13900001111" and params["SignName"] == "陕西计量"
    assert params["TemplateCode"] == "SMS_100001" and json.loads(params["TemplateParam"]) == {
        "code": "123456"
    }
    message = _only_message()
    assert (message.backend, message.status, message.provider_status, message.provider_id) == (
        "alibaba",
        "sent",
        "OK",
        "ali-biz-42",
    )


def test_tencent_notice_is_sent_with_a_valid_signature(provider, stub):
    provider("tencent")
    sms.send("13900002222", "【e-CQS】您的许可申请已受理", "notice")
    db.session.commit()
    (request,) = stub.requests
    assert request["valid"], "the SDK's TC3-HMAC-SHA256 signature does not verify"
    assert request["headers"]["x-tc-action"] == "SendSms"
    assert "Credential=tc-secret-id/" in request["headers"]["authorization"]
    body = json.loads(request["body"])
    assert body["PhoneNumberSet"] == ["+8613900002222"] and body["SmsSdkAppId"] == "1400123456"
    assert body["TemplateId"] == "100002" and body["TemplateParamSet"] == ["【e-CQS】您的许可申请已受理"]
    message = _only_message()
    assert (message.status, message.provider_status, message.provider_id) == ("sent", "OK", "2640:42")


def test_a_tampered_secret_is_caught_by_the_stub(provider, stub, app, monkeypatch):
    provider("tencent")
    monkeypatch.setitem(app.config, "TENCENT_SMS_SECRET_KEY", "wrong")
    sms.send("13900003333", "【e-CQS】通知", "notice")
    db.session.commit()
    assert stub.requests[0]["valid"] is False
    assert _only_message().status == "failed"


@pytest.mark.parametrize("name", ["alibaba", "tencent"])
def test_a_refused_send_is_retried_then_marked_failed(provider, stub, name, app, monkeypatch):
    provider(name)
    monkeypatch.setitem(app.config, "HUEY_IMMEDIATE", False)
    monkeypatch.setattr(sms_providers.jobs, "enqueue", lambda task, *a: None)  # deliver by hand below
    sms.send("13900004444", "【e-CQS】通知", "notice")
    db.session.commit()
    message_id = _only_message().id
    stub.fail_next = 1
    with pytest.raises(sms_providers.ProviderError):  # raised, so Huey retries it
        sms_providers.deliver_sms.call_local(message_id, task=SimpleNamespace(retries=2))
    message = _only_message()
    assert message.status == "retrying" and "LIMIT" in message.provider_status.upper()
    sms_providers.deliver_sms.call_local(message_id, task=SimpleNamespace(retries=1))
    message = _only_message()
    assert (message.status, message.attempts) == ("sent", 2)


def test_outbox_grid_shows_provider_status(provider, stub, client, login_as):
    provider("alibaba")
    sms.send("13900005555", "【e-CQS】通知", "notice")
    db.session.commit()
    login_as("admin")
    page = client.get("/admin/sms_outbox/").get_data(as_text=True)
    assert "运营商状态" in page and ">OK<" in page.replace(" ", "").replace("\n", "")
