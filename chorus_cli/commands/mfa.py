"""chorus mfa: «Mes facteurs d'authentification», a TOTP app and security keys (MFA-2..5)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from chorus_cli.commands._common import (
    FormatOpt,
    JsonOpt,
    PasswordStdinOpt,
    as_account,
    data_fields,
    new_group,
    output_format,
)

if TYPE_CHECKING:
    from chorus_cli.domain.factors.totp import Enrolment
    from chorus_cli.store.listing import Page, Window

app = new_group("mfa", "Second factors: a TOTP app, FIDO2 security keys (MFA-2..5).")
totp_app = new_group("totp", "TOTP app: add it by scanning a QR code, confirm, remove (MFA-2).")
key_app = new_group("key", "FIDO2 security keys: add, list, remove (MFA-4).")
app.add_typer(totp_app)
app.add_typer(key_app)

NameOpt = Annotated[
    str | None, typer.Option("--name", help="A name for the device (e.g. «Téléphone pro»).")
]
InvertOpt = Annotated[
    bool,
    typer.Option(
        "--invert", help="Draw the QR code for a terminal with light text on a dark background."
    ),
]


ENROLMENT_FIELDS = ("secret", "uri")  # a TOTP enrolment waiting for its code, for scripts


def _emit_rows(rows: Page, fmt: str, empty: str = "hint.no_factor") -> None:
    from chorus_cli.ui.output import emit, say

    if not rows.rows:
        say(empty)
        if fmt == "table":
            return
    emit(rows, fmt)


@app.command("list")
@data_fields("chorus_cli.domain.factors.common:FACTOR_FIELDS")
def list_factors(
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """List your TOTP app and security keys: type, name, added, last used (MFA-5).

    No secret is ever shown. Login asks for them in this order (AUTH-1); the code mailed
    to the login address remains the way to log in without them (--method email).

    Example: chorus mfa list --json
    """
    from chorus_cli.domain.factors import common
    from chorus_cli.store.listing import cut

    with as_account() as (uow, account):
        rows = cut(common.listing(uow, account), window)
    _emit_rows(rows, output_format(fmt, as_json))


def _show(enrolment: Enrolment, invert: bool, plain: bool) -> None:
    """The QR code and the secret grouped by four on stdout; the guidance on stderr."""
    import sys

    from chorus_cli.domain.factors.totp import grouped
    from chorus_cli.ui import qr
    from chorus_cli.ui.output import say

    drawn = qr.render(enrolment.uri, invert=invert)
    width = len(drawn.splitlines()[0])
    columns = qr.terminal_columns()
    say("done.totp_scan")
    if columns < width:
        say("warn.qr_too_wide", columns=columns, width=width)
    print(drawn)
    sys.stdout.flush()
    say("done.totp_manual")
    print(grouped(enrolment.secret))
    if plain:  # SET-5: the QR code's content as text too
        sys.stdout.flush()
        say("done.totp_uri")
        print(enrolment.uri)
    sys.stdout.flush()  # before the prompt, even when stdout is a pipe


@totp_app.command("add")
@data_fields(ENROLMENT_FIELDS)
def totp_add(
    name: NameOpt = None,
    invert: InvertOpt = False,
    password_stdin: PasswordStdinOpt = False,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Add a TOTP app: scan the QR code drawn here, then type the code it shows (MFA-2).

    Your password is asked first (SEC-5; from a pipe or with --password-stdin, the first
    line). The secret is also printed in groups of four, to type by hand; it is never shown
    again. The app is saved only once a right code is typed; without one (an empty
    line), the enrolment waits 10 minutes for `chorus mfa totp confirm CODE`. With
    --format json, prints {"secret", "uri"} and waits likewise. One app per account.

    Example: chorus mfa totp add --name "Téléphone pro"
    """
    import sys

    from chorus_cli.domain.factors import manage
    from chorus_cli.i18n import message
    from chorus_cli.kernel.errors import WrongEnrolmentCode
    from chorus_cli.ui import prompts
    from chorus_cli.ui.output import emit, plain, say

    fmt = output_format(fmt, as_json)
    with as_account() as (uow, account):
        enrolment = manage.add_totp(uow, account, name, lambda: prompts.password(password_stdin))
        if fmt != "table":
            shown = (enrolment.secret, enrolment.uri)
            emit(dict(zip(ENROLMENT_FIELDS, shown, strict=True)), fmt)
            say("done.totp_pending")
            return
        _show(enrolment, invert, plain() or account.accessibility)
        answer = prompts.ask("prompt.totp_code", required=False)
        while True:
            if not answer:
                say("done.totp_pending")
                return
            try:
                row = manage.confirm_totp(uow, account, answer)
                break
            except WrongEnrolmentCode as exc:
                if not sys.stdin.isatty():
                    raise
                print(message(exc.key, **exc.params), file=sys.stderr)
                answer = prompts.ask("prompt.totp_code", required=False)
    say("done.totp_added", name=row.name, email=account.contact_email)


@totp_app.command("confirm")
@data_fields("chorus_cli.domain.factors.common:FACTOR_FIELDS")
def totp_confirm(
    code: Annotated[str, typer.Argument(help="The 6-digit code the app shows.")],
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Finish adding a TOTP app with the code it shows, within 10 minutes (MFA-2).

    Example: chorus mfa totp confirm 123456
    """
    from chorus_cli.domain.factors import common, manage
    from chorus_cli.ui.output import emit, say

    with as_account() as (uow, account):
        row = manage.confirm_totp(uow, account, code)
        result = common.view(row)
    say("done.totp_added", name=row.name, email=account.contact_email)
    emit(result, output_format(fmt, as_json))


@totp_app.command("remove")
def totp_remove(password_stdin: PasswordStdinOpt = False) -> None:
    """Remove your TOTP app; your password is asked first, a notice is mailed (MFA-5).

    Example: chorus mfa totp remove
    """
    from chorus_cli.domain.factors import manage
    from chorus_cli.ui import prompts
    from chorus_cli.ui.output import say

    with as_account() as (uow, account):
        row = manage.remove_totp(uow, account, lambda: prompts.password(password_stdin))
    say("done.totp_removed", name=row.name, email=account.contact_email)


@key_app.command("add")
@data_fields("chorus_cli.domain.factors.common:FACTOR_FIELDS")
def key_add(
    name: NameOpt = None,
    password_stdin: PasswordStdinOpt = False,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Register a FIDO2 security key plugged in by USB: your password first (SEC-5), then
    touch the key when asked (MFA-4).

    Example: chorus mfa key add --name "YubiKey bureau"
    """
    from chorus_cli.domain.factors import common, manage
    from chorus_cli.ui import prompts, security_keys
    from chorus_cli.ui.output import emit, say

    with as_account() as (uow, account):
        row = manage.add_key(
            uow,
            account,
            name,
            lambda: prompts.password(password_stdin),
            security_keys.client().register,
        )
        result = common.view(row)
    say("done.key_added", name=row.name, id=row.id, email=account.contact_email)
    emit(result, output_format(fmt, as_json))


@key_app.command("list")
@data_fields("chorus_cli.domain.factors.common:FACTOR_FIELDS")
def key_list(
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """List your security keys: number, name, added, last used (MFA-4, MFA-5).

    Example: chorus mfa key list
    """
    from chorus_cli.domain.factors import common, security_key
    from chorus_cli.store.listing import cut

    with as_account() as (uow, account):
        rows = cut([common.view(row) for row in security_key.keys(uow, account)], window)
    _emit_rows(rows, output_format(fmt, as_json), "hint.no_key")


@key_app.command("remove")
def key_remove(
    key_id: Annotated[int, typer.Argument(metavar="ID", help="The key's number (mfa key list).")],
    password_stdin: PasswordStdinOpt = False,
) -> None:
    """Remove a security key; your password is asked first, a notice is mailed (MFA-5).

    Example: chorus mfa key remove 2
    """
    from chorus_cli.domain.factors import manage
    from chorus_cli.ui import prompts
    from chorus_cli.ui.output import say

    with as_account() as (uow, account):
        row = manage.remove_key(uow, account, key_id, lambda: prompts.password(password_stdin))
    say("done.key_removed", name=row.name, email=account.contact_email)
