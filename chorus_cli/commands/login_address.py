"""chorus login-address: change the address you log in with (LA-1..4, SEC-5)."""

from __future__ import annotations

from typing import Annotated

import typer

from chorus_cli.commands._common import (
    FormatOpt,
    JsonOpt,
    PasswordStdinOpt,
    as_account,
    data_fields,
    new_group,
    output_format,
    session_token,
    unit_of_work,
)

app = new_group(
    "login-address", "Change the address you log in with («Changer mon adresse de connexion»)."
)

AccountOpt = Annotated[
    str | None,
    typer.Option(
        "--account",
        metavar="EMAIL",
        help="Support or admin: the account of a user who lost their mailbox (LA-4).",
    ),
]


@app.command()
@data_fields("chorus_cli.domain.login_address:STATUS_FIELDS")
def change(
    new_email: Annotated[str, typer.Argument(metavar="NEW_EMAIL", help="The new login address.")],
    account: AccountOpt = None,
    password_stdin: PasswordStdinOpt = False,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Ask to change your login address: your password again (SEC-5), then the new
    address a second time; a link valid 24 hours goes to the new address (LA-1). One
    change at a time (LA-2); an address another account uses is refused (LA-3). From a
    pipe: the password on the first line, the address on the second.

    Example: chorus login-address change marie.curie@nouveau.fr

    Example (support, LA-4): chorus login-address change marie@neuf.fr --account marie@ancien.fr
    """
    from chorus_cli.domain import login_address
    from chorus_cli.ui import prompts
    from chorus_cli.ui.output import emit, say

    with as_account() as (uow, actor):
        login_address.ready(uow, actor, account)
    # No transaction is open while the person types (SEC-4); the request checks again.
    password = prompts.password(password_stdin)
    confirmation = prompts.ask("prompt.confirm_login_address") or ""
    with as_account() as (uow, actor):
        change = login_address.request(uow, actor, password, new_email, confirmation, account)
    say(
        "done.login_address_requested",
        email=change.login_email,
        new=change.new_email,
        until=change.view()["expires_at"],
    )
    emit({**change.view(), "status": "pending"}, output_format(fmt, as_json))


@app.command()
@data_fields("chorus_cli.domain.login_address:STATUS_FIELDS")
def confirm(
    link: Annotated[str, typer.Argument(help="The link mailed to the new address, or its token.")],
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Confirm the change with the link mailed to the new address: it becomes your login,
    a notice goes to the old one, your other sessions end (LA-1).

    Example: chorus login-address confirm 'https://portail.chorus-pro.gouv.fr/confirm-login-address?token=...'
    """
    from chorus_cli.domain import auth, login_address
    from chorus_cli.kernel.errors import NotAuthenticated
    from chorus_cli.ui.output import emit, say

    token = session_token()
    keep = None
    if token:  # the session this is typed in stays open, if it is the account's
        with unit_of_work() as uow:
            try:
                auth.authenticate(uow, token)
                keep = uow.session_id
            except NotAuthenticated:
                keep = None
            uow.commit()
    with unit_of_work() as uow:
        done = login_address.confirm(uow, link, keep)
        uow.commit()
    say("done.login_address_changed", email=done.login_email)
    emit(
        {"login_email": done.login_email, "status": "changed"},
        output_format(fmt, as_json),
    )


@app.command()
@data_fields("chorus_cli.domain.login_address:STATUS_FIELDS")
def status(account: AccountOpt = None, fmt: FormatOpt = "table", as_json: JsonOpt = False) -> None:
    """Show the change under way, if any: the new address and until when it can be
    confirmed (LA-2).

    Example: chorus login-address status --json
    """
    from chorus_cli.domain import login_address
    from chorus_cli.ui.output import emit, say

    with as_account() as (uow, actor):
        target = login_address.target(uow, actor, account, reading=True)
        change = login_address.status(uow, actor, account)
    fmt = output_format(fmt, as_json)
    if change is None:
        say("done.login_address_none", email=target.login_email)
        row = {
            **dict.fromkeys(login_address.VIEW_FIELDS),
            "login_email": target.login_email,
            "status": "none",
        }
    else:
        row = {**change.view(), "status": "pending"}
    if fmt != "table" or change is not None:
        emit(row, fmt)


@app.command()
def cancel(account: AccountOpt = None) -> None:
    """Drop the change under way: the mailed link stops working (LA-2).

    Example: chorus login-address cancel
    """
    from chorus_cli.domain import login_address
    from chorus_cli.ui.output import say

    with as_account() as (uow, actor):
        target = login_address.target(uow, actor, account)
        change = login_address.cancel(uow, actor, account)
    if change is None:
        say("done.login_address_none", email=target.login_email)
    else:
        say("done.login_address_cancelled", email=target.login_email, new=change.new_email)
