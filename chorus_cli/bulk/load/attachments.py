"""``--kind attachments`` (OPS-1, ATT-2): existing accounts attached to structures or
services."""

from __future__ import annotations

from typing import Any

from chorus_cli.bulk.load.base import (
    Loader,
    RowRefused,
)
from chorus_cli.bulk.validate import Checked
from chorus_cli.domain.granting import check_open
from chorus_cli.kernel.errors import BadInput, NotFound


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
        self.checked("structure", check_open, structure.identifier, structure.status)
        codes = values.get("services") or []
        if not self.attach(account, structure, self.service_ids(structure, codes)):
            return "unchanged"
        self.attached_notice(account, structure, codes)
        return "created"
