"""A stub of the Alibaba Cloud and Tencent Cloud SMS APIs on 127.0.0.1: it recomputes the
signature the SDK put on each request (ACS3-HMAC-SHA256, TC3-HMAC-SHA256) with the test's
secret, records the request, and answers like the provider (or with an error when told)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

SECRETS = {"alibaba": "ali-secret", "tencent": "tc-secret"}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def acs3_valid(method: str, path: str, headers: dict, body: bytes, secret: str) -> bool:
    """Alibaba Cloud V3 signature (ACS3-HMAC-SHA256) of the request, recomputed."""
    auth = headers["authorization"]
    fields = dict(part.split("=", 1) for part in auth.split(" ", 1)[1].split(","))
    signed = fields["SignedHeaders"].split(";")
    url = urlsplit(path)
    query = sorted(parse_qsl(url.query, keep_blank_values=True))
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in query)
    canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in signed)
    canonical = "\n".join(
        [
            method,
            url.path or "/",
            canonical_query,
            canonical_headers,
            ";".join(signed),
            headers["x-acs-content-sha256"],
        ]
    )
    to_sign = "ACS3-HMAC-SHA256\n" + _sha256(canonical.encode())
    expected = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        hmac.compare_digest(expected, fields["Signature"])
        and _sha256(body) == headers["x-acs-content-sha256"]
    )


def tc3_valid(method: str, path: str, headers: dict, body: bytes, secret: str) -> bool:
    """Tencent Cloud API 3.0 signature (TC3-HMAC-SHA256) of the request, recomputed."""
    auth = headers["authorization"]
    parts = dict(p.strip().split("=", 1) for p in auth.split(" ", 1)[1].split(","))
    signed = parts["SignedHeaders"].split(";")
    timestamp = int(headers["x-tc-timestamp"])
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical_headers = "".join(f"{name}:{headers[name].strip().lower()}\n" for name in signed)
    canonical = "\n".join([method, "/", "", canonical_headers, ";".join(signed), _sha256(body)])
    scope = f"{day}/sms/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{_sha256(canonical.encode())}"

    def sign(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = sign(sign(sign(("TC3" + secret).encode(), day), "sms"), "tc3_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["Signature"])


class ProviderStub:
    def __init__(self):
        self.requests: list[dict] = []
        self.fail_next = 0  # answer this many requests with a provider error
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                auth = headers.get("authorization", "")
                provider = "tencent" if auth.startswith("TC3-") else "alibaba"
                check = tc3_valid if provider == "tencent" else acs3_valid
                valid = check(self.command, self.path, headers, body, SECRETS[provider])
                stub.requests.append(
                    {
                        "provider": provider,
                        "path": self.path,
                        "headers": headers,
                        "body": body,
                        "valid": valid,
                    }
                )
                failing = stub.fail_next > 0 or not valid
                stub.fail_next = max(stub.fail_next - 1, 0)
                if provider == "tencent":
                    code = "LimitExceeded.PhoneNumberDailyLimit" if failing else "Ok"
                    answer = {
                        "Response": {
                            "SendStatusSet": [
                                {
                                    "SerialNo": "2640:42",
                                    "PhoneNumber": "+86",
                                    "Fee": 1,
                                    "SessionContext": "",
                                    "Code": code,
                                    "Message": "send success" if not failing else "limit",
                                    "IsoCode": "CN",
                                }
                            ],
                            "RequestId": "tc-req",
                        }
                    }
                else:
                    answer = (
                        {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "limit", "RequestId": "ali-req"}
                        if failing
                        else {"Code": "OK", "Message": "OK", "BizId": "ali-biz-42", "RequestId": "ali-req"}
                    )
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
