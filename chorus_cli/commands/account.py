"""chorus account: create, activate, passwords and «Mon compte»."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from chorus_cli.commands._common import (
    STATE,
    AccountStatusOpt,
    FormatOpt,
    IdTypeOpt,
    JsonOpt,
    PasswordStdinOpt,
    as_account,
    current_account,
    data_fields,
    new_group,
    output_format,
    showing_account,
    unit_of_work,
)
from chorus_cli.commands.technical import app as technical_app

if TYPE_CHECKING:
    from chorus_cli.store.listing import Window

app = new_group("account", "Accounts: create, activate, passwords, «Mon compte».")
app.add_typer(technical_app)  # account technical … (TECH-1, TECH-2)


@app.command()
@data_fields("chorus_cli.domain.accounts:VIEW_FIELDS")
def create(
    email: Annotated[str, typer.Option("--email", help="Login e-mail (the identifier).")],
    last_name: Annotated[str, typer.Option("--last-name", help="Last name (nom).")],
    first_name: Annotated[str, typer.Option("--first-name", help="First name (prénom).")],
    phone: Annotated[str | None, typer.Option("--phone", help="Optional phone.")] = None,
    contact_email: Annotated[
        str | None, typer.Option("--contact-email", help="Where notices go (default: login).")
    ] = None,
    structure: Annotated[
        str | None,
        typer.Option(
            "--structure",
            metavar="ID",
            help="Correspondent or admin: the public structure the account is attached to.",
        ),
    ] = None,
    id_type: IdTypeOpt = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Create an account; the activation link (60 min) is mailed to the login (ACC-1..3).

    With --structure, a DGFiP correspondent of the structure's department (or an admin)
    creates a public entity's account, already attached to that public structure with
    the default habilitations; the link comes from noreply@dgfip.finances.gouv.fr, and
    the owner completes the account at first login (PUB-1..3).

    Example: chorus account create --email marie@example.fr --last-name Curie --first-name Marie

    Example (correspondent): chorus account create --structure 21389999000013 \\
    --email lea.roux@mairie.fr --last-name Roux --first-name Léa
    """
    from chorus_cli.domain import accounts
    from chorus_cli.ui.output import emit, say

    fields = {
        "email": email,
        "last_name": last_name,
        "first_name": first_name,
        "phone": phone,
        "contact_email": contact_email,
    }
    with unit_of_work() as uow:
        if structure is None:
            if id_type is not None:
                from chorus_cli.kernel.errors import BadInput

                raise BadInput("pub1.id_type_without_structure")
            account = accounts.create(uow, **fields)
            made = None
        else:
            from chorus_cli.domain import provisioning

            actor = current_account(uow)
            made = provisioning.create_account(
                uow, actor, structure=structure, id_type=id_type, **fields
            )
            account = made.account
        result = accounts.view(uow, account)
        uow.commit()
    if made is None:
        say("done.account_created", email=account.login_email)
    else:
        say(
            "done.account_provisioned",
            email=account.login_email,
            id=made.structure.identifier,
            sender=STATE.settings.public_sender,
        )
        if made.primary_manager:
            say("done.provisioned_primary", email=account.login_email, id=made.structure.identifier)
    emit(result, output_format(fmt, as_json))


@app.command()
def delete(
    email: Annotated[str, typer.Argument(help="Login e-mail of the account to delete.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete an account: sessions, factors, attachments and habilitations go, the audit
    trail stays (PUB-1). For a DGFiP correspondent of the department of every structure
    the account is attached to, or an admin; refused while the account is a primary
    manager (STR-8: transfer the role first). Asks for confirmation unless --yes.

    Example: chorus account delete agent@mairie.fr --yes
    """
    from chorus_cli.domain import provisioning
    from chorus_cli.ui import prompts
    from chorus_cli.ui.output import say

    with as_account() as (uow, actor):
        checked = provisioning.deletion(uow, actor, email)
    # No transaction is open while the person decides (SEC-4); the deletion checks again.
    structures = ", ".join(checked.structures) or "-"
    if not yes and not prompts.confirm(
        "prompt.delete_account", email=checked.account.login_email, structures=structures
    ):
        say("done.delete_cancelled", email=checked.account.login_email)
        raise typer.Exit(1)
    with as_account() as (uow, actor):
        done = provisioning.delete_account(uow, actor, email)
    say("done.account_deleted", email=done.account.login_email, structures=structures)


@app.command()
def activate(
    link: Annotated[str, typer.Argument(help="The activation link, or its token.")],
    password_stdin: PasswordStdinOpt = False,
) -> None:
    """Activate an account with the mailed link and choose its password (ACC-3..5).

    Example: chorus account activate 'https://portail.chorus-pro.gouv.fr/activate?token=...'
    """
    from chorus_cli.domain import accounts
    from chorus_cli.ui.output import say
    from chorus_cli.ui.prompts import new_password

    password = new_password(password_stdin)
    with unit_of_work() as uow:
        account = accounts.activate(uow, link, password)
        uow.commit()
    say("done.activated", email=account.login_email)


@app.command("forgot-password")
def forgot_password(email: Annotated[str, typer.Argument(help="Login e-mail.")]) -> None:
    """Mail a reset link (60 min) if the account exists; the answer is always the same (ACC-6).

    Example: chorus account forgot-password marie@example.fr
    """
    from chorus_cli.domain import accounts
    from chorus_cli.ui.output import say

    with unit_of_work() as uow:
        accounts.forgot_password(uow, email)
        uow.commit()
    say("done.forgot", email=email.strip())


@app.command("reset-password")
def reset_password(
    link: Annotated[str, typer.Argument(help="The reset link, or its token.")],
    password_stdin: PasswordStdinOpt = False,
) -> None:
    """Choose a new password with a reset link; also activates a pending account (ACC-6).

    Example: chorus account reset-password 'https://portail.chorus-pro.gouv.fr/reset-password?token=...'
    """
    from chorus_cli.domain import accounts
    from chorus_cli.ui.output import say
    from chorus_cli.ui.prompts import new_password

    password = new_password(password_stdin)
    with unit_of_work() as uow:
        account = accounts.reset_password(uow, link, password)
        uow.commit()
    say("done.reset", email=account.login_email)


@app.command()
@data_fields("chorus_cli.domain.support:SHOW_FIELDS")
def show(
    email: Annotated[
        str | None,
        typer.Argument(help="Another account's login e-mail (support, admin, scope, manager)."),
    ] = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Show «Mon compte»: names, phone, addresses, biography, status, last log-in, lock
    end, second factors (never a secret), login-address change under way, roles and
    structures.

    With EMAIL, another account, whole (MEM-3): for support and admins, a DGFiP
    correspondent when the account is within their scope (SEC-11), or a manager
    («Organisation modification») of a structure the account is attached to.

    Example: chorus account show --json

    Example: chorus account show marie@example.fr
    """
    from chorus_cli.domain import support

    with showing_account() as (uow, account):
        result = support.show(uow, account, email)
    _emit_account(result, output_format(fmt, as_json))


@app.command()
def suspend(
    email: Annotated[str, typer.Argument(help="Login e-mail of the account to suspend.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (audited and mailed).")],
) -> None:
    """Suspend an account (MEM-4): it can no longer log in, its sessions end at once, a
    notice with the reason is mailed; `chorus account restore` gives back the status it
    had. For support and admins (only an admin suspends an admin), or a DGFiP
    correspondent for an account within their scope (SEC-11).

    Example: chorus account suspend marie@example.fr --reason "Poste quitté"
    """
    from chorus_cli.domain import support
    from chorus_cli.ui.output import say

    with as_account() as (uow, actor):
        account = support.suspend(uow, actor, email, reason)
    say("done.suspended", email=account.login_email, contact=account.contact_email)


@app.command()
def restore(
    email: Annotated[str, typer.Argument(help="Login e-mail of the suspended account.")],
) -> None:
    """Lift a suspension (MEM-4): the account gets back the status it had (pending,
    active or deactivated) and is mailed. Same rights as `chorus account suspend`.

    Example: chorus account restore marie@example.fr
    """
    from chorus_cli.domain import support
    from chorus_cli.ui.output import say

    with as_account() as (uow, actor):
        account = support.restore(uow, actor, email)
    say("done.restored", email=account.login_email, status=account.status)


def _emit_account(result: dict, fmt: str) -> None:
    """One account as `show` prints it; a table reads the photo as one phrase (SET-1)."""
    from chorus_cli.ui.cells import photo_read
    from chorus_cli.ui.output import emit

    emit(photo_read(result) if fmt == "table" else result, fmt)


@app.command()
@data_fields("chorus_cli.domain.accounts:VIEW_FIELDS")
def update(
    first_name: Annotated[str | None, typer.Option("--first-name")] = None,
    last_name: Annotated[str | None, typer.Option("--last-name")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="'' to remove.")] = None,
    contact_email: Annotated[str | None, typer.Option("--contact-email")] = None,
    workplace_address: Annotated[str | None, typer.Option("--workplace-address")] = None,
    biography: Annotated[str | None, typer.Option("--biography")] = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Edit «Mon compte» (SET-1); the login address changes with `chorus login-address`.

    Example: chorus account update --phone "01 23 45 67 89" --biography "Comptable"
    """
    from chorus_cli.domain import accounts
    from chorus_cli.ui.output import say

    given = {
        "first_name": first_name,
        "last_name": last_name,
        "phone": phone,
        "contact_email": contact_email,
        "workplace_address": workplace_address,
        "biography": biography,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    with as_account() as (uow, account):
        accounts.update(uow, account, changes)
        result = accounts.view(uow, account)
    say("done.updated", email=account.login_email)
    _emit_account(result, output_format(fmt, as_json))


@app.command()
@data_fields("chorus_cli.domain.accounts:VIEW_FIELDS")
def photo(
    path: Annotated[
        str | None, typer.Argument(metavar="PATH", help="A PNG or JPEG file of at most 1 MB.")
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Remove your photo.")] = False,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Set the photo of «Mon compte» from a PNG or JPEG file of at most 1 MB, or remove
    it (SET-1). The type is read from the file's content, not its name; `account show`
    gives its type, size and dimensions.

    Example: chorus account photo ~/portrait.jpg

    Example: chorus account photo --remove
    """
    from pathlib import Path

    from chorus_cli.domain import accounts
    from chorus_cli.domain import photo as photos
    from chorus_cli.ui.cells import photo_summary
    from chorus_cli.ui.output import say

    with as_account() as (uow, account):
        changed = photos.set_photo(uow, account, None if path is None else Path(path), remove)
        result = accounts.view(uow, account)
    if remove:
        say("done.photo_removed" if changed else "done.photo_none", email=account.login_email)
    else:
        say("done.photo_set", email=account.login_email, summary=photo_summary(result["photo"]))
    _emit_account(result, output_format(fmt, as_json))


@app.command()
@data_fields("chorus_cli.domain.preferences:FIELDS")
def preferences(
    accessibility: Annotated[
        str | None,
        typer.Option(
            "--accessibility",
            metavar="on|off",
            help="Plain output everywhere: no colour, no box drawing, no progress bars.",
        ),
    ] = None,
    surveys: Annotated[
        str | None,
        typer.Option("--surveys", metavar="on|off", help="Agree to answer satisfaction surveys."),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option("--language", metavar="fr|en", help="Language of messages after log-in."),
    ] = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Show or change your preferences (SET-5): accessible output, survey consent and the
    language of messages (--lang and CHORUS_LANG still win over it). With no option,
    shows the three.

    Example: chorus account preferences --accessibility on --language en
    """
    from chorus_cli.domain import preferences as prefs
    from chorus_cli.i18n import set_lang
    from chorus_cli.ui.output import emit, say, set_plain

    given = (accessibility, surveys, language) != (None, None, None)
    with as_account() as (uow, account):
        result = prefs.update(
            uow, account, accessibility=accessibility, surveys=surveys, language=language
        )
    # The new choices apply from this very message on.
    set_lang(uow.lang)
    set_plain(result["accessibility"])
    if given:
        say("done.preferences", email=account.login_email)
    fmt = output_format(fmt, as_json)
    if fmt == "table":  # on|off, as they are typed
        result = {k: {True: "on", False: "off"}.get(v, v) for k, v in result.items()}
    emit(result, fmt)


@app.command()
def password(password_stdin: PasswordStdinOpt = False) -> None:
    """Change your password: current, new, confirmation; a notice is mailed (MFA-1).

    With --password-stdin, the first line is the current password, the second the new one.

    Example: chorus account password
    """
    from chorus_cli.domain import accounts
    from chorus_cli.ui import prompts
    from chorus_cli.ui.output import say

    with as_account() as (uow, account):
        accounts.change_password(
            uow,
            account,
            lambda: prompts.password(password_stdin, "prompt.current_password"),
            lambda: prompts.new_password(password_stdin),
        )
    say("done.password_changed", email=account.contact_email)


@app.command()
def unlock(
    email: Annotated[str, typer.Argument(help="Login e-mail of the locked account.")],
) -> None:
    """Support: lift the 15-minute lockout of an account (AUTH-2).

    Example: chorus account unlock marie@example.fr
    """
    from chorus_cli.domain import accounts
    from chorus_cli.ui.output import say

    with as_account() as (uow, actor):
        account = accounts.unlock(uow, actor, email)
    say("done.unlocked", email=account.login_email)


@app.command()
@data_fields("chorus_cli.domain.attachments:REQUEST_FIELDS")
def history(
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """«Historique de mes demandes»: every request you made, its status and its approver,
    the structure's primary manager when you asked (ATT-3).

    Example: chorus account history --json
    """
    from chorus_cli.commands.attach import emit_requests
    from chorus_cli.domain import attachments
    from chorus_cli.store.listing import cut

    with as_account() as (uow, account):
        page = cut(attachments.history(uow, account), window)
    emit_requests(page, output_format(fmt, as_json), attachments.HISTORY_COLUMNS)


LIST_COLUMNS = ("login_email", "last_name", "first_name", "status")


@app.command("list")
@data_fields("chorus_cli.domain.accounts:VIEW_FIELDS")
def list_(
    status: AccountStatusOpt = None,
    structure: Annotated[
        str | None, typer.Option("--structure", metavar="ID", help="Members of a structure.")
    ] = None,
    id_type: IdTypeOpt = None,
    search: Annotated[
        str | None, typer.Option("--search", help="Words of the login, first or last name.")
    ] = None,
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """List accounts by login: support and admins see all, a DGFiP correspondent the
    accounts of their departments' public structures.

    Example: chorus account list --status pending --structure 21389999000013 --json
    """
    from chorus_cli.domain import accounts
    from chorus_cli.ui.output import emit

    with as_account() as (uow, actor):
        rows = accounts.listing(
            uow,
            actor,
            status=status,
            structure=structure,
            id_type=id_type,
            search=search,
            shown=window,
        )
    emit(rows, output_format(fmt, as_json), table=LIST_COLUMNS)


@app.command()
def deactivate(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    successor: Annotated[
        str | None,
        typer.Option(
            "--successor",
            metavar="EMAIL",
            help="Hand your primary-manager roles to this attached, active account first.",
        ),
    ] = None,
) -> None:
    """Deactivate your account: every session ends, a notice is mailed; log in again with
    `chorus account reactivate`. A primary manager transfers the role first (SET-4, STR-8),
    or names a successor: with --successor, each primary-manager role goes to that account
    and the account is deactivated in one confirmed step, both audited and mailed (MEM-7).
    Asks for confirmation unless --yes (from a script, --yes is required).

    Example: chorus account deactivate --yes

    Example: chorus account deactivate --successor paul@example.fr
    """
    from chorus_cli.domain import deactivation, handover
    from chorus_cli.store import keychain
    from chorus_cli.ui import prompts
    from chorus_cli.ui.output import say

    with as_account() as (uow, account):
        if successor is None:
            deactivation.check(uow, account)
            handed: list[str] = []
        else:
            handed = handover.check(uow, account, successor)
    email = account.login_email
    # No transaction is open while the person decides (SEC-4); a pipe must say --yes.
    key = "prompt.deactivate_successor" if handed else "prompt.deactivate"
    if not yes and not prompts.confirm_at_terminal(
        "set4.yes_needed", key, email=email, successor=successor, structures=", ".join(handed)
    ):
        say("done.deactivate_cancelled", email=email)
        raise typer.Exit(1)
    with as_account() as (uow, account):
        if successor is None:
            deactivation.deactivate(uow, account)
        else:
            handed = handover.deactivate(uow, account, successor)
    keychain.delete("session", STATE.settings.database_url)
    if handed:
        say("done.primary_handed", structures=", ".join(handed), successor=successor)
    say("done.deactivated", email=email, contact=account.contact_email)


@app.command()
@data_fields("chorus_cli.commands.session:login_fields")
def reactivate(
    email: Annotated[str, typer.Argument(help="Login e-mail of your deactivated account.")],
    password_stdin: PasswordStdinOpt = False,
    method: Annotated[
        str | None,
        typer.Option("--method", help="Second factor: email|totp|key, as at log-in."),
    ] = None,
    code: Annotated[
        str | None, typer.Option("--code", help="The second-factor code, without a prompt.")
    ] = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Reactivate your deactivated account: password, then a second factor, exactly as
    `chorus login` (wrong codes count toward the lockout); then you are logged in (SET-4).

    Example: chorus account reactivate marie@example.fr --method email
    """
    from chorus_cli.commands.session import log_in

    log_in(email, password_stdin, method, code, output_format(fmt, as_json), "reactivate")


@app.command()
@data_fields("chorus_cli.domain.subscriptions:SHOWN_FIELDS")
def notifications(
    on: Annotated[
        list[str] | None,
        typer.Option("--on", metavar="APP", help="Be notified by this application (repeatable)."),
    ] = None,
    off: Annotated[
        list[str] | None,
        typer.Option("--off", metavar="APP", help="No longer be notified by it (repeatable)."),
    ] = None,
    weekly: Annotated[
        bool | None,
        typer.Option("--weekly/--no-weekly", help="The weekly summary of your structures."),
    ] = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """«Paramétrer vos notifications»: the applications that may notify you (such as
    «Facturation CPRO», named by code or name) and the weekly summary of the movements on
    your structures; no option: show your choices (SET-2).

    Example: chorus account notifications --on "Facturation CPRO" --weekly
    """
    from chorus_cli.domain import subscriptions as rules
    from chorus_cli.i18n import message
    from chorus_cli.ui.output import emit, say

    changing = bool(on or off) or weekly is not None
    with as_account() as (uow, account):
        if changing:
            shown = rules.choose(uow, account, on, off, weekly)
        else:
            shown = rules.choices(uow, account)
    if changing:
        say("done.notifications_saved", email=account.login_email)
    fmt = output_format(fmt, as_json)
    if fmt in ("json", "jsonl"):
        emit(shown, fmt)
        return
    rows = [{**row, "notify": "on" if row["notify"] else "off"} for row in shown["applications"]]
    weekly = (rules.WEEKLY, message("set2.weekly_name"), "on" if shown[rules.WEEKLY] else "off")
    rows.append(dict(zip(rules.ROW_FIELDS, weekly, strict=True)))
    emit(rows, fmt, columns=rules.ROW_FIELDS)
