"""``--kind structures`` (OPS-1, STR-1..8): structures created or updated, with their
primary manager."""

from __future__ import annotations

from typing import Any

from chorus_cli.bulk.load.base import (
    AccountInfo,
    Created,
    Loader,
    RowRefused,
    StructureInfo,
)
from chorus_cli.bulk.validate import Checked
from chorus_cli.domain import structures
from chorus_cli.domain.granting import ABSENT, check_primary
from chorus_cli.domain.structures import STRUCTURE_COLUMNS, UPDATED_COLUMNS
from chorus_cli.kernel.errors import BadInput, ChorusError, NotAllowed, NotFound, RuleRefused
from chorus_cli.sirene import index


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
        formers = {s.primary_manager_id for s in self.by_id.values() if s.primary_manager_id}
        self.formers = self.lookup_accounts(formers, by="id")  # mailed when the role moves
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
                self.check_primary(existing, manager)
        if existing is None:
            self.create(row, data, manager)
            return "created"
        if existing.status == "refused":
            raise RowRefused(
                self.column("identifier"), RuleRefused("str6.was_refused", id=identifier)
            )
        return self.update(existing, values, data, manager)

    def check_primary(self, existing: StructureInfo | None, manager: AccountInfo) -> None:
        """STR-8, as ``structure transfer-primary``: the flow attaches the named account
        if it is not, but never makes primary a member of some services only, nor hands
        the role over to an account that has not activated."""
        state = ABSENT if existing is None else self.attacher.state_of(manager.id, existing.id)
        self.checked(
            "primary_manager",
            check_primary,
            manager.login_email,
            existing.identifier if existing else "",
            state=state,
            status=manager.status,
            transfer=existing is not None and existing.primary_manager_id is not None,
            attaching=True,
        )

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
        made = structures.new_row(  # the columns `structure create` fills, STR-1..6
            id=next(self.fresh),
            id_type=values["id_type"],
            identifier=values["identifier"],
            data=data,
            label=values.get("label"),
            email=values.get("email"),
            phone=values.get("phone"),
            helios=helios,
            service_code_required=bool(values.get("service_code_required")),
            engagement_number_required=bool(values.get("engagement_number_required")),
            created_by_id=self.actor.id,
            created_at=self.at,
        )
        status = made["status"]
        info = StructureInfo(
            made["id"],
            made["id_type"],
            made["identifier"],
            made["raison_sociale"],
            made["public"],
            made["postal_code"],
            status,
            None,
            made["label"],
            made["email"],
            made["phone"],
            helios,
            made["service_code_required"],
            made["engagement_number_required"],
        )
        self.by_id[info.id] = info
        self.created.add(info.id, row.line)
        self.structures[(info.id_type, info.identifier)] = info
        self.services[info.id] = {}
        flag = self.db.flag
        self.new_structures.append(
            tuple(flag(v) if isinstance(v, bool) else v for v in map(made.get, STRUCTURE_COLUMNS))
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
        """STR-8 (checked by ``check_primary``): the named account, attached to the whole
        structure if it was not (HAB-3's defaults), becomes its primary manager with
        «Organisation modification», by the rules of ``granting``."""
        if self.attacher.state_of(manager.id, structure.id) == ABSENT:
            self.attach(manager, structure, set())
        if structure.primary_manager_id != manager.id:
            self.attacher.make_primary(manager.id, structure)

    def transfer(self, structure: StructureInfo, manager: AccountInfo) -> None:
        """STR-8, as ``structure transfer-primary``: the role moves, both accounts are
        mailed (SET-3), one audit row."""
        former = self.formers.get(structure.primary_manager_id)
        self.make_primary(structure, manager)
        about = {"identifier": structure.identifier, "raison_sociale": structure.raison_sociale}
        by = self.actor_email
        self.notify(manager, "primary_transferred_to", structure.public, by=by, **about)
        if former is not None:
            new = manager.login_email
            self.notify(
                former, "primary_transferred_from", structure.public, new=new, by=by, **about
            )
        self.audit(
            "structure.transfer_primary",
            structure.identifier,
            former=former.login_email if former else None,
            new=manager.login_email,
        )

    def update(
        self,
        existing: StructureInfo,
        values: dict[str, Any],
        data: dict[str, Any],
        manager: AccountInfo | None,
    ) -> str:
        changes = {  # what `structure update` edits: label, e-mail, phone, the settings
            name: values[name]
            for name in (*structures.EDITABLE, *structures.SETTINGS)
            if values.get(name) is not None and values[name] != getattr(existing, name)
        }
        public = values.get("public")
        if values["id_type"] != "SIRET" and public is not None and public != existing.public:
            changes["public"] = public
        if values.get("helios") and not existing.helios:
            changes["helios"] = True
        if changes:
            current = {name: getattr(existing, name) for name in UPDATED_COLUMNS[:-1]}
            current |= {
                "raison_sociale": existing.raison_sociale,
                "identifier": existing.identifier,
            }
            row = structures.updated_row(current, changes)  # what `structure update` writes
            for name in UPDATED_COLUMNS[:-1]:
                setattr(existing, name, row[name])
            flag = self.db.flag
            written = [flag(v) if isinstance(v, bool) else v for v in map(row.get, UPDATED_COLUMNS)]
            self.changed_structures.append((*written, existing.id))
            self.audit("structure.update", existing.identifier, fields=sorted(changes))
        moved = manager is not None and manager.id != existing.primary_manager_id
        if moved:
            self.transfer(existing, manager)
        return "updated" if changes or moved else "unchanged"

    def write(self) -> None:
        self.db.insert(
            "structure",
            STRUCTURE_COLUMNS,
            self.new_structures,
        )
        self.db.many(
            f"UPDATE structure SET {', '.join(f'{c} = ?' for c in UPDATED_COLUMNS)} WHERE id = ?",
            self.changed_structures,
        )
        self.new_structures, self.changed_structures = [], []
