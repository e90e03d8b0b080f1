"""Command-line entries: `flask --app app seed` (reference and demo data, idempotent),
`remind` (expiry reminders) and `workflows` (docs/workflows.md from the state tables)."""

from __future__ import annotations

import click

from ecqs import seeding
from ecqs.instruments.reminders import register_remind_command


def register_cli(app) -> None:
    register_remind_command(app)

    @app.cli.command("seed")
    @click.option("--no-demo", is_flag=True, help="Load reference data only, no demo accounts.")
    def seed_command(no_demo: bool):
        """Load reference data and demo data; safe to run again."""
        counts = seeding.load_reference()
        click.echo(f"reference data: {counts}")
        if not no_demo:
            created = seeding.load_demo()
            click.echo(f"demo data: {created}")
