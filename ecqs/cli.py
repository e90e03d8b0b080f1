"""Command-line entries: `flask --app app seed` (reference and demo data, idempotent),
`remind` (expiry reminders), `workflows` (docs/workflows.md from the state tables) and
`registry expire-applications` (逾期作废 of publicity applications not uploaded in 7 days)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ecqs import seeding
from ecqs.extensions import db
from ecqs.instruments.reminders import register_remind_command
from ecqs.registry import application_operations
from ecqs.services import notify, workflow_docs


def register_cli(app) -> None:
    register_remind_command(app)
    registry = AppGroup("registry", help="执业公示 (M4) maintenance.")

    @registry.command("expire-applications")
    def expire_applications_command():
        """逾期作废: end every publicity application not uploaded within 7 days (the hourly job
        does the same)."""
        expired = application_operations.expire_overdue()
        db.session.commit()
        click.echo(f"publicity applications expired: {expired}")

    app.cli.add_command(registry)

    @app.cli.command("purge-notifications")
    @click.option("--days", default=180, show_default=True, help="Remove messages older than this.")
    def purge_notifications_command(days: int):
        """Archive 站内消息: remove messages older than --days (180 by default)."""
        removed = notify.archive_old(days=days)
        db.session.commit()
        click.echo(f"notifications removed: {removed}")

    @app.cli.command("seed")
    @click.option("--no-demo", is_flag=True, help="Load reference data only, no demo accounts.")
    def seed_command(no_demo: bool):
        """Load reference data and demo data; safe to run again."""
        counts = seeding.load_reference()
        click.echo(f"reference data: {counts}")
        if not no_demo:
            created = seeding.load_demo()
            click.echo(f"demo data: {created}")

    @app.cli.command("workflows")
    @click.option(
        "--output",
        type=click.Path(dir_okay=False, writable=True),
        default=str(workflow_docs.DOCS_PATH),
        show_default=True,
        help="Where to write the Markdown ('-' for standard output).",
    )
    def workflows_command(output: str):
        """Render every registered workflow as a Mermaid state diagram with a transition table."""
        text = workflow_docs.render()
        if output == "-":
            click.echo(text, nl=False)
            return
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
        click.echo(f"wrote {output}")
