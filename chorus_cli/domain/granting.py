"""Attaching an account, its default profiles and the primary manager role, once for
every path (ATT-2, HAB-3, STR-4, STR-8, PUB-1, OPS-1).

The rules decide on plain values: ``decide_attach`` (what attaching changes),
``defaults`` and ``profile_writes`` (which profiles to add or raise, HAB-3),
``check_primary`` (who may become primary manager, STR-8). ``Attacher`` reads the
state of a set of accounts in a few queries, applies those rules row by row and
writes what they decided table by table, one ``executemany``/``COPY`` each: a flow
does so for a chunk of rows (``bulk.load``), a single command for its one row
(``one``: the ORM session is flushed before and expired after).

Chosen, where the paths used to differ (issue 18):

- attaching an account already attached there (to the whole structure, or to every
  service named) attaches nothing and grants nothing: a profile a manager lowered stays
  lowered (HAB-5: managers set profiles; OPS-1: a re-run changes nothing). HAB-3's
  defaults come with an attachment (ATT-2), and there is none to make; an approved
  request of an account attached meanwhile is recorded, nothing more;
- the first account attached to the whole of a structure that has no primary manager
  becomes it (STR-8: one per structure; PUB-1), whoever attaches it: a flow, a
  correspondent, an approval;
- becoming primary manager grants «Organisation modification» (STR-4, STR-8), raising
  a lower one, and nothing else: the member keeps its other profiles as they are (an
  account attached at that moment has HAB-3's defaults with it);
- the role moves from a primary manager to another account only if that account is
  attached to the whole structure and has activated (STR-8: «another attached, active
  account»), by ``structure transfer-primary`` as by a structures flow's
  ``primary_manager``. A structure without one gets its first (its creator, STR-4; the
  first account attached, PUB-1; a flow's ``primary_manager``) pending or not.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from chorus_cli.domain import catalogue
from chorus_cli.domain.catalogue import LEVELS
from chorus_cli.kernel.errors import RuleRefused

if TYPE_CHECKING:
    from chorus_cli.store.sql import Sql
    from chorus_cli.store.uow import UnitOfWork

ORGANISATION = "organisation"
CONSULTATION, MODIFICATION = LEVELS
ABSENT = "absent"  # an account not attached to the structure
# Where an account stands at a structure: ABSENT, None (the whole structure) or the ids
# of the services it is attached to («maille service»).
State = str | frozenset[int] | None
Profiles = list[tuple[str, str]]  # (application, level)


# --- the rules, on plain values -------------------------------------------------------


def default_level(application: str, manager: bool = False) -> str:
    """HAB-3: modification on every application, Organisation in consultation; the
    primary manager (STR-4) has «Organisation modification» too."""
    return MODIFICATION if manager or application != ORGANISATION else CONSULTATION


def defaults(manager: bool = False) -> Profiles:
    """HAB-3's default profiles, the primary manager's when ``manager``."""
    return [(code, default_level(code, manager)) for code, _name, _domain in catalogue.APPLICATIONS]


PRIMARY_PROFILE: Profiles = [(ORGANISATION, MODIFICATION)]  # what the role brings (STR-8)


def profile_writes(held: Mapping[str, str], wanted: Iterable[tuple[str, str]]):
    """Which of ``wanted`` to add (not held) and which to raise (held lower): a profile
    is given, never lowered, by an attachment or the role (``habil grant`` sets an
    exact level). Returns (added, raised), each a list of (application, level)."""
    added, raised = [], []
    for application, level in wanted:
        held_level = held.get(application)
        if held_level is None:
            added.append((application, level))
        elif LEVELS.index(level) > LEVELS.index(held_level):
            raised.append((application, level))
    return added, raised


@dataclass(frozen=True)
class Attach:
    """What attaching changes (``decide_attach``)."""

    new_attachment: bool  # the attachment row itself
    services: tuple[int, ...]  # services newly attached to
    whole: bool  # attached to the whole structure now
    drop_services: bool  # from some services to the whole structure
    primary: bool  # becomes the structure's primary manager


def decide_attach(state: State, service_ids: frozenset[int], has_primary: bool) -> Attach | None:
    """ATT-2, PUB-1: attach to the whole structure (``service_ids`` empty; ends any
    service-level attachment there) or to services. None when nothing changes: attached
    to the whole structure already, or to every service named. The first account
    attached to the whole of a structure without a primary manager becomes it (STR-8)."""
    if state != ABSENT and (state is None or (service_ids and service_ids <= state)):
        return None
    current: frozenset[int] = frozenset() if state == ABSENT else state  # type: ignore[assignment]
    if service_ids:
        return Attach(state == ABSENT, tuple(sorted(service_ids - current)), False, False, False)
    return Attach(state == ABSENT, (), True, bool(current), not has_primary)


def check_open(identifier: str, status: str, *, provisioning: bool = False) -> None:
    """ATT-1, PUB-1: an account is attached only to an active structure (one that waits
    for support, STR-6, or was refused takes nobody), whatever the path: a request, an
    attachments flow (ATT-1's sentence), an account provisioned there by command or by
    an accounts flow (``provisioning``: PUB-1's)."""
    if status != "active":
        key = "pub1.structure_not_active" if provisioning else "att1.structure_not_active"
        raise RuleRefused(key, id=identifier)


def check_services_open(identifier: str, services: Iterable[tuple[str, bool]]) -> None:
    """ATT-1: an account is attached only to a structure's active services; ``services``
    are the (code, active) named, all of them found."""
    inactive = sorted(code for code, active in services if not active)
    if inactive:
        raise RuleRefused(
            "att1.service_inactive",
            codes=", ".join(inactive),
            id=identifier,
            count=len(inactive),
        )


def check_primary(
    email: str, identifier: str, *, state: State, status: str, transfer: bool, attaching: bool
) -> None:
    """STR-8: whether the account may become primary manager. It is attached to the
    whole structure (``attaching``: a flow attaches it first), never to some services
    only; when the role moves from another account (``transfer``), it has activated."""
    if state == ABSENT and not attaching:
        raise RuleRefused("str8.not_attached", email=email, id=identifier)
    if isinstance(state, frozenset):
        raise RuleRefused("str8.service_member", email=email, id=identifier)
    if transfer and status != "active":
        raise RuleRefused("str8.not_active", email=email)


# --- reading and writing, for one row or a chunk ---------------------------------------


class Place(Protocol):
    """A structure as the rules need it: a ``Structure`` or a flow's ``StructureInfo``."""

    id: Any
    primary_manager_id: Any


class Attacher:
    """The attachment state of some accounts, and the rows the rules decide, written
    by ``flush`` table by table (parents before children)."""

    def __init__(self, sql: Sql, at: Any) -> None:
        self.sql = sql
        self.at = at  # the time written, in the store's format
        self.state: dict[tuple[int, int], frozenset[int] | None] = {}
        self.held: dict[tuple[int, int, int | None], dict[str, str]] = {}
        self.read_ids: set[int] = set()
        self._reset()

    def _reset(self) -> None:
        self.new_attachments: list[tuple] = []
        self.new_service_attachments: list[tuple] = []
        self.dropped_service_attachments: list[tuple] = []
        self.new_habilitations: list[tuple] = []
        self.raised: list[tuple] = []
        self.raised_on_services: list[tuple] = []
        self.primary_managers: list[tuple] = []

    def read(self, account_ids: Iterable[int]) -> set[int]:
        """Read the attachments and profiles of these accounts (three queries for any
        number); returns the ids of the structures they are attached to."""
        ids = set(account_ids) - self.read_ids
        self.read_ids |= ids
        sql = self.sql
        structure_ids = set()
        for account_id, structure_id in sql.where_in(
            "SELECT account_id, structure_id FROM attachment WHERE account_id IN {in}", ids
        ):
            self.state[(account_id, structure_id)] = None
            structure_ids.add(structure_id)
        for account_id, structure_id, service_id in sql.where_in(
            "SELECT account_id, structure_id, service_id FROM service_attachment"
            " WHERE account_id IN {in}",
            ids,
        ):
            key = (account_id, structure_id)
            self.state[key] = (self.state.get(key) or frozenset()) | {service_id}
        for account_id, structure_id, service_id, application, level in sql.where_in(
            "SELECT account_id, structure_id, service_id, application, level FROM habilitation"
            " WHERE account_id IN {in}",
            ids,
        ):
            self.held.setdefault((account_id, structure_id, service_id), {})[application] = level
        return structure_ids

    def state_of(self, account_id: int, structure_id: int) -> State:
        key = (account_id, structure_id)
        return self.state.get(key, ABSENT)

    def attach(self, account_id: int, structure: Place, service_ids: Iterable[int] = ()):
        """Attach by ``decide_attach`` with HAB-3's defaults where it attaches (the
        primary manager's on the whole structure). Returns the decision, None when
        nothing changes."""
        key = (account_id, structure.id)
        state = self.state_of(*key)
        decision = decide_attach(
            state, frozenset(service_ids), structure.primary_manager_id is not None
        )
        if decision is None:
            return None
        if decision.new_attachment:
            self.new_attachments.append((account_id, structure.id, self.at))
        for service_id in decision.services:
            self.new_service_attachments.append((account_id, structure.id, service_id, self.at))
            self.grant(account_id, structure.id, service_id, defaults())
        if decision.whole:
            if decision.drop_services:
                self.dropped_service_attachments.append((account_id, structure.id))
            if decision.primary:
                self.set_primary(account_id, structure)
            manager = structure.primary_manager_id == account_id
            self.grant(account_id, structure.id, None, defaults(manager))
            self.state[key] = None
        else:
            current = frozenset() if state == ABSENT else state
            self.state[key] = current | frozenset(decision.services)  # type: ignore[operator]
        return decision

    def make_primary(self, account_id: int, structure: Place) -> None:
        """STR-8: the account (attached to the whole structure, ``check_primary``)
        becomes primary manager, with «Organisation modification»."""
        self.set_primary(account_id, structure)
        self.grant(account_id, structure.id, None, PRIMARY_PROFILE)

    def set_primary(self, account_id: int, structure: Place) -> None:
        structure.primary_manager_id = account_id
        self.primary_managers.append((account_id, structure.id))

    def grant(
        self, account_id: int, structure_id: int, service_id: int | None, wanted: Profiles
    ) -> None:
        held = self.held.setdefault((account_id, structure_id, service_id), {})
        added, raised = profile_writes(held, wanted)
        for application, level in added:
            self.new_habilitations.append(
                (account_id, structure_id, service_id, application, level, self.at)
            )
            held[application] = level
        for application, level in raised:
            if service_id is None:
                self.raised.append((level, self.at, account_id, structure_id, application))
            else:
                self.raised_on_services.append(
                    (level, self.at, account_id, structure_id, service_id, application)
                )
            held[application] = level

    def flush(self) -> None:
        sql = self.sql
        sql.insert("attachment", ("account_id", "structure_id", "created_at"), self.new_attachments)
        sql.many(
            "DELETE FROM service_attachment WHERE account_id = ? AND structure_id = ?",
            self.dropped_service_attachments,
        )
        sql.insert(
            "service_attachment",
            ("account_id", "structure_id", "service_id", "created_at"),
            self.new_service_attachments,
        )
        sql.insert("habilitation", HABILITATION_COLUMNS, self.new_habilitations)
        sql.many(
            "UPDATE habilitation SET level = ?, granted_at = ? WHERE account_id = ?"
            " AND structure_id = ? AND service_id IS NULL AND application = ?",
            self.raised,
        )
        sql.many(
            "UPDATE habilitation SET level = ?, granted_at = ? WHERE account_id = ?"
            " AND structure_id = ? AND service_id = ? AND application = ?",
            self.raised_on_services,
        )
        sql.many("UPDATE structure SET primary_manager_id = ? WHERE id = ?", self.primary_managers)
        self._reset()

    def forget(self) -> None:
        """Drop what was read: the next chunk reads again what it needs."""
        self.state.clear()
        self.held.clear()
        self.read_ids.clear()


HABILITATION_COLUMNS = (
    "account_id",
    "structure_id",
    "service_id",
    "application",
    "level",
    "granted_at",
)


@contextmanager
def one(uow: UnitOfWork, *account_ids: int) -> Iterator[Attacher]:
    """An ``Attacher`` for a single command: the accounts' state read, the rows written
    on leaving, on the session's own connection (its pending changes flushed first, its
    objects expired after, so that they read what was written)."""
    from chorus_cli.store.sql import Sql

    uow.session.flush()
    sql = Sql(uow, bulk=False)
    attacher = Attacher(sql, sql.time(uow.clock.now()))
    attacher.read(account_ids)
    yield attacher
    attacher.flush()
    uow.session.expire_all()
