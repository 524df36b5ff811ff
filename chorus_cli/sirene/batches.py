"""What an import keeps of INSEE's stock files: their rows as tuples ready for the
index, in batches, with what was skipped (STR-2, STR-3).

Reading a stock file (parsing its CSV, checking and shaping each row) costs about as
much as writing the index. Where the machine has a second core, the rows are read in a
second process (forked: nothing is pickled to start it) that hands each batch over a
pipe while the first one writes the previous batch; the pipe holds about one batch, so
memory stays flat. Elsewhere, or when ``SECOND_PROCESS`` says no, they are read in
this process. The batches, their order, what is skipped and the errors are the same
either way; a second process killed mid-file is ``Stopped`` (the import abandons).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chorus_cli.kernel.errors import ChorusError
from chorus_cli.sirene import columns

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from chorus_cli.sirene.departments import DepartmentOf
    from chorus_cli.sirene.reader import StockFile

BATCH = 5_000
KEEP_SKIPPED = 100  # skipped rows described in the summary; all are counted

# None: a second process where one serves (Linux, more than one core); True or False
# forces it (the tests read both ways).
SECOND_PROCESS: bool | None = None

Batch = list[tuple[Any, ...]]


@dataclass
class Tally:
    """What the reading of one file skipped or passed over."""

    skipped: int = 0
    skipped_rows: list[tuple[str, int, str, str]] = field(default_factory=list)
    outside: int = 0  # rows of other départements (units: of no establishment kept)
    newest: str = ""  # the newest dateDernierTraitementEtablissement

    def skip(self, file: str, line: int, reason: str, value: str = "") -> None:
        self.skipped += 1
        if len(self.skipped_rows) < KEEP_SKIPPED:
            self.skipped_rows.append((file, line, reason, value[:60]))


Produce = Callable[..., Iterator[tuple[Batch, int]]]


class Stopped(ChorusError):
    """The second process stopped before the end of its file (killed: the kernel short
    of memory, ``kill -9``): exit 1; the import abandons, the index stays as it was."""


class Reading:
    """The batches of ``produce(stock, *args, tally)`` with the bytes read after each (for
    the progress bar); ``tally`` is complete once they are all read."""

    def __init__(self, produce: Produce, stock: StockFile, *args: Any) -> None:
        self.produce = produce
        self.stock = stock
        self.args = (stock, *args)
        self.tally = Tally()

    def __iter__(self) -> Iterator[tuple[Batch, int]]:
        if not _second_process():
            yield from self.produce(*self.args, self.tally)
            return
        import multiprocessing

        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        _widen(send)
        worker = context.Process(target=_work, args=(send, self.produce, self.args), daemon=True)
        worker.start()
        send.close()
        try:
            while True:
                try:
                    kind, payload = receive.recv()
                except EOFError:
                    worker.join()
                    raise Stopped(
                        "str2.reader_stopped", file=self.stock.display, how=_how(worker.exitcode)
                    ) from None
                if kind == "batch":
                    yield payload
                elif kind == "done":
                    self.tally = payload
                    return
                else:  # "error": raised here as if this process had read the file
                    raise payload
        finally:
            receive.close()
            if worker.is_alive():  # abandoned (an error here, Ctrl-C): not left behind
                worker.terminate()
            worker.join()


def _widen(send: Connection) -> None:
    """A pipe that holds a batch or two (Linux gives 64 KiB, a batch is ~0.5 MB): the
    two processes wait less on each other when the machine is busy."""
    import fcntl

    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(send.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)


def _how(exitcode: int | None) -> str:
    """How a process ended: the signal that killed it (SIGKILL), else its exit code."""
    import signal

    if exitcode is not None and exitcode < 0:
        with contextlib.suppress(ValueError):
            return signal.Signals(-exitcode).name
    return str(exitcode)


def _second_process() -> bool:
    if SECOND_PROCESS is not None:
        return SECOND_PROCESS
    if not sys.platform.startswith("linux"):  # fork is only safe to rely on there
        return False
    return len(os.sched_getaffinity(0)) > 1


def _work(send: Connection, produce: Produce, args: tuple[Any, ...]) -> None:
    """The second process: each batch down the pipe (``("batch", (rows, position))``),
    then the tally (``("done", tally)``), or the error (``("error", exception)``); then
    it ends at once (``os._exit``), running nothing of the first process's at exit: no
    flush of the copies of its output buffers (the progress bar's thread may have been
    writing when the fork copied them), no finalizer (its store connections stay its)."""
    tally = Tally()
    try:
        for item in produce(*args, tally):
            send.send(("batch", item))
        send.send(("done", tally))
    except (KeyboardInterrupt, BrokenPipeError):  # the first process is gone or going
        pass
    except Exception as exc:  # noqa: BLE001 - told to the first process, which raises
        send.send(("error", _portable(exc)))
    finally:
        send.close()
        os._exit(0)


def _portable(exc: Exception) -> Exception:
    """``exc`` when it crosses the pipe whole (pickled and back: a BadInput keeps its
    message key and parameters), else a RuntimeError saying what it was."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - an exception pickle cannot rebuild
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def units(stock: StockFile, sirens: set[int] | None, tally: Tally) -> Iterator[tuple[Batch, int]]:
    """Legal units: (siren, raison sociale, catégorie juridique, non diffusible); only
    those of ``sirens`` when given (``--departments``)."""
    keep_line = None
    if sirens is not None:
        # INSEE's layout starts with the SIREN: a line of another unit is passed
        # over unparsed (with the columns in another order, every line is parsed).
        texts = {f"{siren:09d}" for siren in sirens}

        def keep_line(line: str) -> bool:
            return line[:9] in texts or line.startswith('"')

    skip = tally.skip

    def unreadable(line: int, error: str) -> None:
        skip(stock.display, line, "csv", error)

    with stock.rows(unreadable) as rows:
        if keep_line is not None and rows.index("siren") == 0:
            rows.pass_over(keep_line)
        at = rows.index
        i_siren, i_status = at("siren"), at("statutDiffusionUniteLegale")
        i_name, i_surname = at("denominationUniteLegale"), at("nomUniteLegale")
        i_first, i_category = at("prenom1UniteLegale"), at("categorieJuridiqueUniteLegale")
        i_usage, i_usual = at("nomUsageUniteLegale"), at("prenomUsuelUniteLegale")
        width, display = len(rows.header), rows.display
        unit_name, diffusion = columns.unit_name, columns.DIFFUSION
        hides = columns.NON_DIFFUSIBLE  # columns.non_diffusible, inlined (STR-3)
        batch: Batch = []
        for line, row in rows:
            if len(row) != width:
                skip(display, line, "columns", str(len(row)))
                continue
            siren = row[i_siren]
            if len(siren) != 9 or not siren.isdigit():
                skip(display, line, "siren", siren)
                continue
            if sirens is not None and int(siren) not in sirens:
                tally.outside += 1
                continue
            status = row[i_status]
            if status not in diffusion:
                skip(display, line, "diffusion", status)
                continue
            name = unit_name(
                row[i_name],
                row[i_surname],
                row[i_first],
                row[i_usage] if i_usage is not None else None,
                row[i_usual] if i_usual is not None else None,
            )
            batch.append((int(siren), name, row[i_category].strip() or None, status in hides))
            if len(batch) >= BATCH:
                yield batch, rows.position()
                batch = []
        if batch:
            yield batch, rows.position()
        tally.outside += rows.passed_over


def establishments(
    stock: StockFile,
    departments: frozenset[str] | None,
    department_of: DepartmentOf | None,
    tally: Tally,
) -> Iterator[tuple[Batch, int]]:
    """Establishments: (siret, own name, active, non diffusible, head office, address,
    postal code, commune, country); only those of ``departments`` when given, an
    establishment's département being ``department_of(commune code, postal code)``."""
    place, own_name = columns.place, columns.sign
    states, diffusion = columns.ADMINISTRATIVE_STATE, columns.DIFFUSION
    hides = columns.NON_DIFFUSIBLE  # columns.non_diffusible, inlined (STR-3)
    keep_line = None
    if departments is None:
        department_of = None
    else:
        from chorus_cli.sirene import departments as places

        keep_line = places.line_filter(departments)
    skip = tally.skip

    def unreadable(line: int, error: str) -> None:
        skip(stock.display, line, "csv", error)

    outside = 0
    newest = ""
    with stock.rows(unreadable, keep_line) as rows:
        at = rows.index
        i_siret = at("siret")
        i_status, i_state = (
            at("statutDiffusionEtablissement"),
            at("etatAdministratifEtablissement"),
        )
        i_number, i_repeat = at("numeroVoieEtablissement"), at("indiceRepetitionEtablissement")
        i_last, i_type = at("dernierNumeroVoieEtablissement"), at("typeVoieEtablissement")
        i_street, i_extra = at("libelleVoieEtablissement"), at("complementAdresseEtablissement")
        i_special, i_postal = (
            at("distributionSpecialeEtablissement"),
            at("codePostalEtablissement"),
        )
        i_town, i_abroad = (
            at("libelleCommuneEtablissement"),
            at("libelleCommuneEtrangerEtablissement"),
        )
        i_country, i_head = at("libellePaysEtrangerEtablissement"), at("etablissementSiege")
        i_sign, i_usual = at("enseigne1Etablissement"), at("denominationUsuelleEtablissement")
        i_commune, i_treated = (
            at("codeCommuneEtablissement"),
            at("dateDernierTraitementEtablissement"),
        )
        width, display = len(rows.header), rows.display
        batch: Batch = []
        for line, row in rows:
            if len(row) != width:
                skip(display, line, "columns", str(len(row)))
                continue
            if department_of is not None and (
                department_of(row[i_commune] if i_commune is not None else None, row[i_postal])
                not in departments
            ):
                outside += 1
                continue
            siret = row[i_siret]
            if len(siret) != 14 or not siret.isdigit():
                skip(display, line, "siret", siret)
                continue
            if i_treated is not None and row[i_treated] > newest:
                newest = row[i_treated]
            state, status = row[i_state], row[i_status]
            if state not in states:
                skip(display, line, "state", state)
                continue
            if status not in diffusion:
                skip(display, line, "diffusion", status)
                continue
            hidden = status in hides
            address, postal, town, country = place(
                hidden,
                row[i_extra],
                row[i_number],
                row[i_repeat],
                row[i_last] if i_last is not None else None,
                row[i_type],
                row[i_street],
                row[i_special],
                row[i_postal],
                row[i_town],
                row[i_abroad],
                row[i_country],
            )
            sign = own_name(
                row[i_usual] if i_usual is not None else None,
                row[i_sign] if i_sign is not None else None,
            )
            head = i_head is not None and row[i_head] == "true"
            batch.append(
                (int(siret), sign, state == "A", hidden, head, address, postal, town, country)
            )
            if len(batch) >= BATCH:
                yield batch, rows.position()
                batch = []
        if batch:
            yield batch, rows.position()
        tally.outside = outside + rows.passed_over
        tally.newest = newest
