"""chorus login | logout | whoami."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from chorus_cli.commands._common import (
    STATE,
    FormatOpt,
    JsonOpt,
    PasswordStdinOpt,
    current_account,
    output_format,
    session_token,
    unit_of_work,
)

MethodOpt = Annotated[
    str | None,
    typer.Option(
        "--method", help="Second factor: email|totp|key (se connecter d'une autre façon)."
    ),
]
CodeOpt = Annotated[
    str | None, typer.Option("--code", help="The second-factor code, without a prompt.")
]


def _finish(uow, attempt: str, code: str):  # type: ignore[no-untyped-def]
    from chorus_cli.domain import auth
    from chorus_cli.store import keychain

    opened = auth.complete(uow, attempt, code)
    uow.commit()
    url = STATE.settings.database_url
    keychain.put("session", url, opened.token)
    keychain.delete("attempt", url)
    return opened


def login(
    email: Annotated[str, typer.Argument(help="Login e-mail.")],
    password_stdin: PasswordStdinOpt = False,
    method: MethodOpt = None,
    code: CodeOpt = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Log in: password, then a second factor, at every login (AUTH-1).

    The default factor is a 6-digit code mailed to the login address. From a script,
    the code can come later: `chorus login EMAIL --code CODE` finishes the attempt.

    Example: chorus login marie@example.fr
    """
    from chorus_cli.domain import auth
    from chorus_cli.domain.clock import iso
    from chorus_cli.domain.errors import NotAuthenticated
    from chorus_cli.store import keychain
    from chorus_cli.ui import prompts
    from chorus_cli.ui.output import emit, say

    fmt = output_format(fmt, as_json)
    url = STATE.settings.database_url
    login_email = email.strip().lower()
    saved = keychain.get("attempt", url) if code else None
    with unit_of_work() as uow:
        if saved and saved.split("\n", 1)[0] == login_email:
            opened = _finish(uow, saved.split("\n", 1)[1], code)
        else:
            secret = prompts.password(password_stdin)
            pending = auth.begin(uow, login_email, secret, method)
            uow.commit()
            keychain.put("attempt", url, f"{pending.email}\n{pending.attempt}")
            if pending.method == "email":
                say("done.code_sent", email=pending.email)
            answer = code or prompts.ask("prompt.code", required=False)
            while True:
                if not answer:
                    say("done.code_pending", email=pending.email)
                    if fmt != "table":
                        emit(
                            {
                                "status": "code_sent",
                                "login_email": pending.email,
                                "method": pending.method,
                                "expires_at": iso(pending.expires_at),
                            },
                            fmt,
                        )
                    return
                try:
                    opened = _finish(uow, pending.attempt, answer)
                    break
                except NotAuthenticated as exc:
                    if exc.key != "auth1.code_wrong" or not exc.params["left"]:
                        raise
                    if not sys.stdin.isatty():
                        raise
                    from chorus_cli.ui.i18n import message

                    print(message(exc.key, **exc.params), file=sys.stderr)
                    answer = prompts.ask("prompt.code", required=False)
        summary = auth.whoami(uow, opened.account)
    say("done.logged_in", email=opened.account.login_email)
    if not summary["structures"]:
        say("hint.no_structure")
    if fmt != "table":
        # Last, or the account's own status ("active", implied here) would hide it.
        emit({**summary, "status": "logged_in"}, fmt)


def logout() -> None:
    """End the session here and on the server side (AUTH-3).

    Example: chorus logout
    """
    from chorus_cli.domain import auth
    from chorus_cli.store import keychain
    from chorus_cli.ui.output import say

    token = session_token()
    with unit_of_work() as uow:
        email = auth.logout(uow, token)
        uow.commit()
    keychain.delete("session", STATE.settings.database_url)
    if email:
        say("done.logged_out", email=email)
    else:
        say("done.not_logged_in")


def whoami(fmt: FormatOpt = "table", as_json: JsonOpt = False) -> None:
    """Show the logged-in account, its roles and structures (AUTH-3, AUTH-5).

    Example: chorus whoami --json
    """
    from chorus_cli.domain import auth
    from chorus_cli.ui.output import emit, say

    with unit_of_work() as uow:
        account = current_account(uow)
        summary = auth.whoami(uow, account)
        uow.commit()
    if not summary["structures"]:
        say("hint.no_structure")
    emit(summary, output_format(fmt, as_json))
