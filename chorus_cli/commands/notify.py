"""chorus notify: scheduled mails (SET-2)."""

from __future__ import annotations

from chorus_cli.commands._common import (
    STATE,
    FormatOpt,
    JsonOpt,
    data_fields,
    new_group,
    output_format,
    unit_of_work,
)

app = new_group("notify", "Scheduled notices: the weekly summary (SET-2).")


# What `notify weekly` tells scripts (JSON), and a table's or a CSV's row.
SENT_FIELDS = ("dry_run", "mailed", "summaries")
ROW_FIELDS = ("to", "structure", "movements")


@app.command()
@data_fields((*SENT_FIELDS, *ROW_FIELDS))
def weekly(
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Mail each subscriber one summary of the last 7 days on each of their structures:
    attachments decided or detached, members and habilitations changed, services,
    primary-manager transfers; nothing twice (SET-2). A scheduled job: no session needed,
    audited as `system`.

    Example: chorus notify weekly --dry-run
    """
    from chorus_cli.domain import subscriptions
    from chorus_cli.ui.output import emit, say

    dry_run = STATE.dry_run  # the tree's one --dry-run (OUT-5, commands/_dry_run.py)

    with unit_of_work() as uow:
        summaries = subscriptions.weekly(uow, dry_run)
        if not dry_run:
            uow.commit()
    fmt = output_format(fmt, as_json)
    say("done.weekly_dry_run" if dry_run else "done.weekly_sent", count=len(summaries))
    if fmt in ("json", "jsonl"):
        mailed = 0 if dry_run else len(summaries)
        sent = (dry_run, mailed, [s.view() for s in summaries])
        emit(dict(zip(SENT_FIELDS, sent, strict=True)), fmt)
        return
    rows = [
        dict(zip(ROW_FIELDS, (s.to, st["identifier"], st["movements"]), strict=True))
        for s in summaries
        for st in s.view()["structures"]
    ]
    emit(rows, fmt, columns=ROW_FIELDS)
