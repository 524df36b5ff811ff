"""What every kind of flow shares (OPS-1): the store, the chunk's look-ups, the batches
of rows to write, the rules of ``granting`` for attachments and profiles."""

from __future__ import annotations

import json
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chorus_cli.bulk.validate import BadRows, Checked, RowError
from chorus_cli.domain import authz, identifiers
from chorus_cli.domain.granting import Attacher, check_services_open
from chorus_cli.domain.notices import sender
from chorus_cli.kernel.errors import BadInput, ChorusError, NotAllowed, NotFound, RuleRefused
from chorus_cli.mail.outbox import MAIL_COLUMNS, new_message_id
from chorus_cli.mail.templates import render
from chorus_cli.store.sql import Sql

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from chorus_cli.domain.authz import Scope
    from chorus_cli.store.models import Account
    from chorus_cli.store.uow import UnitOfWork


ACCOUNT_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "contact_email",
    "workplace_address",
    "biography",
    "language",
)
AUDIT_COLUMNS = ("at", "actor", "action", "target", "details")


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: BadRows = field(default_factory=BadRows)  # the first 1,000 bad rows' (SEC-10)
    warnings: BadRows = field(default_factory=BadRows)  # OUT-4: cells read otherwise
    denied: bool = False  # a row outside the actor's scope (PUB-1, SEC-11): exit 4, not 2


@dataclass
class StructureInfo:
    id: int
    id_type: str
    identifier: str
    raison_sociale: str
    public: bool
    postal_code: str | None
    status: str
    primary_manager_id: int | None
    label: str | None = None
    email: str | None = None
    phone: str | None = None
    helios: bool = False
    service_code_required: bool = False
    engagement_number_required: bool = False

    # What ``of_row`` reads, in its order.
    SELECT = (
        "SELECT id, id_type, identifier, raison_sociale, public, postal_code, status,"
        " primary_manager_id, label, email, phone, helios, service_code_required,"
        " engagement_number_required FROM structure"
    )

    @classmethod
    def of_row(cls, row: Sequence[Any]) -> StructureInfo:
        """A row of ``SELECT`` (SQLite gives its flags as 0 and 1)."""
        return cls(*row[:4], bool(row[4]), *row[5:11], *map(bool, row[11:14]))


@dataclass
class AccountInfo:
    id: int
    login_email: str
    contact_email: str
    first_name: str
    last_name: str
    language: str
    status: str
    values: dict[str, Any] = field(default_factory=dict)


class Created:
    """What this import created, as (id, line): a row that a later chunk finds in the
    store is then a duplicate in the file, not a row that existed before.

    Ids come in ascending runs (each chunk's fresh ids are one range): the runs are kept
    as (first id, index of its first line), the lines in one array of 4 bytes a row, so
    a million-row flow keeps 4 MB, not a dict of every row."""

    def __init__(self) -> None:
        self.firsts = array("q")  # the first id of each run
        self.starts = array("q")  # where its lines start in ``lines``
        self.lines = array("I")
        self.last: int | None = None
        self.odd: dict[int, int] = {}  # an id below the last one (never seen: kept all the same)

    def add(self, row_id: int, line: int) -> None:
        if self.last is not None and row_id <= self.last:
            self.odd[row_id] = line
            return
        if self.last is None or row_id != self.last + 1:
            self.firsts.append(row_id)
            self.starts.append(len(self.lines))
        self.lines.append(line)
        self.last = row_id

    def line_of(self, row_id: int) -> int | None:
        if row_id in self.odd:
            return self.odd[row_id]
        run = bisect_right(self.firsts, row_id) - 1
        if run < 0:
            return None
        end = self.starts[run + 1] if run + 1 < len(self.starts) else len(self.lines)
        at = self.starts[run] + row_id - self.firsts[run]
        return self.lines[at] if at < end else None


class RowRefused(Exception):
    """A row that cannot be applied: a bad row (exit 2) or outside the scope (exit 4)."""

    def __init__(self, column: str | None, error: ChorusError) -> None:
        super().__init__(error.key)
        self.column = column
        self.error = error


class Loader:
    """What every kind shares: the store, the caches, the batches of rows to write."""

    def __init__(self, uow: UnitOfWork, actor: Account, scope: Scope, source: str) -> None:
        self.uow = uow
        self.db = Sql(uow)
        self.actor = actor
        self.actor_email = actor.login_email  # a plain str: read for every row
        self.scope = scope
        self.source = source  # the file's name, in the audit details
        self.now = uow.clock.now()
        self.at = self.db.time(self.now)
        self.counts = Counts()
        # by (type if the column names it, the identifier as typed)
        self.structures: dict[tuple[str | None, str], StructureInfo | RowRefused] = {}
        self.by_id: dict[int, StructureInfo] = {}
        self.services: dict[int, dict[str, tuple[int, bool]]] = {}  # structure -> code -> id
        # Attachments, profiles and primary managers: the rules of the single commands.
        self.attacher = Attacher(self.db, self.at)
        # SEC-11: the existing accounts of this chunk that the actor may not manage.
        self.outside: set[int] = set()
        self.names: dict[str, str] = {}  # field -> the file's column name
        self.senders: dict[bool, str] = {}  # PUB-3: read (and checked, SEC-8) when first needed
        self._reset_batches()

    # --- batches -------------------------------------------------------------------

    def _reset_batches(self) -> None:
        self.mails: list[tuple] = []
        self.audits: list[tuple] = []

    def queue(
        self, kind: str, to: str, public: bool, subject: str, body: str, redacted: str
    ) -> None:
        """A mail in the outbox (``MAIL_COLUMNS``), from the PUB-3 sender when ``public``."""
        sent_by = self.senders.get(public)
        if sent_by is None:
            sent_by = self.senders[public] = sender(self.uow, public)
        self.mails.append(
            (to, sent_by, subject, body, redacted, kind, self.at, "pending",
             new_message_id(sent_by))
        )  # fmt: skip

    def mail(self, kind: str, to: str, lang: str, public: bool, **params: Any) -> None:
        self.queue(kind, to, public, *render(kind, lang, **params))

    def notify(self, account: AccountInfo, kind: str, public: bool, **params: Any) -> None:
        self.mail(
            kind,
            account.contact_email,
            account.language,
            public,
            first_name=account.first_name,
            last_name=account.last_name,
            login_email=account.login_email,
            **params,
        )

    def audit(self, action: str, target: str, **details: Any) -> None:
        details["source"] = self.source
        self.audits.append((self.at, self.actor_email, action, target, json.dumps(details)))

    def flush(self) -> None:
        """Write what the chunk decided, parents before children (foreign keys)."""
        db = self.db
        self.attacher.flush()
        db.insert("mail", MAIL_COLUMNS, self.mails)
        self.uow.queued_mail += len(self.mails)  # delivered after the command (SEC-8)
        db.insert("audit_entry", AUDIT_COLUMNS, self.audits)
        self._reset_batches()

    # --- rows ----------------------------------------------------------------------

    def load(self, chunk: list[Checked]) -> None:
        """Decide and write one chunk of checked rows."""
        good = []
        for row in chunk:
            self.counts.warnings.extend(row.warnings)
            if row.ok:
                good.append(row)
            else:
                self.remember(row)
                self.fail(row.errors)
        self.prepare(good)
        for row in good:
            try:
                outcome = self.apply(row)
            except RowRefused as refused:
                self.refuse(row.line, refused)
                continue
            setattr(self.counts, outcome, getattr(self.counts, outcome) + 1)
        self.write()
        self.flush()
        self.forget()

    def forget(self) -> None:
        """Drop what the chunk looked up: it is in the store now, the next chunk reads it
        again if it needs it, and memory stays that of one chunk."""
        self.structures.clear()
        self.by_id.clear()
        self.services.clear()
        self.attacher.forget()
        self.outside = set()

    def fail(self, errors: list[RowError]) -> None:
        self.counts.failed += 1
        self.counts.errors.extend(errors)

    def refuse(self, line: int, refused: RowRefused) -> None:
        if isinstance(refused.error, NotAllowed):
            self.counts.denied = True
        self.fail([RowError(line, refused.column, refused.error.key, refused.error.params)])

    def column(self, field: str) -> str:
        return self.names.get(field, field)

    def checked(self, field: str, rule: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """``rule(*args, **kwargs)``, one of the domain's checks: its refusal refuses the
        row, in the column of ``field``."""
        try:
            rule(*args, **kwargs)
        except RuleRefused as refused:
            raise RowRefused(self.column(field), refused) from None

    def remember(self, row: Checked) -> None:
        """A bad row still counts for the duplicates after it."""

    def prepare(self, rows: list[Checked]) -> None:
        """Look up, once for the chunk, what its rows name."""

    def apply(self, row: Checked) -> str:
        """Decide one row: "created", "updated" or "unchanged" (RowRefused otherwise)."""
        raise NotImplementedError

    def write(self) -> None:
        """Write the rows of the chunk that the kind keeps itself (accounts, structures)."""

    # --- structures and services -----------------------------------------------------

    def lookup_structures(self, refs: set[tuple[str | None, str]]) -> None:
        """Find the structures rows name, by (type, identifier) when the type is known (a
        column headed «SIRET», a structures flow), else by every type the identifier can
        be; each is found once per import."""
        wanted = {
            (kind, text): [(kind, text)] if kind else identifiers.candidates(text)
            for kind, text in refs
            if (kind, text) not in self.structures
        }
        idents = {ident for pairs in wanted.values() for _type, ident in pairs}
        found: dict[tuple[str, str], StructureInfo] = {}
        for row in self.db.where_in(StructureInfo.SELECT + " WHERE identifier IN {in}", idents):
            info = StructureInfo.of_row(row)
            found[(info.id_type, info.identifier)] = self.by_id.setdefault(info.id, info)
        for ref, pairs in wanted.items():
            matches = [found[p] for p in pairs if p in found]
            if not matches:
                error = NotFound("str.not_found", id=ref[1])
                self.structures[ref] = RowRefused("structure", error)
            elif len(matches) > 1:
                types = ", ".join(sorted(m.id_type for m in matches))
                error = BadInput("str.ambiguous", id=ref[1], types=types)
                self.structures[ref] = RowRefused("structure", error)
            else:
                self.structures[ref] = matches[0]
        self.lookup_services({s.id for s in self.by_id.values()} - set(self.services))

    def lookup_services(self, structure_ids: set[int]) -> None:
        for structure_id in structure_ids:
            self.services[structure_id] = {}
        for service_id, structure_id, code, active in self.db.where_in(
            "SELECT id, structure_id, code, active FROM service WHERE structure_id IN {in}",
            structure_ids,
        ):
            self.services[structure_id][code] = (service_id, bool(active))

    @staticmethod
    def reference(values: dict[str, Any]) -> tuple[str | None, str]:
        return values.get("structure_type"), values["structure"]

    def structure(self, values: dict[str, Any]) -> StructureInfo:
        found = self.structures[self.reference(values)]
        if isinstance(found, RowRefused):
            raise RowRefused(self.column("structure"), found.error)
        return found

    def service_ids(self, structure: StructureInfo, codes: list[str]) -> set[int]:
        known = self.services.get(structure.id, {})
        for code in codes:
            if code not in known:
                error = NotFound("str7.not_found", code=code, id=structure.identifier)
                raise RowRefused(self.column("services"), error)
        opened = [(code, known[code][1]) for code in codes]
        self.checked("services", check_services_open, structure.identifier, opened)
        return {known[code][0] for code in codes}

    def require_scope(self, structure: StructureInfo, column: str) -> None:
        if not self.scope.covers(structure.public, structure.postal_code):
            raise RowRefused(
                column, NotAllowed("pub1.out_of_scope", structure=structure.identifier)
            )

    # --- existing accounts: within the actor's scope (SEC-11) --------------------------

    def lookup_scope(self, accounts: dict[str, AccountInfo]) -> None:
        """Which of the chunk's existing accounts the actor may not manage: one query
        for the chunk, by SEC-11's one definition (``authz.outside_scope``)."""
        self.outside = authz.accounts_outside_scope(
            self.uow, self.scope, [a.id for a in accounts.values()]
        )

    def require_account_scope(self, account: AccountInfo, column: str) -> None:
        """SEC-11: rename, re-address, attach or make primary manager only an account
        within the actor's scope; any other asks to be attached itself (ATT-1)."""
        if account.id in self.outside:
            error = NotAllowed("sec11.out_of_scope", email=account.login_email)
            raise RowRefused(column, error)

    # --- attachments ---------------------------------------------------------------

    def lookup_attachments(self, account_ids: set[int]) -> None:
        """The attachments and profiles of existing accounts (new ones have none), and
        the structures they are attached to."""
        structure_ids = self.attacher.read(account_ids)
        missing = structure_ids - set(self.by_id)
        for row in self.db.where_in(StructureInfo.SELECT + " WHERE id IN {in}", missing):
            self.by_id[row[0]] = StructureInfo.of_row(row)

    def attach(self, account: AccountInfo, structure: StructureInfo, service_ids: set[int]) -> bool:
        """Attach by ``granting``'s rules, those of ``attachments._attach`` (HAB-3
        defaults; the first account attached to the whole of a structure with no primary
        manager becomes it, PUB-1, STR-8). False when nothing changes."""
        return self.attacher.attach(account.id, structure, service_ids) is not None

    def attached_notice(
        self, account: AccountInfo, structure: StructureInfo, codes: list[str]
    ) -> None:

        self.notify(
            account,
            "attached_by_flow",
            structure.public,
            by=self.actor_email,
            identifier=structure.identifier,
            raison_sociale=structure.raison_sociale,
            services=codes,
        )
        self.audit(
            "attachment.provision",
            account.login_email,
            structure=structure.identifier,
            services=codes,
            primary_manager=structure.primary_manager_id == account.id,
        )

    # --- accounts --------------------------------------------------------------------

    def lookup_accounts(self, logins: set[str], by: str = "login_email") -> dict[Any, AccountInfo]:
        """The accounts of these logins (``by="id"``: of these ids), by login (by id)."""
        found = {}
        column = {"login_email": "login_email", "id": "id"}[by]
        for row in self.db.where_in(
            "SELECT id, login_email, contact_email, first_name, last_name, language, status,"
            f" phone, workplace_address, biography FROM account WHERE {column} IN {{in}}",
            logins,
        ):
            info = AccountInfo(*row[:7])
            info.values = dict(
                zip(
                    ACCOUNT_FIELDS,
                    (
                        info.first_name,
                        info.last_name,
                        row[7],
                        info.contact_email,
                        *row[8:],
                        info.language,
                    ),
                    strict=True,
                )
            )
            found[info.id if by == "id" else info.login_email] = info
        return found
