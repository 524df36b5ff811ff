"""Unit of work: one transaction per command; a refused action rolls back whole."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlmodel import Session

    from chorus_cli.config import Settings
    from chorus_cli.kernel.clock import Clock


class UnitOfWork:
    """``with UnitOfWork(settings, clock) as uow: ...; uow.commit()``.

    Leaving the block without ``commit()`` rolls everything back, audit rows and
    outbox mails included, so nothing half-written survives an error.
    """

    def __init__(self, settings: Settings, clock: Clock, deferred: bool = False) -> None:
        self.settings = settings
        self.clock = clock
        # `chorus batch --atomic`: every command's commit only flushes; the batch commits
        # (or rolls back) once at its end (OPS-6).
        self.deferred = deferred
        self.session: Session
        self.lang: str = settings.lang or "fr"
        self.session_id: int | None = None  # the CLI session a command runs in, once known
        # SEC-8: how many mails this unit of work wrote to the outbox, and how many of them
        # were committed: a command that queued none delivers nothing after it.
        self.queued_mail = 0
        self.committed_mail = 0

    def __enter__(self) -> UnitOfWork:
        from sqlmodel import Session

        from chorus_cli.store.engine import get_engine

        self.session = Session(get_engine(self.settings.database_url), expire_on_commit=False)
        self.session.begin()
        return self

    def __exit__(self, *exc: object) -> None:
        # close() rolls back what was not committed; unlike rollback() it keeps the
        # loaded attributes, so commands can still print what they returned.
        self.session.close()

    def commit(self) -> None:
        if self.deferred:
            self.session.flush()
            return
        self.session.commit()
        self.committed_mail += self.queued_mail
        self.queued_mail = 0
        # Keep working in a fresh transaction when a command needs a second step.
        self.session.begin()

    def release(self) -> None:
        """End the transaction, keeping nothing, before chorus waits for a person (SEC-4):
        on SQLite the write lock of BEGIN IMMEDIATE goes with it. Loaded rows are read
        again on their next use."""
        if self.deferred:  # a batch line never waits for a person (OPS-6)
            return
        self.session.rollback()
        self.queued_mail = 0
        self.session.begin()

    def reading(self) -> Any:
        """The connection of a transaction that only reads (a long export): on SQLite a
        plain BEGIN, so other processes keep writing meanwhile. Call it first thing in
        a transaction (after ``commit()``); a deferred unit of work reads in its own."""
        from chorus_cli.store.engine import READ_ONLY

        if self.deferred:
            return self.session.connection()
        return self.session.connection(execution_options={READ_ONLY: True})

    def add(self, obj: Any) -> Any:
        self.session.add(obj)
        self.session.flush()
        return obj

    def audit(self, actor: str, action: str, target: str, **details: Any) -> None:
        """Write an audit row in the same transaction as the change (OPS-4)."""
        from chorus_cli.store.models import AuditEntry

        self.session.add(
            AuditEntry(
                at=self.clock.now(), actor=actor, action=action, target=target, details=details
            )
        )
