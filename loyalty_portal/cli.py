"""`flask loyalty ...` commands."""

import click
from flask import Flask

from .extensions import db
from .services import apple_certificates


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
        """Recompute every card's balances and totals, and the statistics' daily summary, from
        the ledger, each in one snapshot (safe on a live database); list every problem and exit
        1 when there is any."""
        from .services.ledger_audit import verify_daily_activity
        from .services.ledger_audit import verify_ledger as run

        problems = [*run(), *verify_daily_activity()]
        for problem in problems:
            click.echo(problem.describe())
        if problems:
            click.echo(f"{len(problems)} problem(s) found.")
            raise SystemExit(1)
        click.echo(
            "Ledger OK: every card and the daily statistics match their transactions."
        )

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

    @loyalty.group("google")
    def google() -> None:
        """Google Wallet."""

    @google.command("check")
    def google_check() -> None:
        """Check the Google Wallet settings: fetch an access token with the service account and
        read the issuer account from the configured API; exit 1 when anything fails."""
        from .errors import LoyaltyError
        from .services import google_wallet_service

        found = google_wallet_service.settings()
        if found is None:
            click.echo(
                "Google Wallet is not configured: set GOOGLE_WALLET_ISSUER_ID and "
                "GOOGLE_WALLET_SERVICE_ACCOUNT_FILE (docs/wallets.md)."
            )
            raise SystemExit(1)
        click.echo(f"Service account: {found.service_account_email}")
        click.echo(f"Token endpoint:  {found.token_uri}")
        click.echo(f"Wallet API:      {found.api_base_url}")
        click.echo(f"Issuer id:       {found.issuer_id}")
        try:
            name = google_wallet_service.check_credentials()
        except LoyaltyError as error:
            click.echo(f"FAILED: {error.message}")
            raise SystemExit(1) from None
        click.echo(f"OK: the service account may issue passes for {name!r}.")

    @loyalty.group("apple")
    def apple() -> None:
        """Apple Wallet certificates (docs/wallets.md)."""

    @apple.command("check")
    def apple_check() -> None:
        """Check the Apple Wallet settings and certificates; exit 1 when they cannot work.
        (The app refuses to start with such settings; this says so without starting it.)"""
        from flask import current_app

        try:
            credentials = apple_certificates.load_credentials(current_app.config)
        except apple_certificates.AppleWalletConfigurationError as error:
            click.echo(f"Apple Wallet: {error}", err=True)
            raise SystemExit(1) from None
        if credentials is None:
            click.echo("Apple Wallet is not configured (no APPLE_* settings): the Apple button"
                       " is hidden and the API answers APPLE_WALLET_NOT_CONFIGURED.")
            return
        click.echo(f"Apple Wallet OK: pass type {credentials.pass_type_identifier}, team"
                   f" {credentials.team_identifier}, certificate valid until"
                   f" {credentials.expires_at:%Y-%m-%d}, issued by"
                   f" {credentials.wwdr_certificate.subject.rfc4514_string()};"
                   f" APNs at {credentials.apns_url}.")

    @apple.command("dev-certs")
    @click.option("--directory", default="instance/apple-dev", show_default=True,
                  type=click.Path(file_okay=False), help="Where to write the files.")
    @click.option("--pass-type-identifier", default=apple_certificates.DEV_PASS_TYPE_IDENTIFIER,
                  show_default=True)
    @click.option("--team-identifier", default=apple_certificates.DEV_TEAM_IDENTIFIER,
                  show_default=True)
    @click.option("--if-missing", is_flag=True, help="Keep the files already there.")
    def apple_dev_certs(directory: str, pass_type_identifier: str, team_identifier: str,
                        if_missing: bool) -> None:
        """Make a local root CA, a stand-in "WWDR" intermediate and a Pass Type ID certificate,
        so passes are signed end to end in development (they verify with openssl against
        ca.pem; no iPhone accepts them). Prints the settings that use them."""
        from pathlib import Path

        path = Path(directory)
        if not (if_missing and (path / "pass.pem").exists()):
            chain = apple_certificates.make_dev_certificates(pass_type_identifier,
                                                             team_identifier)
            chain.write(path)
            click.echo(f"Wrote ca.pem, wwdr.pem, pass.pem and pass-key.pem to {path}.")
        click.echo("Settings (environment variables):")
        for name, value in apple_certificates.dev_settings(path).items():
            click.echo(f"{name}={value}")
