"""``--kind accounts`` (OPS-1, PUB-1, PUB-2): new accounts with their activation, existing
ones updated, either attached to a structure or services when the row names one."""

from __future__ import annotations

import json
from typing import Any

from chorus_cli.bulk.load.base import (
    ACCOUNT_FIELDS,
    AccountInfo,
    Created,
    Loader,
    RowRefused,
    StructureInfo,
)
from chorus_cli.bulk.validate import REPORTED_ROWS, Checked
from chorus_cli.domain.accounts import (
    ACTIVATION_PURPOSE,
    ACTIVATION_TTL,
    NEW_ACCOUNT_COLUMNS,
    activation,
    new_language,
    new_row,
)
from chorus_cli.domain.granting import check_open
from chorus_cli.kernel.errors import BadInput, NotAllowed


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

        self.expires_at = self.db.time(self.now + ACTIVATION_TTL)
        self.dumped: dict[tuple, str] = {}

    def details(self, decided: dict[str, Any]) -> str:
        """The audit details of ``account.create`` with the flow's source, as every audit
        row of a flow (OPS-4), as JSON: a few kinds in a flow, each encoded once."""
        key = tuple(decided.items())
        found = self.dumped.get(key)
        if found is None:
            found = self.dumped[key] = json.dumps({**decided, "source": self.source})
        return found

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
        if structure is not None:
            self.checked(
                "structure", check_open, structure.identifier, structure.status, provisioning=True
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
        language = new_language(values.get("language"))  # made for someone else
        self.new_accounts.append(  # the columns `account create` fills
            new_row(
                account_id,
                login,
                contact,
                values["first_name"],
                values["last_name"],
                values.get("phone"),
                language,
                self.at,
                True,  # PUB-2: to complete at first login
                values.get("workplace_address"),
                values.get("biography"),
            )
        )
        digest, subject, body, redacted, decided = row.activation  # ``accounts.activation``
        at = self.at
        self.new_links.append((digest, ACTIVATION_PURPOSE, account_id, at, self.expires_at))
        self.queue("activation", login, structure is not None and structure.public, subject,
                   body, redacted)  # fmt: skip
        self.audits.append((at, self.actor_email, "account.create", login, self.details(decided)))
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
        db.insert("account", NEW_ACCOUNT_COLUMNS, self.new_accounts)
        db.insert(
            "link_token",
            ("token_hash", "purpose", "account_id", "created_at", "expires_at"),
            self.new_links,
        )
        assignments = ", ".join(f"{name} = ?" for name in ACCOUNT_FIELDS)
        db.many(f"UPDATE account SET {assignments} WHERE id = ?", self.changed_accounts)
        self.new_accounts, self.new_links, self.changed_accounts = [], [], []


def prepare(kind: str, rows: list[Checked], context: dict[str, str]) -> list[Checked]:
    """What a new account will need, made where the rows are checked (a worker process
    for a big flow): its ``accounts.activation``, the command's own. A row that turns out to exist
    already just drops it."""
    if kind != "accounts":
        return rows
    base_url = context["base_url"]
    for row in rows:
        if row.errors:
            continue
        values = row.values
        made = activation(
            base_url=base_url,
            login=values["login_email"],
            first_name=values["first_name"],
            last_name=values["last_name"],
            language=new_language(values.get("language")),
            phone=bool(values.get("phone")),
            to_complete=True,  # PUB-2: a flow's accounts complete their information
        )
        row.activation = made
    return rows
