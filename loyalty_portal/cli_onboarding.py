"""`flask loyalty` commands for shops and people, through the same services as the screens and
the API: create-vendor, invite-owner, create-program, create-terminal, suspend-vendor,
resume-vendor. A refusal prints its error code and message and exits with status 1."""

from functools import wraps

import click

from .errors import LoyaltyError
from .i18n import SUPPORTED_LOCALES


def _refusals_as_exit_status(command):
    @wraps(command)
    def wrapped(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except LoyaltyError as error:
            raise click.ClickException(f"{error.error_code}: {error.message}") from None

    return wrapped


def register_onboarding_commands(group: click.Group) -> None:
    @group.command("create-vendor")
    @click.argument("slug")
    @click.argument("name")
    @click.option("--timezone", default="Europe/Luxembourg", show_default=True)
    @click.option("--currency", default="EUR", show_default=True)
    @click.option("--language", type=click.Choice(SUPPORTED_LOCALES), default="en",
                  show_default=True)
    @click.option("--owner-email", help="Invite this address as the shop's owner (e-mail).")
    @click.option("--owner-name", default="")
    @_refusals_as_exit_status
    def create_vendor(slug, name, timezone, currency, language, owner_email, owner_name):
        """Create a shop (vendor), and invite its owner by e-mail."""
        from .services import vendor_service

        if owner_email:
            vendor, owner = vendor_service.open_shop(slug, name, timezone, currency, language,
                                                     owner_email, owner_name)
            click.echo(f"Vendor {vendor.slug} created (id {vendor.id}); "
                       f"invitation sent to {owner.email}.")
        else:
            vendor = vendor_service.create_vendor(slug, name, timezone, currency, language)
            click.echo(f"Vendor {vendor.slug} created (id {vendor.id}).")

    @group.command("invite-owner")
    @click.argument("vendor_slug")
    @click.argument("email")
    @click.option("--name", default="")
    @click.option("--language", type=click.Choice(SUPPORTED_LOCALES), default=None)
    @_refusals_as_exit_status
    def invite_owner(vendor_slug, email, name, language):
        """E-mail an invitation to become an owner of the shop (sent again if still open)."""
        from .services import account_service, vendor_service

        vendor = vendor_service.get_vendor_by_slug(vendor_slug)
        user = account_service.invite_owner(vendor.id, email, name, language)
        click.echo(f"Invitation sent to {user.email}.")

    @group.command("create-program")
    @click.argument("vendor_slug")
    @click.argument("program_type", type=click.Choice(["stamps", "points"]))
    @click.argument("name")
    @_refusals_as_exit_status
    def create_program(vendor_slug, program_type, name):
        """Create the shop's loyalty program with the default settings."""
        from .services import program_service, vendor_service

        vendor = vendor_service.get_vendor_by_slug(vendor_slug)
        program = program_service.create_program(vendor.id, program_type, name)
        click.echo(f"Program {program.name!r} created (id {program.id}).")

    @group.command("create-terminal")
    @click.argument("vendor_slug")
    @click.argument("email")
    @click.option("--name", default="Counter")
    @click.password_option()
    @_refusals_as_exit_status
    def create_terminal(vendor_slug, email, name, password):
        """Create a counter-terminal login for the shop."""
        from .services import account_service, vendor_service

        vendor = vendor_service.get_vendor_by_slug(vendor_slug)
        user = account_service.create_terminal_login(vendor.id, email, name, password)
        click.echo(f"Terminal login {user.email} created.")

    @group.command("suspend-vendor")
    @click.argument("vendor_slug")
    @_refusals_as_exit_status
    def suspend_vendor(vendor_slug):
        """Stop a shop's terminals, API keys, counter and enrolment (nothing is deleted)."""
        from .services import vendor_service

        vendor = vendor_service.get_vendor_by_slug(vendor_slug)
        vendor_service.set_vendor_suspended(vendor.id, True)
        click.echo(f"Vendor {vendor.slug} suspended.")

    @group.command("resume-vendor")
    @click.argument("vendor_slug")
    @_refusals_as_exit_status
    def resume_vendor(vendor_slug):
        """Lift a shop's suspension."""
        from .services import vendor_service

        vendor = vendor_service.get_vendor_by_slug(vendor_slug)
        vendor_service.set_vendor_suspended(vendor.id, False)
        click.echo(f"Vendor {vendor.slug} works again.")


def register_alert_command(group: click.Group) -> None:
    @group.command("send-activity-alerts")
    @click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="The day to look at (default: yesterday, UTC).")
    def send_activity_alerts(day):
        """E-mail owners about staff members or cards far above their usual activity (run daily)."""
        from datetime import timedelta

        from .clock import utcnow
        from .services import activity_alerts

        chosen = day.date() if day else utcnow().date() - timedelta(days=1)
        count = activity_alerts.send_activity_alerts(chosen)
        click.echo(f"{count} alert e-mail(s) for {chosen.isoformat()}.")
