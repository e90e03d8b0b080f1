"""Command-line entries: `flask --app app seed` (reference and demo data, idempotent)."""

from __future__ import annotations

import click


def register_cli(app) -> None:
    from ecqs.instruments.reminders import register_remind_command

    register_remind_command(app)

    @app.cli.command("purge-notifications")
    @click.option("--days", default=180, show_default=True, help="Remove messages older than this.")
    def purge_notifications_command(days: int):
        """Archive 站内消息: remove messages older than --days (180 by default)."""
        from ecqs.extensions import db
        from ecqs.services import notify

        removed = notify.archive_old(days=days)
        db.session.commit()
        click.echo(f"notifications removed: {removed}")

    @app.cli.command("seed")
    @click.option("--no-demo", is_flag=True, help="Load reference data only, no demo accounts.")
    def seed_command(no_demo: bool):
        """Load reference data and demo data; safe to run again."""
        from ecqs import seeding

        counts = seeding.load_reference()
        click.echo(f"reference data: {counts}")
        if not no_demo:
            created = seeding.load_demo()
            click.echo(f"demo data: {created}")
