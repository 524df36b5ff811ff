"""chorus mail: the local outbox, and SMTP delivery."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from chorus_cli.commands._common import (
    STATE,
    FormatOpt,
    JsonOpt,
    PasswordStdinOpt,
    data_fields,
    new_group,
    output_format,
    report_delivery,
    unit_of_work,
)

if TYPE_CHECKING:
    from chorus_cli.mail.outbox import Delivery, SmtpTarget
    from chorus_cli.store.listing import Window
    from chorus_cli.store.uow import UnitOfWork

app = new_group("mail", "The outbox: every mail chorus sends, newest first.")


@app.command("list")
@data_fields("chorus_cli.mail.outbox:MAIL_FIELDS")
def list_(
    to: Annotated[str | None, typer.Option("--to", help="Only mails to this address.")] = None,
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """List the outbox, newest first (no session needed: it is the local mailbox).

    Each mail's status, delivery attempts and last error (SEC-8); --json adds its
    Message-ID and next attempt.

    Example: chorus mail list --to marie@example.fr --json
    """
    from chorus_cli.mail.outbox import MAIL_TABLE, listing
    from chorus_cli.store.listing import Page
    from chorus_cli.ui.output import emit

    fmt = output_format(fmt, as_json)
    with unit_of_work() as uow:
        page = listing(uow, to, window)
        if fmt != "table":  # JSON, JSONL and CSV stream their rows (OUT-2)
            emit(page, fmt)
            return
        rows = list(page.rows)
    table = MAIL_TABLE
    if any(row["attempts"] for row in rows):
        # The attempts and the last error take the creation time's place, so the table
        # still fits 80 columns (the time stays in --json and --format csv).
        table = tuple(c for c in table if c != "created_at") + ("attempts",)
    if any(row["last_error"] for row in rows):
        table += ("last_error",)
    emit(Page(rows, page.total), fmt, table=table)


@app.command()
@data_fields("chorus_cli.mail.outbox:MAIL_FIELDS")
def show(
    mail_id: Annotated[int, typer.Argument(metavar="ID", help="The mail's id (mail list).")],
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Show one mail of the outbox, whole: sender, subject, body (no session needed).

    Example: chorus mail show 12
    """
    from chorus_cli.mail.outbox import get, view
    from chorus_cli.ui.output import emit

    with unit_of_work() as uow:
        mail = view(get(uow, mail_id))
    emit(mail, output_format(fmt, as_json))


@app.command("send-pending")
def send_pending() -> None:
    """Deliver the mails due now by SMTP (CHORUS_SMTP_URL; password: chorus mail password).

    A mail that failed for a passing reason is tried again after 1, 5, 15 and 60 minutes,
    then every 6 hours; one the server refused (5xx) is not (chorus mail retry). Exit 1
    when a mail failed. Suits a cron job.

    Example: CHORUS_SMTP_URL='smtp://relay.example.fr:587?starttls=1' chorus mail send-pending
    """
    from chorus_cli.mail.outbox import target
    from chorus_cli.ui.output import say

    settings = STATE.settings
    if not settings.smtp_url:
        say("done.no_smtp")
        return
    _said(_deliver(target(settings.smtp_url)))


@app.command()
def retry(
    mail_id: Annotated[
        int | None, typer.Argument(metavar="[ID]", help="The mail's id (mail list).")
    ] = None,
    all_failed: Annotated[
        bool, typer.Option("--all-failed", help="Every mail the server refused.")
    ] = False,
) -> None:
    """Send a pending or failed mail now (audited, SEC-8).

    With --all-failed, every mail the server refused. They go at once when
    CHORUS_SMTP_URL is set. No session needed: the store's operator acts on its outbox.

    Example: chorus mail retry 12

    Example: chorus mail retry --all-failed
    """
    from chorus_cli.domain.outbox import retry as make_due
    from chorus_cli.kernel.errors import BadInput
    from chorus_cli.mail.outbox import target
    from chorus_cli.ui.output import say

    if (mail_id is None) == (not all_failed):
        raise BadInput("sec8.retry_usage")
    settings = STATE.settings
    smtp = target(settings.smtp_url) if settings.smtp_url else None
    with unit_of_work() as uow:
        ids = make_due(uow, _operator(uow), mail_id, all_failed)
        uow.commit()
    if smtp is None:
        say("sec8.retry_queued", count=len(ids))
        return
    _said(_deliver(smtp, only=set(ids)))


@app.command()
def discard(
    mail_id: Annotated[int, typer.Argument(metavar="ID", help="The mail's id (mail list).")],
) -> None:
    """Never deliver a pending or failed mail (audited, SEC-8).

    It stays readable with mail show. No session needed.

    Example: chorus mail discard 12
    """
    from chorus_cli.domain.outbox import discard as drop
    from chorus_cli.ui.output import say

    with unit_of_work() as uow:
        mail = drop(uow, _operator(uow), mail_id)
        uow.commit()
    say("sec8.discarded", id=mail.id, to=mail.to)


@app.command()
def password(
    url: Annotated[
        str | None,
        typer.Option("--url", metavar="URL", help="The SMTP URL (default: CHORUS_SMTP_URL)."),
    ] = None,
    password_stdin: PasswordStdinOpt = False,
    remove: Annotated[bool, typer.Option("--remove", help="Forget the password.")] = False,
) -> None:
    """Keep the SMTP password in chorus' keychain (SEC-8).

    For the user@host of CHORUS_SMTP_URL (or --url): in the system keyring, or a 0600
    file in the user data dir when there is none. Asked hidden at a terminal, or read
    from the first stdin line.

    Example: chorus mail password --url 'smtp://chorus@relay.example.fr:587?starttls=1'
    """
    from chorus_cli.kernel.errors import BadInput
    from chorus_cli.mail.outbox import SmtpTarget
    from chorus_cli.store import keychain
    from chorus_cli.ui.output import say
    from chorus_cli.ui.prompts import password as ask_password

    chosen = url or STATE.settings.smtp_url
    if not chosen:
        raise BadInput("sec8.password_no_url")
    smtp = SmtpTarget.parse(chosen)
    if not smtp.user:
        raise BadInput("sec8.password_no_user", url=smtp.shown)
    entry = keychain.smtp_entry(smtp.user, smtp.host)
    if remove:
        keychain.delete_entry(entry)
        say("sec8.password_removed", user=smtp.keyring_username)
        return
    secret = ask_password(password_stdin, "prompt.smtp_password")
    if not secret:
        raise BadInput("sec8.password_empty")
    keychain.put_entry(entry, secret)
    say("sec8.password_stored", user=smtp.keyring_username)


def _operator(uow: UnitOfWork) -> str:
    """Who acts on the outbox, for the audit log: the logged-in account if there is one,
    else ``system`` (SPEC's trust boundary: the outbox needs no session)."""
    from chorus_cli.commands._common import current_account
    from chorus_cli.domain.accounts import SYSTEM
    from chorus_cli.kernel.errors import NotAuthenticated

    try:
        return current_account(uow).login_email
    except NotAuthenticated:
        return SYSTEM


def _said(done: Delivery) -> None:
    """What a delivery did: sent and failed, then each failure; exit 1 if any failed."""
    from chorus_cli.ui.output import say

    say("done.mail_sent", sent=done.sent, failed=done.failed)
    report_delivery(done)
    if done.failed:
        raise typer.Exit(1)


def _deliver(smtp: SmtpTarget, only: set[int] | None = None) -> Delivery:
    """Not ``unit_of_work()``: that one delivers after the command a second time."""
    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.mail.outbox import deliver
    from chorus_cli.store.uow import UnitOfWork

    with UnitOfWork(STATE.settings, STATE.clock or SystemClock()) as uow:
        return deliver(uow, smtp, only=only)
