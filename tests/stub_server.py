"""A provider's HTTP API stubbed on 127.0.0.1 for tests: a threaded server on a free port that
captures every POST (path, lower-cased headers, body, form and query parameters), recomputes the
signature the provider's SDK put on it with the test's secret, and answers with the JSON a
subclass builds. The two signature schemes our providers use are recomputed here from their
published specifications, so a stub never trusts the client it tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit


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


class StubServer:
    """Run with `with Stub() as stub:`; point the client at `stub.endpoint` (host:port).

    A subclass says whether a request's signature holds (`verify`) and what to answer (`answer`).
    Each request is appended to `requests` as a dict with method, path, headers, body, params and
    valid (plus what `verify` adds). `fail_next = n` makes the next n answers provider errors; a
    request whose signature does not hold is always answered with an error."""

    def __init__(self):
        self.requests: list[dict] = []
        self.fail_next = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                captured = stub.capture(self.command, self.path, self.headers, body)
                failing = stub.fail_next > 0 or not captured["valid"]
                stub.fail_next = max(stub.fail_next - 1, 0)
                data = json.dumps(stub.answer(captured, failing)).encode()
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

    def capture(self, method: str, path: str, raw_headers, body: bytes) -> dict:
        headers = {k.lower(): v for k, v in raw_headers.items()}
        params = dict(parse_qsl(urlsplit(path).query))
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body.decode()))
        captured = {"method": method, "path": path, "headers": headers, "body": body, "params": params}
        captured.update(self.verify(captured))
        self.requests.append(captured)
        return captured

    def verify(self, request: dict) -> dict:
        """{"valid": bool, …}: whether the request's signature holds, and anything else to record."""
        raise NotImplementedError

    def answer(self, request: dict, failing: bool) -> dict:
        """The JSON body the provider would send back (an error when `failing`)."""
        raise NotImplementedError

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
