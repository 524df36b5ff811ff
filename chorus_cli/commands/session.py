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
        "--method", help="Second factor: email|totp|key («se connecter d'une autre façon»)."
    ),
]
CodeOpt = Annotated[
    str | None, typer.Option("--code", help="The second-factor code, without a prompt.")
]


def _finish(uow, attempt: str, code: str, purpose: str | None = None):  # type: ignore[no-untyped-def]
    from chorus_cli.domain import auth
    from chorus_cli.store import keychain

    opened = auth.complete(uow, attempt, code, purpose)
    uow.commit()
    url = STATE.settings.database_url
    keychain.put("session", url, opened.token)
    keychain.delete("attempt", url)
    return opened


def _key_answer(uow, pending) -> str:  # type: ignore[no-untyped-def]
    """Ask the plugged-in security key to sign the login challenge (MFA-4)."""
    import json

    from chorus_cli.domain.errors import BadInput
    from chorus_cli.domain.factors import security_key
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
    """Password, then the second factor, retried at a terminal while tries are left;
    ``purpose`` ``reactivate``: the same for `account reactivate` (SET-4)."""
    from chorus_cli.domain import auth
    from chorus_cli.domain.clock import iso
    from chorus_cli.domain.errors import BadInput, NotAuthenticated
    from chorus_cli.store import keychain
    from chorus_cli.ui import prompts
    from chorus_cli.ui.output import emit, say

    url = STATE.settings.database_url
    login_email = email.strip().lower()
    if method == "key" and code:
        raise BadInput("mfa4.code_not_for_key")
    # A password on stdin starts a new attempt; a bare --code finishes the saved one.
    saved = keychain.get("attempt", url) if code and not password_stdin else None
    if code and not password_stdin and not (saved and saved.split("\n", 1)[0] == login_email):
        # SEC-7: a bare --code finishes an attempt; with none pending, no password is read.
        from chorus_cli.domain.errors import LinkExpired

        raise LinkExpired("sec7.no_attempt", email=login_email)
    with unit_of_work() as uow:
        if saved and saved.split("\n", 1)[0] == login_email:
            opened = _finish(
                uow,
                saved.split("\n", 1)[1],
                code,
                None if purpose == "login" else purpose,
            )
        else:
            secret = prompts.password(password_stdin)
            pending = auth.begin(
                uow, login_email, secret, method, typed=bool(code), purpose=purpose
            )
            uow.commit()
            keychain.put("attempt", url, f"{pending.email}\n{pending.attempt}")
            if pending.method == "email":
                say("done.code_sent", email=pending.email)
            prompt = "prompt.totp_code" if pending.method == "totp" else "prompt.code"
            if pending.method == "key":
                answer = _key_answer(uow, pending)
            else:
                answer = code or prompts.ask(prompt, required=False)
            while True:
                if not answer:
                    waiting = (
                        "done.code_pending"
                        if purpose == "login"
                        else "done.code_pending_reactivate"
                    )
                    say(waiting, email=pending.email)
                    if fmt != "table":
                        waits = {
                            "status": "code_sent" if pending.method == "email" else "code_required",
                            "method": pending.method,
                            "expires_at": iso(pending.expires_at),
                        }
                        data = {**waits, "login_email": pending.email}
                        emit({**data, "session": waits} if fmt == "json" else data, fmt)
                    return
                try:
                    opened = _finish(uow, pending.attempt, answer, purpose)
                    break
                except NotAuthenticated as exc:
                    typed = exc.key in ("auth1.code_wrong", "mfa3.code_wrong")
                    if not typed or not exc.params["left"]:
                        raise
                    if not sys.stdin.isatty():
                        raise
                    from chorus_cli.ui.i18n import message

                    print(message(exc.key, **exc.params), file=sys.stderr)
                    answer = prompts.ask(prompt, required=False)
        summary = auth.whoami(uow, opened.account)
    if purpose == "reactivate":
        say("done.reactivated", email=opened.account.login_email)
    say("done.logged_in", email=opened.account.login_email)
    _hints(opened.account, summary)
    if fmt != "table":
        # Top level as scripts know it: the account's fields, "status" the session's
        # (last, or the account's own would hide it). JSON adds both apart (README).
        data = {**summary, "status": "logged_in"}
        if fmt == "json":
            data |= {"session": {"status": "logged_in"}, "account": summary}
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


def whoami(fmt: FormatOpt = "table", as_json: JsonOpt = False) -> None:
    """Show the logged-in account, its roles and structures (AUTH-3, AUTH-5).

    Example: chorus whoami --json
    """
    from chorus_cli.domain import auth
    from chorus_cli.ui.output import emit

    with unit_of_work() as uow:
        account = current_account(uow)
        summary = auth.whoami(uow, account)
        uow.commit()
    _hints(account, summary)
    emit(summary, output_format(fmt, as_json))


def _hints(account, summary: dict) -> None:  # type: ignore[no-untyped-def]
    """What a new account should do next: join a structure (AUTH-5), complete the
    information a flow or a correspondent initialised (PUB-2)."""
    from chorus_cli.domain import accounts
    from chorus_cli.ui.output import say

    if not summary["structures"]:
        say("hint.no_structure")
    if account.to_complete:
        say("hint.to_complete", fields=accounts.missing_fields(account))
