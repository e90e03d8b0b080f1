"""The three-factor check 三要素核验 (name + resident ID number + mobile) run before an SMS code
goes to a practitioner (seed 004 §4). THREE_FACTOR_VERIFIER names the verifier:

- "account" (default): the mobile is compared with the one the person verified by SMS code on
  their own personal account in this system (registration asks for a code). No carrier is asked;
  a person without a personal account cannot be confirmed this way.
- "alibaba": Alibaba Cloud 号码百科 ThreeElementsVerification (Dytnsapi 2020-02-17), the carrier's
  record of who the mobile is registered to, signed by the official OpenAPI client
  (ALIBABA_3E_ACCESS_KEY_ID / _SECRET, ALIBABA_3E_AUTH_CODE, ALIBABA_3E_ENDPOINT).

Each answers CONSISTENT, INCONSISTENT or UNKNOWN (no record, or the provider could not say)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import User

log = logging.getLogger("ecqs.three_factor")

CONSISTENT, INCONSISTENT, UNKNOWN = "consistent", "inconsistent", "unknown"


@dataclass(frozen=True)
class Outcome:
    result: str
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.result == CONSISTENT


class AccountVerifier:
    """Compares with the mobile the person verified by SMS on their own account."""

    name = "account"
    description = _l("与本人在本系统个人账号中经短信验证的手机号比对")

    def check(self, name: str, id_number: str, mobile: str) -> Outcome:
        person = db.session.execute(
            select(User)
            .where(User.role == "person", User.id_number == id_number, User.real_name == name)
            .limit(1)
        ).scalar()
        if person is None or not person.mobile:
            return Outcome(UNKNOWN, _("该人员未在本系统注册个人账号，无法核验手机号"))
        if person.mobile != mobile:
            return Outcome(INCONSISTENT, _("手机号与本人账号中验证过的手机号不一致"))
        return Outcome(CONSISTENT)


class AlibabaVerifier:
    """Alibaba Cloud ThreeElementsVerification through the OpenAPI client (ACS3-HMAC-SHA256)."""

    name = "alibaba"
    description = _l("运营商三要素核验（阿里云号码百科）")
    ACTION = "ThreeElementsVerification"
    VERSION = "2020-02-17"

    def check(self, name: str, id_number: str, mobile: str) -> Outcome:
        from alibabacloud_tea_openapi import models as api_models  # optional provider SDK
        from alibabacloud_tea_openapi.client import Client
        from alibabacloud_tea_util import models as util_models

        config = current_app.config
        endpoint = config.get("ALIBABA_3E_ENDPOINT", "dytnsapi.aliyuncs.com")
        client = Client(
            api_models.Config(
                access_key_id=config["ALIBABA_3E_ACCESS_KEY_ID"],
                access_key_secret=config["ALIBABA_3E_ACCESS_KEY_SECRET"],
                endpoint=endpoint,
                protocol="http" if endpoint.startswith("127.0.0.1") else "https",
            )
        )
        params = api_models.Params(
            action=self.ACTION,
            version=self.VERSION,
            protocol="HTTPS",
            method="POST",
            auth_type="AK",
            style="RPC",
            pathname="/",
            req_body_type="formData",
            body_type="json",
        )
        query = {
            "AuthCode": config["ALIBABA_3E_AUTH_CODE"],
            "InputNumber": mobile,
            "Mask": "NORMAL",
            "CertCode": id_number,
            "Name": name,
        }
        request = api_models.OpenApiRequest(query=query)
        try:
            answer = client.call_api(
                params, request, util_models.RuntimeOptions(connect_timeout=5000, read_timeout=10000)
            )
        except Exception as exc:  # the carrier could not be asked: not a verdict on the person
            log.warning("three-factor check failed: %s", type(exc).__name__)
            return Outcome(UNKNOWN, _("运营商核验服务暂不可用，请稍后再试"))
        body = (answer or {}).get("body") or {}
        if body.get("Code") != "OK":
            log.warning("three-factor check refused: %s %s", body.get("Code"), body.get("Message"))
            return Outcome(UNKNOWN, _("运营商核验服务暂不可用，请稍后再试"))
        consistent = str((body.get("Data") or {}).get("IsConsistent"))
        if consistent == "1":
            return Outcome(CONSISTENT)
        if consistent == "0":
            return Outcome(INCONSISTENT, _("运营商登记的机主信息与姓名、身份证号不一致"))
        return Outcome(UNKNOWN, _("运营商查无此手机号的实名记录"))


VERIFIERS = {"account": AccountVerifier, "alibaba": AlibabaVerifier}


def verifier():
    return VERIFIERS[current_app.config.get("THREE_FACTOR_VERIFIER", "account")]()
