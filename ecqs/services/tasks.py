"""Every task and schedule of the job queue, imported once by create_app() so that the web
workers (which enqueue) and the consumer (which runs) know the same names."""

# ruff: noqa: F401
from ecqs.services import exports, import_jobs, mail, schedules, sms_providers
