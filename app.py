"""WSGI entry point: `flask --app app ...` and `gunicorn app:app` both use it."""

from ecqs import create_app

app = create_app()
