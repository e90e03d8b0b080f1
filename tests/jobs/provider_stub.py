"""A stub of the Alibaba Cloud and Tencent Cloud SMS APIs on 127.0.0.1 (tests/stub_server.py): it
recomputes the signature the SDK put on each request (ACS3-HMAC-SHA256, TC3-HMAC-SHA256) with the
test's secret, records the request, and answers like the provider (or with an error when told)."""

from __future__ import annotations

from tests.stub_server import StubServer, acs3_valid, tc3_valid

SECRETS = {"alibaba": "ali-secret", "tencent": "tc-secret"}


class ProviderStub(StubServer):
    def verify(self, request: dict) -> dict:
        provider = "tencent" if request["headers"].get("authorization", "").startswith("TC3-") else "alibaba"
        check = tc3_valid if provider == "tencent" else acs3_valid
        valid = check(
            request["method"], request["path"], request["headers"], request["body"], SECRETS[provider]
        )
        return {"provider": provider, "valid": valid}

    def answer(self, request: dict, failing: bool) -> dict:
        if request["provider"] == "tencent":
            return {
                "Response": {
                    "SendStatusSet": [
                        {
                            "SerialNo": "2640:42",
                            "PhoneNumber": "+86",
                            "Fee": 1,
                            "SessionContext": "",
                            "Code": "LimitExceeded.PhoneNumberDailyLimit" if failing else "Ok",
                            "Message": "limit" if failing else "send success",
                            "IsoCode": "CN",
                        }
                    ],
                    "RequestId": "tc-req",
                }
            }
        if failing:
            return {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "limit", "RequestId": "ali-req"}
        return {"Code": "OK", "Message": "OK", "BizId": "ali-biz-42", "RequestId": "ali-req"}
