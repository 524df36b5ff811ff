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
    data_fields,
    output_format,
    session_token,
    showing_account,
    unit_of_work,
)

MethodOpt = Annotated[
    str | None,
    typer.Option(
        "--method", help="Second factor: email|totp|key («se connecter d'une autre façon»)."
    ),
]
CodeOpt = Annotated[
    str | None, typer.Option("--code", help="The second-factor code, without a prompt.")
]


def _key_answer(uow, pending) -> str:  # type: ignore[no-untyped-def]
    """Ask the plugged-in security key to sign the login challenge (MFA-4)."""
    import json

    from chorus_cli.domain.factors import security_key
    from chorus_cli.kernel.errors import BadInput
    from chorus_cli.ui import security_keys

    try:
        answer = security_keys.client().authenticate(
            pending.data, security_key.origin(uow.settings)
        )
    except BadInput as exc:
        if exc.key == "mfa4.no_device":
            raise BadInput("mfa4.no_device_login") from None
        raise
    return json.dumps(answer)


# What a log-in waiting for its code shows (then the login), in JSON under "session" too.
WAITING_FIELDS = ("status", "method", "expires_at")


def login_fields() -> tuple[str, ...]:
    """What `login` and `account reactivate` show (OUT-3): the account as `whoami` gives
    it once logged in, or the attempt waiting for its code; JSON adds both apart."""
    from chorus_cli.domain.auth import WHOAMI_FIELDS

    return (*WHOAMI_FIELDS, *WAITING_FIELDS[1:], "session", "account")


@data_fields("chorus_cli.commands.session:login_fields")
def login(
    email: Annotated[str, typer.Argument(help="Login e-mail.")],
    password_stdin: PasswordStdinOpt = False,
    method: MethodOpt = None,
    code: CodeOpt = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Log in: password, then a second factor, at every login (AUTH-1).

    The factor asked is the account's strongest: a security key, else the TOTP app, else
    a 6-digit code mailed to the login address; --method picks another (se connecter
    d'une autre façon). From a script, --code gives the code with a piped password, or
    later: `chorus login EMAIL --code CODE` finishes the attempt.

    Example: chorus login marie@example.fr --method totp
    """
    log_in(email, password_stdin, method, code, output_format(fmt, as_json))


def log_in(
    email: str,
    password_stdin: bool,
    method: str | None,
    code: str | None,
    fmt: str,
    purpose: str = "login",
) -> None:
    """Password, then the second factor, asked again at a terminal while tries are left;
    ``purpose`` ``reactivate``: the same for `account reactivate` (SET-4)."""
    from chorus_cli.domain import login
    from chorus_cli.i18n import message
    from chorus_cli.kernel.clock import iso
    from chorus_cli.kernel.errors import WrongCode
    from chorus_cli.store import keychain
    from chorus_cli.ui import prompts
    from chorus_cli.ui.output import emit, say

    url = STATE.settings.database_url
    with unit_of_work() as uow:
        attempt = login.begin(
            uow,
            email,
            lambda: prompts.password(password_stdin),
            method=method,
            code=code,
            fresh=password_stdin,
            kept=keychain.get("attempt", url) if code and not password_stdin else None,
            purpose=purpose,
        )
        prompt = "prompt.totp_code" if attempt.method == "totp" else "prompt.code"
        if attempt.resumed:
            answer = code
        else:
            keychain.put("attempt", url, attempt.kept)
            if attempt.method == "email":
                say("done.code_sent", email=attempt.email)
            if attempt.method == "key":
                answer = _key_answer(uow, attempt)
            else:
                answer = code or prompts.ask(prompt, required=False)
        while True:
            if not answer:
                waiting = (
                    "done.code_pending" if purpose == "login" else "done.code_pending_reactivate"
                )
                say(waiting, email=attempt.email)
                if fmt != "table":
                    waits = dict(
                        zip(
                            WAITING_FIELDS,
                            (
                                "code_sent" if attempt.method == "email" else "code_required",
                                attempt.method,
                                iso(attempt.expires_at),
                            ),
                            strict=True,
                        )
                    )
                    data = {**waits, "login_email": attempt.email}
                    emit({**data, "session": waits} if fmt == "json" else data, fmt)
                return
            try:
                opened = login.answer(uow, attempt, answer)
                break
            except WrongCode as exc:
                # A code typed at a terminal may be typed again; a script's --code may not.
                if attempt.resumed or not exc.tries_left or not sys.stdin.isatty():
                    raise
                print(message(exc.key, **exc.params), file=sys.stderr)
                answer = prompts.ask(prompt, required=False)
        keychain.put("session", url, opened.token)
        keychain.delete("attempt", url)
    if purpose == "reactivate":
        say("done.reactivated", email=opened.account.login_email)
    say("done.logged_in", email=opened.account.login_email)
    _hints(opened.account, opened.summary)
    if fmt != "table":
        # Top level as scripts know it: the account's fields, "status" the session's
        # (last, or the account's own would hide it). JSON adds both apart (README).
        data = {**opened.summary, "status": "logged_in"}
        if fmt == "json":
            data |= {"session": {"status": "logged_in"}, "account": opened.summary}
        emit(data, fmt)


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


@data_fields("chorus_cli.domain.auth:WHOAMI_FIELDS")
def whoami(fmt: FormatOpt = "table", as_json: JsonOpt = False) -> None:
    """Show the logged-in account, its roles and structures (AUTH-3, AUTH-5).

    Example: chorus whoami --json
    """
    from chorus_cli.domain import auth
    from chorus_cli.ui.cells import photo_read
    from chorus_cli.ui.output import emit

    with showing_account() as (uow, account):
        summary = auth.whoami(uow, account)
    _hints(account, summary)
    fmt = output_format(fmt, as_json)
    # The photo as `account show` reads it (SET-1, OUT-1); JSON and CSV keep the object.
    emit(photo_read(summary) if fmt == "table" else summary, fmt)


def _hints(account, summary: dict) -> None:  # type: ignore[no-untyped-def]
    """What a new account should do next: join a structure (AUTH-5), complete the
    information a flow or a correspondent initialised (PUB-2)."""
    from chorus_cli.domain import accounts
    from chorus_cli.ui.output import say

    if not summary["structures"]:
        say("hint.no_structure")
    if account.to_complete:
        say("hint.to_complete", fields=accounts.missing_fields(account))
