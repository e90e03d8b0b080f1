"""A stub of Alibaba Cloud's ThreeElementsVerification (Dytnsapi 2020-02-17) on 127.0.0.1: it
recomputes the ACS3-HMAC-SHA256 signature the OpenAPI client put on each request with the test's
secret, records the request and answers like the provider from a table of known owners."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from tests.jobs.provider_stub import acs3_valid

SECRET = "ali-3e-secret"


class ThreeFactorStub:
    def __init__(self):
        self.requests: list[dict] = []
        self.owners: dict[str, tuple[str, str]] = {}  # mobile -> (name, id number)
        self.fail_next = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                valid = acs3_valid(self.command, self.path, headers, body, SECRET)
                params = dict(parse_qsl(urlsplit(self.path).query))
                params.update(dict(parse_qsl(body.decode())))
                stub.requests.append({"headers": headers, "params": params, "valid": valid})
                if not valid or stub.fail_next:
                    stub.fail_next = max(stub.fail_next - 1, 0)
                    answer = {"Code": "isp.UNKNOWN", "Message": "error", "RequestId": "3e-req"}
                else:
                    owner = stub.owners.get(params.get("InputNumber"))
                    if owner is None:
                        consistent = 2
                    else:
                        consistent = 1 if owner == (params.get("Name"), params.get("CertCode")) else 0
                    answer = {
                        "Code": "OK",
                        "Message": "OK",
                        "RequestId": "3e-req",
                        "Data": {"IsConsistent": consistent, "BasicCarrier": "中国移动"},
                    }
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
