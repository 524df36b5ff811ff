"""Audit rows written a moment later, in batches: what `chorus serve` records of each call
(TECH-2: an audit row with the technical account as actor, and the account's last-use
time) without a write transaction per request.

A :class:`Journal` keeps the rows it is given in memory; one thread of its own writes
them every ``every`` seconds (or as soon as ``most`` are waiting), all of them in one
short transaction: the audit rows, then each account's last use (the latest time of
the batch, never moving it backwards). :meth:`Journal.close` writes what is left, so a
clean stop (Ctrl-C) loses nothing; a batch the store refuses (locked, unreachable) stays
queued for the next try, and a row recorded after ``close`` is written at once.
"""

from __future__ import annotations

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


class Journal:
    """``journal.start()``; ``journal.record(use)`` from any thread; ``journal.close()``."""

    def __init__(
        self,
        url: str,
        every: float = EVERY,
        most: int = MOST,
        failed: Callable[[Exception, int], None] | None = None,
    ) -> None:
        self.url = url
        self.every = every
        self.most = most
        self.failed = failed  # told of a batch the store refused, and its size
        self._rows: list[Use] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._writing = threading.Lock()  # one batch at a time, in order
        self._closed = False
        self._thread: threading.Thread | None = None

    def start(self) -> Journal:
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
        with self._lock:
            return len(self._rows)

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.every)
            self._wake.clear()
            if self._closed:
                return
            try:
                self.flush()
            except Exception as error:  # kept queued; said, and tried again next time
                if self.failed is not None:
                    self.failed(error, self.pending())

    def flush(self) -> int:
        """Write every row waiting, in one transaction; how many. On failure they stay
        queued (ahead of newer ones) and the error is raised."""
        with self._writing:
            with self._lock:
                rows, self._rows = self._rows, []
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
        return self.flush()


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
