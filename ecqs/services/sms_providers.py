"""Real SMS backends: Alibaba Cloud SMS (dysmsapi 2017-05-25) and Tencent Cloud SMS (2021-01-11),
named by SMS_BACKEND ("alibaba", "tencent"), their keys, sign name and template codes read from
the environment (README). Messages to a provider go through the job queue: `deliver_sms` is
retried on failure, and the outbox row keeps the provider's status and message id.

A provider needs a template: verification codes (a 6-digit code in the text) use
SMS_TEMPLATE_CODE with the code as parameter, everything else SMS_TEMPLATE_NOTICE with the
message text as parameter."""

from __future__ import annotations

import json
import logging
import re

from flask import current_app

from ecqs.extensions import db
from ecqs.models import SmsMessage, utcnow
from ecqs.services import jobs, sms
from ecqs.services.masking import mask_mobile

log = logging.getLogger("ecqs.sms")
CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
RETRIES = 3
RETRY_DELAY_SECONDS = 30


class ProviderError(Exception):
    """The provider refused or could not be reached; `status` is what the outbox shows."""

    def __init__(self, status: str):
        super().__init__(status)
        self.status = status[:100]


def _template(message: SmsMessage) -> tuple[str, dict]:
    config = current_app.config
    match = CODE.search(message.body) if message.purpose in sms.CODE_LIFETIMES else None
    if match:
        return config["SMS_TEMPLATE_CODE"], {"code": match.group(1)}
    return config["SMS_TEMPLATE_NOTICE"], {"content": message.body[:300]}


class AlibabaBackend:
    """Alibaba Cloud SMS through its official SDK (alibabacloud-dysmsapi20170525)."""

    name = "alibaba"
    queued = True

    def deliver(self, message: SmsMessage) -> str:
        from alibabacloud_dysmsapi20170525 import models as sms_models
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import models as api_models
        from alibabacloud_tea_util import models as util_models

        config = current_app.config
        endpoint = config["ALIBABA_SMS_ENDPOINT"]
        client = Client(
            api_models.Config(
                access_key_id=config["ALIBABA_SMS_ACCESS_KEY_ID"],
                access_key_secret=config["ALIBABA_SMS_ACCESS_KEY_SECRET"],
                endpoint=endpoint,
                protocol="http" if endpoint.startswith("127.0.0.1") else "https",
            )
        )
        template, params = _template(message)
        request = sms_models.SendSmsRequest(
            phone_numbers=message.mobile,
            sign_name=config["SMS_SIGN_NAME"],
            template_code=template,
            template_param=json.dumps(params, ensure_ascii=False),
            out_id=str(message.id),
        )
        try:
            body = client.send_sms_with_options(
                request, util_models.RuntimeOptions(connect_timeout=5000, read_timeout=10000)
            ).body
        except Exception as exc:
            raise ProviderError(f"error: {type(exc).__name__}") from exc
        if body.code != "OK":
            raise ProviderError(f"{body.code}: {body.message}")
        return body.biz_id or ""


class TencentBackend:
    """Tencent Cloud SMS through its official SDK (tencentcloud-sdk-python-sms)."""

    name = "tencent"
    queued = True

    def deliver(self, message: SmsMessage) -> str:
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import models, sms_client

        config = current_app.config
        endpoint = config["TENCENT_SMS_ENDPOINT"]
        profile = HttpProfile(endpoint=endpoint, reqTimeout=10)
        if endpoint.startswith("127.0.0.1"):
            profile.protocol = profile.scheme = "http"
        client = sms_client.SmsClient(
            credential.Credential(config["TENCENT_SMS_SECRET_ID"], config["TENCENT_SMS_SECRET_KEY"]),
            config["TENCENT_SMS_REGION"],
            ClientProfile(httpProfile=profile),
        )
        template, params = _template(message)
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [f"+86{message.mobile}"]
        request.SmsSdkAppId = config["TENCENT_SMS_SDK_APP_ID"]
        request.SignName = config["SMS_SIGN_NAME"]
        request.TemplateId = template
        request.TemplateParamSet = [str(v) for v in params.values()]
        request.SessionContext = str(message.id)
        try:
            statuses = client.SendSms(request).SendStatusSet or []
        except Exception as exc:
            raise ProviderError(f"error: {type(exc).__name__}") from exc
        if not statuses or statuses[0].Code != "Ok":
            first = statuses[0] if statuses else None
            raise ProviderError(f"{getattr(first, 'Code', 'empty')}: {getattr(first, 'Message', '')}")
        return statuses[0].SerialNo or ""


sms.BACKENDS.update({"alibaba": AlibabaBackend, "tencent": TencentBackend})


@jobs.app_task(retries=RETRIES, retry_delay=RETRY_DELAY_SECONDS, context=True)
def deliver_sms(message_id: int, task=None) -> None:
    """Send one outbox message through the configured provider; raise (and so retry) on failure,
    marking it failed when no retry is left."""
    message = db.session.get(SmsMessage, message_id)
    if message is None or message.status == "sent":
        return
    gateway = sms.backend()
    message.attempts = (message.attempts or 0) + 1
    try:
        message.provider_id = gateway.deliver(message)[:64]
    except ProviderError as exc:
        retries_left = task.retries if task is not None else 0
        message.provider_status = exc.status
        message.status = "retrying" if retries_left else "failed"
        db.session.commit()
        log.warning(
            "SMS %s to %s via %s: %s", message_id, mask_mobile(message.mobile), gateway.name, exc.status
        )
        if retries_left:
            raise
        return
    message.status = "sent"
    message.provider_status = "OK"
    message.sent_at = utcnow()
    db.session.commit()
