"""Unit of work: one transaction per command; a refused action rolls back whole.

A dry run (OUT-5, ``store.rehearsal.rehearse``): every unit of work opened meanwhile keeps one
transaction, always rolled back; its commits only release a savepoint (so the command's
later steps see its earlier ones, and ``release`` drops only what came after the last
commit), and note what the real run would have committed there (the audit rows and the
outbox mails added) in the :class:`Rehearsal`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from chorus_cli.store.rehearsal import Rehearsal, rehearsing

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import SessionTransaction
    from sqlmodel import Session

    from chorus_cli.config import Settings
    from chorus_cli.kernel.clock import Clock
    from chorus_cli.store.journal import Journal


class UnitOfWork:
    """``with UnitOfWork(settings, clock) as uow: ...; uow.commit()``.

    Leaving the block without ``commit()`` rolls everything back, audit rows and
    outbox mails included, so nothing half-written survives an error.
    """

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        deferred: bool = False,
        journal: Journal | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        # `chorus serve`: where the uses of technical accounts are recorded, written a
        # moment later in batches (TECH-2, ``store.journal``); None: in this transaction.
        self.journal = journal
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
        # OUT-5: a dry run's unit of work commits nothing (see ``rehearse``): the highest
        # audit and outbox ids noted so far, and the savepoint of the step under way.
        self.rehearsal = rehearsing()
        self._noted: tuple[int, int] | None = None
        self._step: SessionTransaction | None = None

    def __enter__(self) -> UnitOfWork:
        from sqlmodel import Session

        from chorus_cli.store.engine import get_engine

        self.session = Session(get_engine(self.settings.database_url), expire_on_commit=False)
        if self.rehearsal is not None:
            from sqlalchemy import event

            event.listen(self.session, "after_begin", self._first_ids)
            event.listen(self.session, "before_commit", _never_commit)
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
        if self.rehearsal is not None:
            self._rehearse_commit()
            return
        self.session.commit()
        self.committed_mail += self.queued_mail
        self.queued_mail = 0
        # Keep working in a fresh transaction when a command needs a second step.
        self.session.begin()

    def finish(self) -> None:
        """The one commit of a deferred unit of work (`chorus batch --atomic`)."""
        if self.rehearsal is not None:
            self._rehearse_commit()
        else:
            self.session.commit()

    def _rehearse_commit(self) -> None:
        """A dry run's commit: note what the real one would save, keep it for the next
        steps (release the step's savepoint), and open the next step's."""
        assert self.rehearsal is not None
        self.session.flush()
        if self._step is not None and self._step.is_active:
            self._step.commit()
        self._note(self.session.connection())
        self.rehearsal.committed = True
        self.queued_mail = 0
        self._step = self.session.begin_nested()

    def release(self) -> None:
        """End the transaction, keeping nothing, before chorus waits for a person (SEC-4):
        on SQLite the write lock of BEGIN IMMEDIATE goes with it. Loaded rows are read
        again on their next use. In a dry run, only what came after its last commit goes."""
        if self.deferred:  # a batch line never waits for a person (OPS-6)
            return
        self.queued_mail = 0
        if self._step is not None and self._step.is_active:
            self._step.rollback()
            self._step = self.session.begin_nested()
            return
        self.session.rollback()
        self._noted = None
        self.session.begin()

    @contextmanager
    def rehearsed_step(self, rehearsal: Rehearsal) -> Iterator[None]:
        """A dry line of an atomic batch (OUT-5): its work in a savepoint of this unit
        of work, noted in ``rehearsal``, then rolled back whatever happens."""
        connection = self.session.connection()
        kept, noted = self.rehearsal, self._noted
        self._noted = _last_ids(connection)
        step = self.session.begin_nested()
        try:
            yield
            self.session.flush()
            self.rehearsal = rehearsal
            self._note(connection)
        finally:
            self.rehearsal, self._noted = kept, noted
            step.rollback()

    def _first_ids(self, _session: object, _transaction: object, connection: Connection) -> None:
        """The highest audit and outbox ids as a dry run's transaction begins."""
        if self._noted is None:
            self._noted = _last_ids(connection)

    def _note(self, connection: Connection) -> None:
        """What the transaction holds past the ids noted: what the real run would have
        committed (every change is audited, OPS-4)."""
        from sqlalchemy import select

        from chorus_cli.store.models import AuditEntry, Mail

        assert self.rehearsal is not None
        audit_id, mail_id = self._noted or (0, 0)
        audit, mail = AuditEntry.__table__.c, Mail.__table__.c
        rows = connection.execute(
            select(audit.id, audit.actor, audit.action, audit.target)
            .where(audit.id > audit_id)
            .order_by(audit.id)
        ).all()
        self.rehearsal.changes.extend((actor, action, target) for _, actor, action, target in rows)
        mails = connection.execute(
            select(mail.id, mail.to, mail.subject).where(mail.id > mail_id).order_by(mail.id)
        ).all()
        self.rehearsal.mails.extend((to, subject) for _, to, subject in mails)
        self._noted = (rows[-1][0] if rows else audit_id, mails[-1][0] if mails else mail_id)

    def reading(self) -> Any:
        """The connection of a transaction that only reads (a long export): on SQLite a
        plain BEGIN, so other processes keep writing meanwhile. Call it first thing in
        a transaction (after ``commit()``); a deferred unit of work reads in its own."""
        from chorus_cli.store.engine import READ_ONLY

        if self.deferred or self.rehearsal is not None:
            return self.session.connection()
        return self.session.connection(execution_options={READ_ONLY: True})

    @property
    def dialect_name(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.session.get_bind().dialect.name

    def rows(self, statement: Any, params: dict[str, Any] | None = None) -> list[Any]:
        """The rows of a Core statement (built once, with named ``bindparam``s) on this
        unit of work's connection; as ``store.reads.ReadUnitOfWork.rows``."""
        return list(self.session.connection().execute(statement, params or {}).all())

    def first(self, statement: Any, params: dict[str, Any] | None = None) -> Any:
        return self.session.connection().execute(statement, params or {}).first()

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


def _never_commit(session: Session) -> None:
    """A dry run's session commits savepoints only (OUT-5)."""
    if not session.in_nested_transaction():
        raise RuntimeError("chorus: a dry run's unit of work was asked to commit")


def _last_ids(connection: Connection) -> tuple[int, int]:
    """The highest audit and outbox ids before a dry run's unit of work writes."""
    from sqlalchemy import func, select

    from chorus_cli.store.models import AuditEntry, Mail

    audit = connection.execute(select(func.max(AuditEntry.__table__.c.id))).scalar()
    mail = connection.execute(select(func.max(Mail.__table__.c.id))).scalar()
    return audit or 0, mail or 0


__all__ = ["Rehearsal", "UnitOfWork", "rehearsing"]
