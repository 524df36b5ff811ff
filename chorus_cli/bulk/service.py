"""The use cases behind ``chorus bulk``: import a flow (OPS-1, PUB-2), export (OPS-2).

An import streams the file in chunks of ``CHUNK`` rows: each chunk's rows are checked on
their own (``validate``; in a second process for a big file, so both cores work), then
decided and written set-based (``load``), all in the command's one transaction. Every
bad row is reported with its line, column and rule (the first 1,000; the others are
counted, SEC-10); the command commits only when none is (all or nothing) and never for
``--dry-run``, so a refused import leaves the store as it was, mails and audit included.
"""

from __future__ import annotations

import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chorus_cli.bulk import columns as columns_module
from chorus_cli.bulk.reader import FlowFile, open_flow
from chorus_cli.bulk.validate import Checked, RowError, check_chunk
from chorus_cli.domain import authz
from chorus_cli.kernel.errors import BadInput

if TYPE_CHECKING:
    from chorus_cli.bulk.sheets import SheetFlow
    from chorus_cli.store.models import Account
    from chorus_cli.store.uow import UnitOfWork

CHUNK = 2_000
# A file this big is checked in a worker process while this one writes; a small one is
# not worth the fork.
PARALLEL_BYTES = 512 * 1024
AHEAD = 2  # chunks checked in advance: memory stays a few chunks, whatever the file
KEYS_MAX = 1_000  # the distinct keys of a JSON Lines flow remembered (SEC-10)

# (bytes read, bytes in all)
Progress = Callable[[int, int], None]

_RULE = re.compile(r"^(acc|auth|str|att|hab|mfa|la|set|pub|ops|sec|out)(\d+)\.")


def rule_of(key: str) -> str:
    """The rule a message key names: ``acc1.email_invalid`` → ``ACC-1`` (else OPS-1)."""
    found = _RULE.match(key)
    return f"{found.group(1).upper()}-{found.group(2)}" if found else "OPS-1"


@dataclass
class ImportSummary:
    kind: str
    file: str
    format: str
    encoding: str
    delimiter: str | None
    dry_run: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    denied: bool = False  # some row was outside the actor's scope (PUB-1): exit 4
    unknown_columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # Bad rows counted in ``failed`` but not in ``errors``: past the first 1,000 (SEC-10).
    unlisted: int = 0
    # Cells read otherwise than written (OUT-4: a SIRET's zeros, a phone's +), by line:
    # the first 1,000 rows' (SEC-10), the others counted in ``unlisted_warnings``.
    warnings: list[RowError] = field(default_factory=list)
    unlisted_warnings: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failed == 0

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("errors")
        data.pop("warnings")
        data["written"] = self.written
        return data


def _raw_values(
    kind: str, flow: FlowFile | SheetFlow, names: dict[str, str], unknown: dict[str, None]
) -> Iterator[tuple[int, dict[str, Any], RowError | None]]:
    """The file's records as (line, values by field, error): CSV and a workbook's sheet
    through its header's columns; JSON Lines key by key (an unknown key is collected,
    once)."""
    if flow.format != "jsonl":
        mapping = columns_module.resolve(kind, flow.header, flow.display)
        names.update({f: c for c, f in mapping.fields.items()})
        unknown.update(dict.fromkeys(mapping.unknown))
        where = [(f, flow.header.index(c)) for c, f in mapping.fields.items()]
        for line, record, error in flow.records():
            if error is not None:
                yield line, {}, RowError(line, None, *error)
                continue
            width = len(record)
            yield line, {f: record[i] if i < width else "" for f, i in where}, None
        return
    fields: dict[str, str | None] = {}
    for line, record, error in flow.records():
        if error is not None:
            yield line, {}, RowError(line, None, *error)
        else:
            yield _json_values(kind, line, record, fields, names, unknown)


def _json_values(
    kind: str,
    line: int,
    record: dict[str, Any],
    fields: dict[str, str | None],
    names: dict[str, str],
    unknown: dict[str, None],
) -> tuple[int, dict[str, Any], RowError | None]:
    values: dict[str, Any] = {}
    for key, value in record.items():
        if key in fields:
            name = fields[key]
        else:
            name = columns_module.field_of(kind, key)
            # Bounded (SEC-10): a file whose every line has keys of its own is no reason
            # to keep them all; past KEYS_MAX, a key is looked up again each time.
            if len(fields) < KEYS_MAX:
                fields[key] = name
            if name is None and not columns_module.exported_only(kind, key):
                if len(unknown) < KEYS_MAX:
                    unknown[key] = None
            elif name is not None:
                names.setdefault(name, key)
        if name is not None:
            if name in values:
                error = BadInput("ops1.duplicate_key", field=name, key=key)
                return line, {}, RowError(line, key, error.key, error.params)
            values[name] = value
    return line, values, None


def _chunks(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def work(
    kind: str, chunk: list[Any], names: dict[str, str], context: dict[str, str]
) -> list[Checked]:
    """What can be done for a chunk without the store: each row's own checks, then what
    a new row will need (activation links, mails: ``load.prepare``)."""
    from chorus_cli.bulk.load.accounts import prepare

    return prepare(kind, check_chunk(kind, chunk, names), context)


def _work_elsewhere(
    kind: str, chunk: list[Any], names: dict[str, str], context: dict[str, str]
) -> list[tuple]:
    """``work`` in a worker process, its rows sent back as plain tuples (pickled about
    four times faster than dataclasses, both ways)."""
    return [
        (r.line, r.values, r.errors, r.activation, r.warnings)
        for r in work(kind, chunk, names, context)
    ]


def _checked(
    kind: str,
    chunks: Iterator[list[Any]],
    names: dict[str, str],
    context: dict[str, str],
    workers: int,
) -> Iterator[list[Checked]]:
    """Each chunk ``work``ed on, in order: here, or by ``workers`` processes that keep
    ``AHEAD`` chunks each in front of this one, which writes meanwhile."""
    if not workers:
        for chunk in chunks:
            yield work(kind, chunk, names, context)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: the workers start with this process' modules; they touch no connection.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context_ = multiprocessing.get_context(method)
    with ProcessPoolExecutor(workers, mp_context=context_) as pool:
        waiting: deque[Any] = deque()
        for chunk in chunks:
            waiting.append(pool.submit(_work_elsewhere, kind, chunk, dict(names), context))
            if len(waiting) > AHEAD * workers:
                yield [Checked(*row) for row in waiting.popleft().result()]
        while waiting:
            yield [Checked(*row) for row in waiting.popleft().result()]


def import_file(
    uow: UnitOfWork,
    actor: Account,
    path: str | Path,
    kind: str,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    sheet: str | None = None,
) -> ImportSummary:
    """OPS-1: load a flow of accounts, structures or attachments.

    Who: admin and support, anything; a correspondent, rows on public structures of
    their departments and existing accounts within their scope (a row outside: exit 4,
    SEC-11); the rights are read again at the end, in the transaction the caller
    commits. The whole file is read and every row checked, whatever the errors; the
    caller commits only a summary that is ``ok`` (and not ``dry_run``): one bad row and
    nothing is written.
    """
    from chorus_cli.bulk.load import LOADERS

    started = time.perf_counter()
    scope = authz.oversight_scope(uow, actor)
    if kind not in columns_module.KINDS:
        raise BadInput("ops1.kind_unknown", kind=kind, kinds=", ".join(columns_module.KINDS))
    with open_flow(path, sheet) as flow:
        names: dict[str, str] = {}
        unknown: dict[str, None] = {}
        rows = _raw_values(kind, flow, names, unknown)
        first = next(rows, None)  # reads the header: a missing column stops here
        if first is None:
            raise BadInput("ops1.no_rows", file=flow.display)
        summary = ImportSummary(
            kind,
            flow.display,
            flow.format,
            "",
            flow.delimiter if flow.format == "csv" else None,
            dry_run,
        )
        loader = LOADERS[kind](uow, actor, scope, flow.display)
        loader.names = names

        def all_rows() -> Iterator[Any]:
            yield first
            yield from rows

        workers = (os.cpu_count() or 1) if flow.size >= PARALLEL_BYTES else 0
        context = {"base_url": uow.settings.base_url, "source": flow.display}
        with loader.db.big_cache():
            for chunk in _checked(kind, _chunks(all_rows(), CHUNK), names, context, workers):
                loader.load(chunk)
                if progress is not None:
                    progress(flow.position(), flow.size)
        summary.encoding = flow.encoding
    counts = loader.counts
    if not counts.failed:
        # Rights are checked again in the transaction that commits, not only at the start.
        authz.confirm_scope(uow, actor, scope)
    summary.created, summary.updated = counts.created, counts.updated
    summary.unchanged, summary.failed = counts.unchanged, counts.failed
    summary.denied = counts.denied
    summary.errors = list(counts.errors)  # in line order
    summary.unlisted = counts.errors.unlisted
    summary.warnings = list(counts.warnings)
    summary.unlisted_warnings = counts.warnings.unlisted
    summary.unknown_columns = list(unknown)
    summary.seconds = round(time.perf_counter() - started, 2)
    uow.audit(
        actor.login_email,
        "bulk.import",
        summary.file,
        kind=kind,
        created=summary.created,
        updated=summary.updated,
        unchanged=summary.unchanged,
    )
    return summary
