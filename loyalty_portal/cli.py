"""`flask loyalty ...` commands."""

import click
from flask import Flask

from .extensions import db


def register_cli(app: Flask) -> None:
    @app.cli.group("loyalty")
    def loyalty() -> None:
        """Loyalty Portal administration."""

    @loyalty.command("demo")
    @click.option("--if-empty", is_flag=True, help="Only seed when the database has no vendor.")
    def demo(if_empty: bool) -> None:
        """Create demo vendors, logins, staff PINs, customers and history (idempotent)."""
        from .demo import seed_demo
        from .services.vendor_service import count_vendors

        if if_empty and count_vendors() > 0:
            click.echo("Database already has data; demo not seeded.")
            return
        for line in seed_demo():
            click.echo(line)

    @loyalty.command("verify-ledger")
    def verify_ledger() -> None:
        """Recompute every card's balances from its ledger; exit 1 when any differs."""
        from .services.transaction_service import verify_ledger as run

        mismatches = run()
        for m in mismatches:
            click.echo(
                f"card {m.card_id}: {m.column} is {m.card_value}, ledger says {m.ledger_value}"
            )
        if mismatches:
            raise SystemExit(1)
        click.echo("Ledger OK: every card matches its transactions.")

    @loyalty.command("worker")
    @click.option(
        "--until-idle", is_flag=True, help="Deliver what is due, then exit (instead of waiting)."
    )
    def worker(until_idle: bool) -> None:
        """Deliver outbox messages (wallet updates, e-mails) until SIGTERM or Ctrl-C."""
        import logging

        from flask import current_app

        from .worker import Worker

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        runner = Worker(current_app._get_current_object())
        if until_idle:
            outcomes = runner.run_until_idle()
            click.echo(f"Delivered {sum(o.status == 'delivered' for o in outcomes)} message(s).")
        else:
            runner.run()

    @loyalty.command("create-admin")
    @click.argument("email")
    @click.password_option()
    def create_admin(email: str, password: str) -> None:
        """Create a platform admin."""
        from .models import Role
        from .services.vendor_service import create_user

        create_user(email, email, password, Role.ADMIN)
        db.session.commit()
        click.echo(f"Admin {email} created.")

    from .cli_onboarding import register_alert_command, register_onboarding_commands

    register_onboarding_commands(loyalty)
    register_alert_command(loyalty)
