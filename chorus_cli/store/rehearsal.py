"""The dry run in progress (OUT-5): what units of work and the keychain consult so that
nothing is kept, and where they note what the real run would have done."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Rehearsal:
    """What a dry run would have done (OUT-5): the audit rows (actor, action, target)
    and the mails (to, subject) its units of work would have committed, and the mails
    a delivery would have handed to SMTP."""

    changes: list[tuple[str, str, str]] = field(default_factory=list)
    mails: list[tuple[str, str]] = field(default_factory=list)
    delivered: list[tuple[str, str]] = field(default_factory=list)
    # Set when a unit of work passed a commit point: the real run would hold no
    # transaction after it, the dry run still does (SEC-4: no person is waited for).
    committed: bool = False


# The dry run in progress, if any (``rehearse``).
_rehearsal: list[Rehearsal | None] = [None]


@contextmanager
def rehearse() -> Iterator[Rehearsal]:
    """OUT-5: every unit of work opened in this block is rolled back, whatever it
    commits; the keychain writes nothing either (``rehearsing``). Not nested: a dry
    batch's lines run in the batch's rehearsal (``commands/_dry_run.py``)."""
    assert _rehearsal[0] is None, "a dry run within a dry run"
    _rehearsal[0] = rehearsal = Rehearsal()
    try:
        yield rehearsal
    finally:
        _rehearsal[0] = None


def rehearsing() -> Rehearsal | None:
    """The dry run in progress (OUT-5), None for a real run."""
    return _rehearsal[0]
