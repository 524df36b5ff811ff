"""Audit rows written a moment later, in batches: what `chorus serve` records of each call
(TECH-2: an audit row with the technical account as actor, and the account's last-use
time) without a write transaction per request.

A :class:`Journal` keeps the rows it is given in memory; every ``every`` seconds (or as
soon as ``most`` are waiting) one thread of its own passes them on, and they are written
all together in one short transaction: the audit rows, then each account's last use (the
latest time of the batch, never moving it backwards). :meth:`Journal.close` writes what
is left, so a clean stop (Ctrl-C) loses nothing; a batch the store refuses (locked,
unreachable) stays queued for the next try, and a row recorded after ``close`` is
written at once.

``process=True`` (`chorus serve`, on Linux): the batches are written by a process of its
own, forked at ``start``, so that their writing never competes with the requests for the
interpreter's lock (measured: a fifth of the requests a second, and the tail). The
thread then only hands each batch over a pipe. If that process is gone (killed), the
rows it held are lost and the journal writes in its own process from then on.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

EVERY = 0.05  # seconds between two batches
MOST = 2000  # rows that start a batch at once


@dataclass(frozen=True)
class Use:
    """One audit row, and the technical account whose last use it is (if any)."""

    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any] = field(default_factory=dict)
    account_id: int | None = None


class Refused(Exception):
    """A batch the writing process could not write: the store's error, by its type's
    name (how many rows still wait there: ``Journal.pending``)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class Journal:
    """``journal.start()``; ``journal.record(use)`` from any thread; ``journal.close()``."""

    def __init__(
        self,
        url: str,
        every: float = EVERY,
        most: int = MOST,
        failed: Callable[[Exception, int], None] | None = None,
        process: bool = False,
    ) -> None:
        self.url = url
        self.every = every
        self.most = most
        self.failed = failed  # told of a batch the store refused, and its size
        self.process = process and sys.platform == "linux"  # fork, where it is safe
        self._rows: list[Use] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._writing = threading.Lock()  # one batch at a time, in order
        self._closed = False
        self._thread: threading.Thread | None = None
        self._writer: _Writer | None = None
        self._held = 0  # rows the writing process said it still holds

    @property
    def writer_pid(self) -> int | None:
        """The writing process's id (``process=True``, while it runs), else None."""
        return self._writer.pid if self._writer is not None else None

    def start(self) -> Journal:
        if self.process:  # before the thread: fork from a process with one thread
            self._writer = _Writer(self.url, self.every, self.failed)
        self._thread = threading.Thread(target=self._run, name="chorus-journal", daemon=True)
        self._thread.start()
        return self

    def record(self, use: Use) -> None:
        with self._lock:
            self._rows.append(use)
            waiting, closed = len(self._rows), self._closed
        if closed:
            self.flush()
        elif waiting >= self.most:
            self._wake.set()

    def pending(self) -> int:
        """The rows not written yet that this process knows of: those waiting here and,
        ``process=True``, those the writing process said it held at its last answer (a
        flush's or close's); a batch handed over since is not counted."""
        with self._lock:
            return len(self._rows) + self._held

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.every)
            self._wake.clear()
            if self._closed:
                return
            try:
                if self._writer is not None:
                    self._hand_over()
                else:
                    self.flush()
            except Exception as error:  # kept queued; said, and tried again next time
                if self.failed is not None:
                    self.failed(error, self.pending())

    def _take(self) -> list[Use]:
        with self._lock:
            rows, self._rows = self._rows, []
        return rows

    def _hand_over(self, then: str | None = None) -> int | None:
        """The rows waiting, to the writing process (``then``: "flush" or "close", and
        wait for its answer: how many it wrote). If that process is gone, the rows stay
        here and this process writes from then on; what it held is lost, and a batch it
        got but never answered for is written here again (twice, if it had written it
        before it went)."""
        with self._writing:
            rows = self._take()
            writer = self._writer
            if writer is None:
                with self._lock:
                    self._rows[:0] = rows
                return None
            try:
                if then is None:
                    writer.hand(rows)
                    return None
                written, held, refused = writer.ask(rows, then)
            except (OSError, EOFError):  # killed: what it held is lost
                self._writer = None
                self._held = 0
                writer.forget()
                with self._lock:
                    self._rows[:0] = rows
                return None
            self._held = held
            if refused is not None:
                raise Refused(refused)
            return int(written)

    def flush(self) -> int:
        """Write every row waiting, in one transaction; how many. On failure they stay
        queued (ahead of newer ones) and the error is raised."""
        if self._writer is not None:
            written = self._hand_over("flush")
            if written is not None:
                return written
        with self._writing:
            rows = self._take()
            if not rows:
                return 0
            try:
                from chorus_cli.store.engine import get_engine

                with get_engine(self.url).begin() as connection:
                    write(connection, rows)
            except BaseException:
                with self._lock:
                    self._rows[:0] = rows
                raise
            return len(rows)

    def close(self) -> int:
        """Stop the thread and write what is left (raises if the store refuses it);
        how many rows that last batch held."""
        with self._lock:
            self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        if self._writer is not None:
            writer = self._writer
            try:
                written = self._hand_over("close")
            finally:
                self._writer = None
                writer.forget()
            if written is not None:
                return written
        return self.flush()


class _Writer:
    """The process that writes the journal's batches (forked): it receives batches on a
    pipe and writes each as it comes; a refused batch stays with it, tried again with the
    next one or after ``every`` seconds. It ignores Ctrl-C and SIGTERM, which a terminal
    or a service manager sends to every process of the server (the server stops first
    and then sends "close"), and writes what it holds when its pipe closes: at the
    latest as this process exits (before multiprocessing's exit waits for it)."""

    def __init__(self, url: str, every: float, failed: Any) -> None:
        import multiprocessing
        from multiprocessing import util

        context = multiprocessing.get_context("fork")
        self._pipe, child = context.Pipe()
        self._process = context.Process(
            target=_write_batches, args=(child, self._pipe, url, every, failed), daemon=True
        )
        self._process.start()
        child.close()
        self.pid = self._process.pid
        util.Finalize(self, self._pipe.close, exitpriority=0)

    def hand(self, rows: list[Use]) -> None:
        """A batch to write, without waiting for the writing process (nothing sent if
        ``rows`` is empty)."""
        if rows:
            self._pipe.send((None, [_values(use) for use in rows]))

    def ask(self, rows: list[Use], what: str) -> tuple[int, int, str | None]:
        """``what`` ("flush" or "close") with a last batch (perhaps empty), and the
        writing process's answer once it has written what it holds: how many rows it
        wrote, how many it still holds, the store's refusal (its error's type's name)
        or None."""
        self._pipe.send((what, [_values(use) for use in rows]))
        answer: tuple[int, int, str | None] = self._pipe.recv()
        return answer

    def forget(self) -> None:
        self._pipe.close()
        self._process.join(timeout=60)


def _values(use: Use) -> tuple[Any, ...]:
    return (use.at, use.actor, use.action, use.target, use.details, use.account_id)


def _write_batches(pipe: Any, parents: Any, url: str, every: float, failed: Any) -> None:
    """The writing process's loop (see :class:`_Writer`); it ends by ``os._exit``: none
    of the parent's exit work (buffers, engines, handlers) runs twice."""
    import signal

    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)
    parents.close()
    from chorus_cli.store import engine

    engine.forget_inherited()
    held: list[Use] = []
    status = 0
    try:
        while True:
            try:
                if not pipe.poll(every if held else None):
                    then, values = None, []  # a refused batch: try again
                else:
                    then, values = pipe.recv()
            except (EOFError, OSError):  # the server is gone: write what is here
                then, values = "close", None
            held += [Use(*value) for value in values or ()]
            refused = None
            written = 0
            if held:
                try:
                    with engine.get_engine(url).begin() as connection:
                        write(connection, held)
                    written, held = len(held), []
                except Exception as error:
                    refused = type(error).__name__
                    if failed is not None and then is None:
                        failed(error, len(held))
            if then is not None and values is not None:
                pipe.send((written, len(held), refused))
            if then == "close":
                return
    except BaseException:
        status = 1
    finally:
        engine.dispose_all()
        os._exit(status)


def write(connection: Any, rows: list[Use]) -> None:
    """The uses' audit rows, then each technical account's last use (the latest time of
    the rows, never moving it backwards), on ``connection``, in its transaction: a
    batch of the journal's, or one use in a unit of work's (``technical.record_use``)."""
    from sqlalchemy import and_, bindparam, or_, update

    from chorus_cli.store.models_api import TechnicalAccount
    from chorus_cli.store.models_audit import AuditEntry

    audit = AuditEntry.__table__
    accounts = TechnicalAccount.__table__.c
    latest: dict[int, datetime] = {}
    for use in rows:
        if use.account_id is not None and (
            use.account_id not in latest or latest[use.account_id] < use.at
        ):
            latest[use.account_id] = use.at
    used = (
        update(TechnicalAccount.__table__)
        .where(
            and_(
                accounts.id == bindparam("account"),
                or_(accounts.last_used_at.is_(None), accounts.last_used_at < bindparam("at")),
            )
        )
        .values(last_used_at=bindparam("at"))
    )
    connection.execute(
        audit.insert(),  # type: ignore[attr-defined]
        [
            {
                "at": u.at,
                "actor": u.actor,
                "action": u.action,
                "target": u.target,
                "details": u.details,
            }  # fmt: skip
            for u in rows
        ],
    )
    if latest:
        connection.execute(used, [{"account": key, "at": at} for key, at in sorted(latest.items())])
