"""Writing checked rows into the store (OPS-1, PUB-1, PUB-2): what each row changes, as
the single commands would, but set-based.

A loader takes chunks of rows that passed their own checks (``validate``), looks up
what they name with one query per chunk (structures, services, accounts, attachments,
SIRENE), decides each row (created, updated, unchanged, or a bad row with its rule),
then writes the chunk's rows table by table. It runs inside the command's one
transaction: the service rolls it back when any row is bad, or for ``--dry-run``.

Rows are applied in file order and each sees what the rows before it did (the first
account attached to a structure without a primary manager becomes it, PUB-1).
"""

from __future__ import annotations

import json
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chorus_cli.bulk.store import Db
from chorus_cli.bulk.validate import REPORTED_ROWS, BadRows, Checked, RowError
from chorus_cli.domain import authz, identifiers, structures
from chorus_cli.domain.authz import LEVELS, default_level
from chorus_cli.domain.catalogue import APPLICATIONS
from chorus_cli.domain.links import LINK_TTL, PATHS
from chorus_cli.domain.notices import sender
from chorus_cli.domain.secrets import new_token, token_hash
from chorus_cli.kernel.errors import BadInput, ChorusError, NotAllowed, NotFound, RuleRefused
from chorus_cli.mail.templates import render
from chorus_cli.sirene import index

if TYPE_CHECKING:
    from chorus_cli.domain.authz import Scope
    from chorus_cli.store.models import Account
    from chorus_cli.store.uow import UnitOfWork

# The columns a new structure row fills, in order (a flow's and `chorus seed`'s rows).
STRUCTURE_COLUMNS = (
    "id",
    "id_type",
    "identifier",
    "raison_sociale",
    "label",
    "email",
    "phone",
    "status",
    "non_diffusible",
    "address",
    "postal_code",
    "commune",
    "country",
    "public",
    "helios",
    "created_by_id",
    "created_at",
    "search_text",
)
ACCOUNT_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "contact_email",
    "workplace_address",
    "biography",
    "language",
)
MAIL_COLUMNS = ("to", "sender", "subject", "body", "body_redacted", "kind", "created_at", "status")
AUDIT_COLUMNS = ("at", "actor", "action", "target", "details")
HABILITATION_COLUMNS = (
    "account_id",
    "structure_id",
    "service_id",
    "application",
    "level",
    "granted_at",
)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: BadRows = field(default_factory=BadRows)  # the first 1,000 bad rows' (SEC-10)
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
    """What this import created, as (id, line) in two compact arrays (ids come in
    ascending order): a row that a later chunk finds in the store is then a duplicate in
    the file, not a row that existed before. A few bytes a row: memory stays flat."""

    def __init__(self) -> None:
        self.ids = array("q")
        self.lines = array("q")

    def add(self, row_id: int, line: int) -> None:
        if self.ids and row_id < self.ids[-1]:  # never seen; kept sorted all the same
            at = bisect_left(self.ids, row_id)
            self.ids.insert(at, row_id)
            self.lines.insert(at, line)
            return
        self.ids.append(row_id)
        self.lines.append(line)

    def line_of(self, row_id: int) -> int | None:
        at = bisect_left(self.ids, row_id)
        if at < len(self.ids) and self.ids[at] == row_id:
            return self.lines[at]
        return None


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
        self.db = Db(uow)
        self.actor = actor
        self.actor_email = actor.login_email  # a plain str: read for every row
        self.scope = scope
        self.source = source  # the file's name, in the audit details
        self.now = uow.clock.now()
        self.at = self.db.time(self.now)
        self.counts = Counts()
        self.applications = [code for code, _name, _domain in APPLICATIONS]
        # by (type if the column names it, the identifier as typed)
        self.structures: dict[tuple[str | None, str], StructureInfo | RowRefused] = {}
        self.by_id: dict[int, StructureInfo] = {}
        self.services: dict[int, dict[str, tuple[int, bool]]] = {}  # structure -> code -> id
        # Attachment state of the accounts this chunk touches: (account, structure) ->
        # None for the whole structure, else the services attached to.
        self.attached: dict[tuple[int, int], set[int] | None] = {}
        self.habilitations: dict[tuple[int, int, int | None, str], str] = {}
        # SEC-11: the existing accounts of this chunk that the actor may not manage.
        self.outside: set[int] = set()
        self.names: dict[str, str] = {}  # field -> the file's column name
        self._reset_batches()

    # --- batches -------------------------------------------------------------------

    def _reset_batches(self) -> None:
        self.mails: list[tuple] = []
        self.audits: list[tuple] = []
        self.new_attachments: list[tuple] = []
        self.new_service_attachments: list[tuple] = []
        self.dropped_service_attachments: list[tuple] = []
        self.new_habilitations: list[tuple] = []
        self.raised_habilitations: list[tuple] = []
        self.primary_managers: list[tuple] = []

    def mail(self, kind: str, to: str, lang: str, public: bool, **params: Any) -> None:
        subject, body, redacted = render(kind, lang, **params)
        self.mails.append(
            (to, sender(self.uow, public), subject, body, redacted, kind, self.at, "pending")
        )

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
        db.insert("attachment", ("account_id", "structure_id", "created_at"), self.new_attachments)
        db.many(
            "DELETE FROM service_attachment WHERE account_id = ? AND structure_id = ?",
            self.dropped_service_attachments,
        )
        db.insert(
            "service_attachment",
            ("account_id", "structure_id", "service_id", "created_at"),
            self.new_service_attachments,
        )
        db.insert("habilitation", HABILITATION_COLUMNS, self.new_habilitations)
        db.many(
            "UPDATE habilitation SET level = ?, granted_at = ? WHERE account_id = ?"
            " AND structure_id = ? AND service_id IS NULL AND application = ?",
            self.raised_habilitations,
        )
        db.many("UPDATE structure SET primary_manager_id = ? WHERE id = ?", self.primary_managers)
        db.insert("mail", MAIL_COLUMNS, self.mails)
        self.uow.queued_mail += len(self.mails)  # delivered after the command (SEC-8)
        db.insert("audit_entry", AUDIT_COLUMNS, self.audits)
        self._reset_batches()

    # --- rows ----------------------------------------------------------------------

    def load(self, chunk: list[Checked]) -> None:
        """Decide and write one chunk of checked rows."""
        good = []
        for row in chunk:
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
        self.attached.clear()
        self.habilitations.clear()
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
        for row in self.db.where_in(
            "SELECT id, id_type, identifier, raison_sociale, public, postal_code, status,"
            " primary_manager_id, label, email, phone, helios FROM structure"
            " WHERE identifier IN {in}",
            idents,
        ):
            info = StructureInfo(*row[:4], bool(row[4]), *row[5:11], bool(row[11]))
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
        ids = set()
        for code in codes:
            if code not in known:
                error = NotFound("str7.not_found", code=code, id=structure.identifier)
                raise RowRefused(self.column("services"), error)
            service_id, active = known[code]
            if not active:
                error = RuleRefused(
                    "att1.service_inactive", codes=code, id=structure.identifier, count=1
                )
                raise RowRefused(self.column("services"), error)
            ids.add(service_id)
        return ids

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
        """The attachments and profiles of existing accounts (new ones have none)."""
        ids = account_ids - {a for a, _s in self.attached}
        structure_ids = set()
        for account_id, structure_id in self.db.where_in(
            "SELECT account_id, structure_id FROM attachment WHERE account_id IN {in}", ids
        ):
            self.attached[(account_id, structure_id)] = None
            structure_ids.add(structure_id)
        for account_id, structure_id, service_id in self.db.where_in(
            "SELECT account_id, structure_id, service_id FROM service_attachment"
            " WHERE account_id IN {in}",
            ids,
        ):
            key = (account_id, structure_id)
            self.attached[key] = (self.attached.get(key) or set()) | {service_id}
        for account_id, structure_id, service_id, application, level in self.db.where_in(
            "SELECT account_id, structure_id, service_id, application, level FROM habilitation"
            " WHERE account_id IN {in}",
            ids,
        ):
            self.habilitations[(account_id, structure_id, service_id, application)] = level
        missing = structure_ids - set(self.by_id)
        for row in self.db.where_in(
            "SELECT id, id_type, identifier, raison_sociale, public, postal_code, status,"
            " primary_manager_id, label, email, phone, helios FROM structure WHERE id IN {in}",
            missing,
        ):
            self.by_id[row[0]] = StructureInfo(*row[:4], bool(row[4]), *row[5:11], bool(row[11]))

    def attach(self, account: AccountInfo, structure: StructureInfo, service_ids: set[int]) -> bool:
        """Attach as ``attachments._attach`` and ``attach_directly`` do: to the whole
        structure (HAB-3 defaults; the first account of a structure with no primary
        manager becomes it, PUB-1, STR-8), or to services. False when nothing changes."""
        key = (account.id, structure.id)
        if key in self.attached:
            state = self.attached[key]
            if state is None or (service_ids and service_ids <= state):
                return False
        else:
            state = set()
            self.new_attachments.append((account.id, structure.id, self.at))
        if service_ids:
            added = service_ids - state
            for service_id in sorted(added):
                self.new_service_attachments.append((account.id, structure.id, service_id, self.at))
                self.grant_defaults(account.id, structure.id, service_id, manager=False)
            self.attached[key] = state | added
            return True
        if state:  # from some services to the whole structure
            self.dropped_service_attachments.append((account.id, structure.id))
        self.attached[key] = None
        manager = structure.primary_manager_id is None
        if manager:
            structure.primary_manager_id = account.id
            self.primary_managers.append((account.id, structure.id))
        self.grant_defaults(account.id, structure.id, None, manager=manager)
        return True

    def grant_defaults(
        self, account_id: int, structure_id: int, service_id: int | None, manager: bool
    ) -> None:

        for application in self.applications:
            level = default_level(application, manager)
            key = (account_id, structure_id, service_id, application)
            held = self.habilitations.get(key)
            if held is None:
                self.new_habilitations.append((*key, level, self.at))
            elif LEVELS.index(level) > LEVELS.index(held) and service_id is None:
                self.raised_habilitations.append(
                    (level, self.at, account_id, structure_id, application)
                )
            else:
                continue
            self.habilitations[key] = level

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

    def lookup_accounts(self, logins: set[str]) -> dict[str, AccountInfo]:
        found = {}
        for row in self.db.where_in(
            "SELECT id, login_email, contact_email, first_name, last_name, language, status,"
            " phone, workplace_address, biography FROM account WHERE login_email IN {in}",
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
            found[info.login_email] = info
        return found


class AccountsLoader(Loader):
    """``--kind accounts``: new accounts arrive pending, marked to complete (PUB-2), with
    their activation mail (from the PUB-3 sender when their structure is public);
    existing ones are updated where the file differs (an empty cell changes nothing)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Duplicate logins: this chunk's, the bad rows' (a few), and the accounts this
        # import created (compact), instead of every login of the file in memory.
        self.seen: dict[str, int] = {}
        self.bad: dict[str, int] = {}
        self.created = Created()
        self.new_accounts: list[tuple] = []
        self.new_links: list[tuple] = []
        self.changed_accounts: list[tuple] = []

        self.expires_at = self.db.time(self.now + LINK_TTL)
        self.flags = (self.db.flag(False), self.db.flag(True))
        self.senders = {public: sender(self.uow, public) for public in (False, True)}

    def remember(self, row: Checked) -> None:
        login = row.values.get("login_email")
        # Bounded (SEC-10): a file of bad rows past the listed ones names no more duplicates.
        if login and len(self.bad) < REPORTED_ROWS:
            self.bad.setdefault(login, row.line)

    def forget(self) -> None:
        super().forget()
        self.seen.clear()

    def prepare(self, rows: list[Checked]) -> None:
        self.lookup_structures(
            {self.reference(r.values) for r in rows if r.values.get("structure")}
        )
        self.existing = self.lookup_accounts({r.values["login_email"] for r in rows})
        self.lookup_attachments({a.id for a in self.existing.values()})
        self.lookup_scope(self.existing)
        fresh = [r for r in rows if r.values["login_email"] not in self.existing]
        self.fresh_ids = iter(self.db.next_ids("account", len(fresh)))

    def apply(self, row: Checked) -> str:
        values = row.values
        login = values["login_email"]
        account = self.existing.get(login)
        made = self.created.line_of(account.id) if account is not None else None
        earlier = [
            line
            for line in (self.seen.get(login), self.bad.get(login), made)
            if line is not None and line < row.line
        ]
        if earlier:
            error = BadInput("ops1.duplicate_login", email=login, first=min(earlier))
            raise RowRefused(self.column("login_email"), error)
        self.seen[login] = row.line
        if account is not None:
            self.require_account_scope(account, self.column("login_email"))
        structure = self.structure(values) if values.get("structure") else None
        service_ids = (
            self.service_ids(structure, values.get("services") or []) if structure else set()
        )
        if structure is not None and structure.status != "active":
            raise RowRefused(
                self.column("structure"),
                RuleRefused("pub1.structure_not_active", id=structure.identifier),
            )
        if account is None:
            if structure is None:
                if not self.scope.everywhere:
                    raise RowRefused(self.column("structure"), NotAllowed("pub1.structure_needed"))
            else:
                self.require_scope(structure, self.column("structure"))
            self.create(row, structure, service_ids)
            return "created"
        if structure is not None:
            self.require_scope(structure, self.column("structure"))
        changed = [
            f
            for f in ACCOUNT_FIELDS
            if values.get(f) is not None and values[f] != account.values[f]
        ]
        if changed:
            account.values.update({f: values[f] for f in changed})
            self.changed_accounts.append((*(account.values[f] for f in ACCOUNT_FIELDS), account.id))
            self.audit("account.update", login, fields=sorted(changed))
        attached = structure is not None and self.attach(account, structure, service_ids)
        if attached:
            self.attached_notice(account, structure, values.get("services") or [])
        return "updated" if changed or attached else "unchanged"

    def create(self, row: Checked, structure: StructureInfo | None, service_ids: set[int]) -> None:
        """A new pending account, marked to complete (PUB-2), with its activation link
        and mail (from the PUB-3 sender for a public structure's account)."""
        values = row.values
        login = values["login_email"]
        account_id = next(self.fresh_ids)
        self.created.add(account_id, row.line)
        contact = values.get("contact_email") or login
        language = values.get("language") or "fr"
        no, yes = self.flags
        self.new_accounts.append(
            (
                account_id,
                login,
                contact,
                values["first_name"],
                values["last_name"],
                values.get("phone"),
                values.get("workplace_address"),
                values.get("biography"),
                language,
                no,
                no,
                "pending",
                0,
                self.at,
                yes,  # PUB-2: to complete at first login
            )
        )
        digest, subject, body, redacted, details = row.ready
        at = self.at
        self.new_links.append((digest, "activate", account_id, at, self.expires_at))
        public = structure is not None and structure.public
        sent_by = self.senders[public]
        self.mails.append((login, sent_by, subject, body, redacted, "activation", at, "pending"))
        self.audits.append((at, self.actor_email, "account.create", login, details))
        if structure is not None:
            account = AccountInfo(
                account_id,
                login,
                contact,
                values["first_name"],
                values["last_name"],
                language,
                "pending",
            )
            self.attach(account, structure, service_ids)
            self.audit(
                "attachment.provision",
                login,
                structure=structure.identifier,
                services=values.get("services") or [],
                primary_manager=structure.primary_manager_id == account.id,
            )

    def write(self) -> None:
        db = self.db
        db.insert(
            "account",
            (
                "id",
                "login_email",
                "contact_email",
                "first_name",
                "last_name",
                "phone",
                "workplace_address",
                "biography",
                "language",
                "accessibility",
                "survey_consent",
                "status",
                "failed_logins",
                "created_at",
                "to_complete",
            ),
            self.new_accounts,
        )
        db.insert(
            "link_token",
            ("token_hash", "purpose", "account_id", "created_at", "expires_at"),
            self.new_links,
        )
        assignments = ", ".join(f"{name} = ?" for name in ACCOUNT_FIELDS)
        db.many(f"UPDATE account SET {assignments} WHERE id = ?", self.changed_accounts)
        self.new_accounts, self.new_links, self.changed_accounts = [], [], []


class AttachmentsLoader(Loader):
    """``--kind attachments``: existing accounts attached to structures (or services) with
    HAB-3's default profiles and a notice, as an approved request would (ATT-2)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: dict[tuple[str, int], int] = {}

    def prepare(self, rows: list[Checked]) -> None:
        self.lookup_structures({self.reference(r.values) for r in rows})
        self.existing = self.lookup_accounts({r.values["login_email"] for r in rows})
        self.lookup_attachments({a.id for a in self.existing.values()})
        self.lookup_scope(self.existing)

    def apply(self, row: Checked) -> str:
        values = row.values
        structure = self.structure(values)
        self.require_scope(structure, self.column("structure"))
        account = self.existing.get(values["login_email"])
        if account is None:
            error = NotFound("account.not_found", email=values["login_email"])
            raise RowRefused(self.column("login_email"), error)
        self.require_account_scope(account, self.column("login_email"))
        first = self.seen.setdefault((account.login_email, structure.id), row.line)
        if first != row.line:
            error = BadInput(
                "ops1.duplicate_attachment",
                email=account.login_email,
                id=structure.identifier,
                first=first,
            )
            raise RowRefused(self.column("structure"), error)
        if structure.status != "active":
            error = RuleRefused("att1.structure_not_active", id=structure.identifier)
            raise RowRefused(self.column("structure"), error)
        codes = values.get("services") or []
        if not self.attach(account, structure, self.service_ids(structure, codes)):
            return "unchanged"
        self.attached_notice(account, structure, codes)
        return "created"


class StructuresLoader(Loader):
    """``--kind structures``: a SIRET takes its raison sociale, address and public
    character from SIRENE (STR-2, STR-3); a public structure managed in Hélios arrives
    active, another public one waits for support (STR-6); ``primary_manager`` names an
    existing account, attached as primary manager with «Organisation modification»."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: dict[tuple[str, str], int] = {}  # this chunk's
        self.created = Created()
        self.new_structures: list[tuple] = []
        self.changed_structures: list[tuple] = []

    def prepare(self, rows: list[Checked]) -> None:
        sirets = [r.values["identifier"] for r in rows if r.values["id_type"] == "SIRET"]
        self.register = index.find_many(self.uow, sirets)
        self.lookup_structures({(r.values["id_type"], r.values["identifier"]) for r in rows})
        managers = {r.values["primary_manager"] for r in rows if r.values.get("primary_manager")}
        self.managers = self.lookup_accounts(managers)
        self.lookup_attachments({a.id for a in self.managers.values()})
        self.lookup_scope(self.managers)
        self.fresh = iter(self.db.next_ids("structure", len(rows)))

    def apply(self, row: Checked) -> str:
        values = row.values
        id_type, identifier = values["id_type"], values["identifier"]
        existing = self.existing_structure(id_type, identifier)
        made = self.created.line_of(existing.id) if existing is not None else None
        first = made or self.seen.get((id_type, identifier))
        if first is not None:
            error = BadInput("ops1.duplicate_structure", id=identifier, first=first)
            raise RowRefused(self.column("identifier"), error)
        self.seen[(id_type, identifier)] = row.line
        data = self.register_data(row)
        self.require_scope_of(data, values)
        manager = None
        if values.get("primary_manager"):
            manager = self.managers.get(values["primary_manager"])
            if manager is None:
                error = NotFound("account.not_found", email=values["primary_manager"])
                raise RowRefused(self.column("primary_manager"), error)
            if existing is None or manager.id != existing.primary_manager_id:
                self.require_account_scope(manager, self.column("primary_manager"))
        if existing is None:
            self.create(row, data, manager)
            return "created"
        if existing.status == "refused":
            raise RowRefused(
                self.column("identifier"), RuleRefused("str6.was_refused", id=identifier)
            )
        return self.update(existing, values, data, manager)

    def forget(self) -> None:
        super().forget()
        self.seen.clear()

    def existing_structure(self, id_type: str, identifier: str) -> StructureInfo | None:
        found = self.structures.get((id_type, identifier))
        return found if isinstance(found, StructureInfo) else None

    # Which column a refusal of ``structures.mandatory_data`` is about.
    COLUMNS_OF = {
        "str6.helios_siret_only": "helios",
        "str6.helios_not_public": "helios",
        "str6.public_type": "public",
        "ops1.public_from_sirene": "public",
        "str.missing": "raison_sociale",
        "str3.name_withheld": "raison_sociale",
        "field.too_long": "raison_sociale",
    }

    def register_data(self, row: Checked) -> dict[str, Any]:
        """The structure's mandatory data: SIRENE's for a SIRET (STR-2, STR-3), the row's
        otherwise (STR-1), by the rules of ``structure create``."""
        values = row.values
        try:
            return structures.mandatory_data(
                values["id_type"],
                values["identifier"],
                self.register.get(values["identifier"]),
                public=values.get("public"),
                helios=bool(values.get("helios")),
                raison_sociale=values.get("raison_sociale"),
                name_from_register=False,
            )
        except ChorusError as exc:
            raise RowRefused(self.column(self.COLUMNS_OF.get(exc.key, "identifier")), exc) from None

    def require_scope_of(self, data: dict[str, Any], values: dict[str, Any]) -> None:
        if not self.scope.covers(data["public"], data["postal_code"]):
            error = NotAllowed("pub1.out_of_scope", structure=values["identifier"])
            raise RowRefused(self.column("identifier"), error)

    def create(self, row: Checked, data: dict[str, Any], manager: AccountInfo | None) -> None:
        values = row.values
        helios = bool(values.get("helios"))
        status = "pending" if data["public"] and not helios else "active"
        info = StructureInfo(
            next(self.fresh),
            values["id_type"],
            values["identifier"],
            data["raison_sociale"],
            data["public"],
            data["postal_code"],
            status,
            None,
            values.get("label"),
            values.get("email"),
            values.get("phone"),
            helios,
        )
        self.by_id[info.id] = info
        self.created.add(info.id, row.line)
        self.structures[(info.id_type, info.identifier)] = info
        self.services[info.id] = {}
        db = self.db
        self.new_structures.append(
            (
                info.id,
                info.id_type,
                info.identifier,
                info.raison_sociale,
                info.label,
                info.email,
                info.phone,
                status,
                db.flag(data["non_diffusible"]),
                data["address"],
                data["postal_code"],
                data["commune"],
                data["country"],
                db.flag(info.public),
                db.flag(helios),
                self.actor.id,
                self.at,
                structures.search_key(info.raison_sociale, info.label, info.identifier),
            )
        )
        if manager is not None:
            self.make_primary(info, manager)
        if status == "pending":
            self.mail(
                "structure_pending",
                self.actor.contact_email,
                self.actor.language,
                False,
                first_name=self.actor.first_name,
                last_name=self.actor.last_name,
                login_email=self.actor_email,
                identifier=info.identifier,
                raison_sociale=info.raison_sociale,
            )
        self.audit(
            "structure.create",
            info.identifier,
            id_type=info.id_type,
            status=status,
            public=info.public,
            helios=helios,
            non_diffusible=data["non_diffusible"],
            primary_manager=manager.login_email if manager else None,
        )

    def make_primary(self, structure: StructureInfo, manager: AccountInfo) -> None:
        """STR-8: the named account becomes the primary manager, attached to the whole
        structure, with «Organisation modification» (STR-4)."""

        state = self.attached.get((manager.id, structure.id), "absent")
        if state not in ("absent", None):
            error = RuleRefused(
                "str8.service_member", email=manager.login_email, id=structure.identifier
            )
            raise RowRefused(self.column("primary_manager"), error)
        structure.primary_manager_id = None  # attach() gives the role and its profile
        if state == "absent":
            self.attach(manager, structure, set())
        else:
            structure.primary_manager_id = manager.id
            self.primary_managers.append((manager.id, structure.id))
            self.grant_defaults(manager.id, structure.id, None, manager=True)

    def update(
        self,
        existing: StructureInfo,
        values: dict[str, Any],
        data: dict[str, Any],
        manager: AccountInfo | None,
    ) -> str:

        changes = {
            name: values[name]
            for name in ("label", "email", "phone")
            if values.get(name) is not None and values[name] != getattr(existing, name)
        }
        public = values.get("public")
        if values["id_type"] != "SIRET" and public is not None and public != existing.public:
            changes["public"] = public
        if values.get("helios") and not existing.helios:
            changes["helios"] = True
        status = existing.status
        if changes.get("helios") and existing.status == "pending":
            status = "active"  # STR-6: a structure managed in Hélios needs no approval
        if changes:
            for name, value in changes.items():
                setattr(existing, name, value)
            existing.status = status
            db = self.db
            self.changed_structures.append(
                (
                    existing.label,
                    existing.email,
                    existing.phone,
                    db.flag(existing.public),
                    db.flag(existing.helios),
                    status,
                    structures.search_key(
                        existing.raison_sociale, existing.label, existing.identifier
                    ),
                    existing.id,
                )
            )
            self.audit("structure.update", existing.identifier, fields=sorted(changes))
        moved = manager is not None and manager.id != existing.primary_manager_id
        if moved:
            self.make_primary(existing, manager)
            self.audit("structure.transfer_primary", existing.identifier, new=manager.login_email)
        return "updated" if changes or moved else "unchanged"

    def write(self) -> None:
        self.db.insert(
            "structure",
            STRUCTURE_COLUMNS,
            self.new_structures,
        )
        self.db.many(
            "UPDATE structure SET label = ?, email = ?, phone = ?, public = ?, helios = ?,"
            " status = ?, search_text = ? WHERE id = ?",
            self.changed_structures,
        )
        self.new_structures, self.changed_structures = [], []


def prepare(kind: str, rows: list[Checked], context: dict[str, str]) -> list[Checked]:
    """What a new account will need, made where the rows are checked (a worker process
    for a big flow): its activation token and link, its mail in its language, its audit
    details. A row that turns out to exist already just drops them."""
    if kind != "accounts":
        return rows
    link = f"{context['base_url']}/{PATHS['activate']}?token="
    details = {  # the audit details of account.create, by whether a phone was given
        phone: json.dumps({"phone": phone, "to_complete": True, "source": context["source"]})
        for phone in (False, True)
    }
    for row in rows:
        if row.errors:
            continue
        values = row.values
        token = new_token()
        subject, body, redacted = render(
            "activation",
            values.get("language") or "fr",
            first_name=values["first_name"],
            last_name=values["last_name"],
            login_email=values["login_email"],
            link=link + token,
        )
        row.ready = (token_hash(token), subject, body, redacted, details[bool(values.get("phone"))])
    return rows


LOADERS = {
    "accounts": AccountsLoader,
    "structures": StructuresLoader,
    "attachments": AttachmentsLoader,
}
