"""``auth-service users …``: manage accounts through the same flows as the web."""

from __future__ import annotations

from collections.abc import Callable

import click
from flask.cli import with_appcontext

from auth_service.cli.output import (
    details,
    json_document,
    json_line,
    printable,
    read_password,
    table,
    when,
)
from auth_service.flows import admin, personal_data, two_factor
from auth_service.flows.audit import CLI

EMAIL = click.argument("email")


@click.group("users")
def users() -> None:
    """Create, find, change and remove reader accounts.

    Example: auth-service users show ann@example.com
    """


@users.command("create")
@EMAIL
@click.option("--name", help="Display name.")
@click.option("--admin", "is_admin", is_flag=True, help="Give the admin role.")
@click.option("--confirmed", is_flag=True, help="Mark the address confirmed (no email sent).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--no-password", is_flag=True,
              help="No password: the owner gets a link to set one.")
@with_appcontext
def create(email: str, name: str | None, is_admin: bool, confirmed: bool, password_stdin: bool,
           no_password: bool) -> None:
    """Create an account. Unconfirmed accounts get the confirmation email; with
    --no-password the owner gets a link to set a password instead (which confirms
    the address too).

    Example: echo 'a long passphrase' | auth-service users create ann@example.com
    --name Ann --confirmed --password-stdin
    """
    if no_password and password_stdin:
        raise click.UsageError("--no-password and --password-stdin exclude each other: choose one")
    email = admin.new_address(email)  # a mistake in it shows before the password is asked
    password = None if no_password else read_password(password_stdin)
    user = admin.create_account(email, password, name=name, admin=is_admin, confirmed=confirmed)
    click.echo(f"Created account {user.id} for {user.email}.")


@users.command("list")
@click.option("--search", "query", help="Part of the address or name.")
@click.option("--disabled", is_flag=True, help="Only disabled accounts.")
@click.option("--unconfirmed", is_flag=True, help="Only unconfirmed addresses.")
@click.option("--admin", "admins", is_flag=True, help="Only admins.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@with_appcontext
def list_(query: str | None, disabled: bool, unconfirmed: bool, admins: bool, limit: int,
          offset: int, as_json: bool) -> None:
    """List accounts, oldest first, a page at a time.

    Example: auth-service users list --search example.com --unconfirmed --limit 20
    """
    found = admin.search(query=query, disabled=disabled, unconfirmed=unconfirmed, admin=admins,
                         limit=limit, offset=offset)
    if as_json:
        for user in found:
            json_line(personal_data.account_dict(user))
        return
    table(["ID", "EMAIL", "NAME", "CONFIRMED", "DISABLED", "ROLES", "CREATED", "LAST SIGN-IN"],
          [[u.id, u.email, u.display_name, "yes" if u.email_confirmed else "no",
            "yes" if u.disabled else "no", ",".join(u.roles) or "-", when(u.created_at),
            when(u.last_login_at)] for u in found])


@users.command("show")
@EMAIL
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
@with_appcontext
def show(email: str, as_json: bool) -> None:
    """Show an account with its providers, active sessions and latest audit events.

    Example: auth-service users show ann@example.com --json
    """
    user = admin.get_account(email)
    identities = personal_data.identities_of(user)
    active = personal_data.sessions_of(user)
    events = personal_data.events_of(user, limit=10)
    if as_json:
        json_document({"account": personal_data.account_dict(user),
                       "identities": [personal_data.identity_dict(i) for i in identities],
                       "sessions": [personal_data.session_dict(s) for s in active],
                       "audit_events": [personal_data.event_dict(e) for e in events]})
        return
    data = personal_data.account_dict(user)
    for key in ("id", "email", "name", "email_confirmed", "roles", "disabled", "has_password",
                "created_at", "last_login_at"):
        click.echo(f"{key.replace('_', ' '):>16}: {printable(_shown(data[key]))}")
    click.echo(f"\nProviders ({len(identities)})")
    table(["PROVIDER", "SUBJECT", "EMAIL", "LAST USED"],
          [[i.provider, i.subject, i.email, when(i.last_used_at)] for i in identities])
    click.echo(f"\nActive sessions ({len(active)})")
    table(["ID", "METHOD", "IP", "LAST SEEN", "EXPIRES"],
          [[s.id, s.method, s.ip, when(s.last_seen_at), when(s.ends_at)] for s in active])
    click.echo("\nLatest events")
    table(["WHEN", "EVENT", "IP", "DETAILS"],
          [[when(e.created_at), e.event, e.ip, details(e.details)] for e in events])


def _shown(value: object) -> object:
    """A value as the tables show it: yes/no, - for nothing, lists joined (-: empty)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value) or "-"
    return "-" if value is None else value


def _simple(name: str, help_text: str, example: str) -> Callable[[Callable], click.Command]:
    """Declare a one-argument command (EMAIL) with its help text and an example."""

    def decorate(function: Callable) -> click.Command:
        function.__doc__ = f"{help_text}\n\n    Example: auth-service users {name} {example}\n    "
        return users.command(name)(EMAIL(with_appcontext(function)))
    return decorate


@_simple("disable", "Disable an account: it cannot sign in and its sessions end at once.",
         "ann@example.com")
def disable(email: str) -> None:
    if admin.set_disabled(admin.get_account(email), True):
        click.echo(f"Disabled {email}; its sessions have ended.")
    else:
        click.echo(f"{email} was already disabled.")


@_simple("enable", "Enable a disabled account.", "ann@example.com")
def enable(email: str) -> None:
    if admin.set_disabled(admin.get_account(email), False):
        click.echo(f"Enabled {email}.")
    else:
        click.echo(f"{email} was not disabled.")


@_simple("promote", "Give an account the admin role (shown in /api/session).", "ann@example.com")
def promote(email: str) -> None:
    admin.set_admin(admin.get_account(email), True)
    click.echo(f"{email} is now an admin.")


@_simple("demote", "Take the admin role away.", "ann@example.com")
def demote(email: str) -> None:
    admin.set_admin(admin.get_account(email), False)
    click.echo(f"{email} is no longer an admin.")


@_simple("confirm", "Mark an account's address as confirmed.", "ann@example.com")
def confirm(email: str) -> None:
    admin.confirm(admin.get_account(email))
    click.echo(f"Confirmed {email}.")


@_simple("send-reset", "Email the account a password reset link.", "ann@example.com")
def send_reset(email: str) -> None:
    admin.send_reset(admin.get_account(email))
    click.echo(f"A reset link for {email} is in the outbox.")


@_simple("revoke-sessions", "Sign the account out everywhere.", "ann@example.com")
def revoke_sessions(email: str) -> None:
    count = admin.revoke_sessions(admin.get_account(email))
    click.echo(f"Ended {count} session{'s' if count != 1 else ''} of {email}.")


@_simple("reset-2fa", "Remove the account's second factors (authenticator app, recovery codes, "
         "passkeys) for a reader who lost them; audited, and the owner is told by email.",
         "ann@example.com")
def reset_2fa(email: str) -> None:
    removed = two_factor.reset(admin.get_account(email), client=CLI)
    if not (removed["totp"] or removed["passkeys"]):
        click.echo(f"{email} had no second factor; nothing to remove.")
        return
    parts = [*(["the authenticator app"] if removed["totp"] else []),
             f"{removed['recovery_codes']} recovery code(s)", f"{removed['passkeys']} passkey(s)"]
    click.echo(f"Removed {', '.join(parts)} from {email}: the password alone signs in now.")


@_simple("export", "Print everything held about the account as JSON (data-access request).",
         "ann@example.com > ann.json")
def export(email: str) -> None:
    json_document(personal_data.export(admin.get_account(email)))


@users.command("set-password")
@EMAIL
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def set_password(email: str, password_stdin: bool) -> None:
    """Set a new password (same rules as the web); every session of the account ends.

    Example: auth-service users set-password ann@example.com
    """
    user = admin.get_account(email)
    admin.set_password(user, read_password(password_stdin))
    click.echo(f"Password changed for {user.email}; its sessions have ended.")


@users.command("delete")
@EMAIL
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
@with_appcontext
def delete(email: str, yes: bool) -> None:
    """Delete an account, its sessions, linked providers and personal data.

    The audit log keeps an anonymised record.

    Example: auth-service users delete ann@example.com --yes
    """
    user = admin.get_account(email)
    if not yes:
        click.confirm(f"Delete {user.email} and everything held about it?", abort=True)
    admin.delete_account(user)
    click.echo(f"Deleted {email}.")
