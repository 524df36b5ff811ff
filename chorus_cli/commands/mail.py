"""chorus mail: the local outbox, and SMTP delivery."""

from __future__ import annotations

from typing import Annotated

import typer

from chorus_cli.commands._common import (
    STATE,
    FormatOpt,
    JsonOpt,
    new_group,
    output_format,
    unit_of_work,
)

# SPEC's contract for `mail list --format json`; an empty CSV's header.
MAIL_FIELDS = ("id", "to", "sender", "subject", "body", "created_at", "status")

app = new_group("mail", "The outbox: every mail chorus sends, newest first.")


@app.command("list")
def list_(
    to: Annotated[str | None, typer.Option("--to", help="Only mails to this address.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most N mails.")] = None,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """List the outbox, newest first (no session needed: it is the local mailbox).

    Example: chorus mail list --to marie@example.fr --json
    """
    from chorus_cli.mail.outbox import list_mail, view
    from chorus_cli.ui.output import emit

    fmt = output_format(fmt, as_json)
    with unit_of_work() as uow:
        rows = [view(m) for m in list_mail(uow, to, limit)]
    if fmt == "table":
        # The table is for reading in a terminal: the body is in --json and --format csv.
        rows = [{k: v for k, v in row.items() if k not in ("body", "sender")} for row in rows]
    emit(rows, fmt, columns=MAIL_FIELDS)


@app.command()
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
    """Deliver pending and failed mails by SMTP (CHORUS_SMTP_URL; password in keyring).

    Example: CHORUS_SMTP_URL=smtp://localhost:1025 chorus mail send-pending
    """
    from chorus_cli.domain.clock import SystemClock
    from chorus_cli.mail.outbox import deliver_pending
    from chorus_cli.store.uow import UnitOfWork
    from chorus_cli.ui.output import say

    settings = STATE.settings
    if not settings.smtp_url:
        say("done.no_smtp")
        return
    # Not ``unit_of_work()``: it delivers again after the command, which would retry
    # every failed mail a second time and print a second warning.
    with UnitOfWork(settings, STATE.clock or SystemClock()) as uow:
        sent, failed = deliver_pending(uow, settings.smtp_url)
    say("done.mail_sent", sent=sent, failed=failed)
    if failed:
        raise typer.Exit(1)
