"""A stub of Alibaba Cloud's ThreeElementsVerification (Dytnsapi 2020-02-17) on 127.0.0.1
(tests/stub_server.py): it recomputes the ACS3-HMAC-SHA256 signature the OpenAPI client put on
each request with the test's secret, records the request and answers like the provider from a
table of known owners."""

from __future__ import annotations

from tests.stub_server import StubServer, acs3_valid

SECRET = "ali-3e-secret"


class ThreeFactorStub(StubServer):
    def __init__(self):
        super().__init__()
        self.owners: dict[str, tuple[str, str]] = {}  # mobile -> (name, id number)

    def verify(self, request: dict) -> dict:
        return {
            "valid": acs3_valid(
                request["method"], request["path"], request["headers"], request["body"], SECRET
            )
        }

    def answer(self, request: dict, failing: bool) -> dict:
        if failing:
            return {"Code": "isp.UNKNOWN", "Message": "error", "RequestId": "3e-req"}
        params = request["params"]
        owner = self.owners.get(params.get("InputNumber"))
        if owner is None:
            consistent = 2
        else:
            consistent = 1 if owner == (params.get("Name"), params.get("CertCode")) else 0
        return {
            "Code": "OK",
            "Message": "OK",
            "RequestId": "3e-req",
            "Data": {"IsConsistent": consistent, "BasicCarrier": "中国移动"},
        }
