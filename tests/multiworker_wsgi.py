"""WSGI entry for tests/test_multiworker.py: the real app (app.py, configured from the
environment like production), each response naming the worker process that produced it."""

import os

from app import app as ecqs_app


def app(environ, start_response):
    def start(status, headers, exc_info=None):
        headers.append(("X-Worker-Pid", str(os.getpid())))
        return start_response(status, headers, exc_info)

    return ecqs_app(environ, start)
