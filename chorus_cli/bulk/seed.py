"""`chorus seed` (OPS-3): a realistic French store in seconds, the same for the same seed.

What it writes, set-based (one ``executemany``/``COPY`` per table and chunk, the
habilitations by one ``INSERT ... SELECT``):

- structures with valid SIRETs (Luhn), and their SIRENE entries (establishment, legal
  unit, search index) so that ``sirene lookup`` finds them: mostly companies, some
  associations, public structures (communes, water boards, hospitals: managed in Hélios)
  in a few departments, one non-diffusible (no address kept, STR-3); some services;
- accounts with French names, phones (E.164, as the store keeps them), workplace
  addresses, one tenth pending activation (their activation link mailed), the others
  active with one password (hashed once, printed once);
- every account attached to one structure with HAB-3's default profiles, the first one
  of each structure its primary manager with «Organisation modification» (STR-4, STR-8);
- some attachment requests pending with the structure's primary manager as approver.

Deterministic: every choice comes from ``random.Random(seed)`` drawing from Faker's
``fr_FR`` word lists, times count from a fixed date, ids from 1: the same ``--seed`` on an
empty store gives byte-identical exports with the same Faker release. The active
accounts' password is derived from the seed too (or read with ``--password-stdin``);
the activation tokens come from ``secrets``; neither appears in an export.

Chosen: seed fills an empty store only (no account, no structure yet): adding to real
data could clash with it and would not be reproducible. It creates no platform role, so
``chorus admin bootstrap`` works afterwards.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chorus_cli.domain import granting
from chorus_cli.domain import structures as structure_rules
from chorus_cli.domain.accounts import ACTIVATED_COLUMNS, activated_row, new_row
from chorus_cli.domain.links import LINK_TTL, PATHS
from chorus_cli.domain.secrets import hash_password, new_token, token_hash
from chorus_cli.domain.structures import STRUCTURE_COLUMNS as COLUMNS
from chorus_cli.kernel.errors import BadInput, RuleRefused
from chorus_cli.mail.outbox import MAIL_COLUMNS, new_message_id
from chorus_cli.mail.templates import render
from chorus_cli.store import sirene_tables as schema
from chorus_cli.store.sql import Sql

if TYPE_CHECKING:
    from chorus_cli.store.uow import UnitOfWork

MAX_ACCOUNTS = 1_000_000
MAX_STRUCTURES = 100_000
CHUNK = 5_000
BASE_TIME = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # every seeded time counts from here
PENDING_SHARE = 0.1  # accounts still to activate
REQUEST_SHARE = 0.02  # accounts with an attachment request waiting
PUBLIC_DEPARTMENTS = ("38", "69", "13", "59", "974")  # where the public structures are
SERVICES = (
    ("ACHATS", "Achats"),
    ("COMPTA", "Comptabilité"),
    ("RH", "Ressources humaines"),
    ("TECHNIQUE", "Services techniques"),
    ("DIRECTION", "Direction"),
)
PUBLIC_KINDS = (  # raison sociale pattern, legal category (7…: public law), domain word
    ("COMMUNE DE {city}", "7210", "mairie"),
    ("RÉGIE DES EAUX DE {city}", "7344", "eaux"),
    ("CENTRE HOSPITALIER DE {city}", "7364", "ch"),
)
# French numbers after the 0, in ranges the numbering plan gives out (ACC-1 accepts
# them: tests/test_seed.py checks): mobiles 06 and 07, geographic 01 to 05.
PHONE_PREFIXES = {
    True: ("60", "61", "62", "64", "65", "66", "67", "68", "73", "74", "75", "76", "77"),
    False: ("1", "20", "21", "22", "23", "24", "25", "3", "41", "42", "43", "44", "45",
            "46", "47", "48", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58"),
}  # fmt: skip
COMMENTS = (
    "Je rejoins le service comptable",
    "Nouvelle affectation au 1er du mois",
    "Je remplace une collègue partie en retraite",
    "Je traite les factures fournisseurs",
)


@dataclass
class SeedSummary:
    accounts: int
    structures: int
    services: int
    requests: int
    pending_accounts: int
    seed: int
    password: str  # printed once on stderr by the command, stored nowhere but hashed


@dataclass(slots=True)
class SeededStructure:
    """What the accounts, services and requests need of a structure, kept for all of
    them (up to 100,000): its SIRET and name go with the rows, not here."""

    id: int
    public: bool
    domain: str
    postal_code: str | None
    commune: str | None
    services: list[str]
    manager_id: int | None = None


def _plain(text: str) -> str:
    """``Hélène-Marie`` → ``helene-marie``: for e-mail addresses and domains."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c if c.isalnum() or c in ".-" else "-" for c in kept.replace(" ", "-"))


def luhn_digit(body: str) -> str:
    """The digit that makes ``body + digit`` pass Luhn (SIREN and SIRET, STR-1)."""
    total = 0
    for i, char in enumerate(reversed(body)):
        digit = int(char) * (2 if i % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return str((10 - total % 10) % 10)


class Seeder:
    def __init__(self, uow: UnitOfWork, seed: int) -> None:
        from faker.providers.address.fr_FR import Provider as Address
        from faker.providers.person.fr_FR import Provider as Person

        self.uow = uow
        self.db = Sql(uow)
        self.draw = random.Random(seed)
        self.first_names = Person.first_names_female + Person.first_names_male
        self.last_names = Person.last_names
        self.streets = Address.street_prefixes
        self.city_suffixes = Address.city_suffixes
        self.departments = [code for code, _name in Address.departments]
        self.company_suffixes = ("SAS", "SARL", "SA", "ET FILS")
        self.sirens: set[str] = set()

    # --- drawing ---------------------------------------------------------------------

    def city(self) -> str:
        last = self.draw.choice(self.last_names)
        suffix = self.draw.choice(self.city_suffixes)
        return (last + (suffix if suffix.startswith("-") else f"-{suffix}")).upper()

    def postal_code(self, department: str) -> str:
        if department == "2A":
            return f"20{self.draw.randint(0, 190):03d}"
        if department == "2B":
            return f"20{self.draw.randint(200, 620):03d}"
        if len(department) == 3:
            return f"{department}{self.draw.randint(0, 99):02d}"
        return f"{department}{self.draw.randint(0, 999):03d}"

    def siret(self) -> str:
        while True:
            body = f"{self.draw.randint(1, 9)}{self.draw.randint(0, 9_999_999):07d}"
            siren = body + luhn_digit(body)
            if siren != "356000000" and siren not in self.sirens:  # La Poste's rule aside
                self.sirens.add(siren)
                break
        nic = f"{self.draw.randint(1, 9999):04d}"
        return siren + nic + luhn_digit(siren + nic)

    def phone(self) -> str | None:
        """None, a mobile or a geographic number, as E.164."""
        roll = self.draw.random()
        if roll < 0.3:
            return None
        prefix = self.draw.choice(PHONE_PREFIXES[roll < 0.65])
        rest = 9 - len(prefix)
        return f"+33{prefix}{self.draw.randint(0, 10**rest - 1):0{rest}d}"

    # --- structures --------------------------------------------------------------------

    def structures(self, count: int, first_id: int) -> Iterator[tuple[SeededStructure, dict]]:
        public_every = max(count // 10, 1)  # about a tenth are public entities
        for k in range(count):
            department = self.draw.choice(self.departments)
            hidden = k == 1  # one non-diffusible structure (STR-3)
            if k % public_every == 0:
                pattern, category, word = self.draw.choice(PUBLIC_KINDS)
                department = PUBLIC_DEPARTMENTS[(k // public_every) % len(PUBLIC_DEPARTMENTS)]
                city = self.city()
                name = pattern.format(city=city)
                domain = f"{word}-{_plain(city)}.fr"
            elif k % 17 == 5:
                last = self.draw.choice(self.last_names).upper()
                name, category = f"ASSOCIATION DES AMIS DE {last}", "9220"
                domain = f"asso-{_plain(last)}.fr"
            else:
                last = self.draw.choice(self.last_names).upper()
                suffix = self.draw.choice(self.company_suffixes)
                name, category = f"{last} {suffix}", "5710" if suffix == "SAS" else "5499"
                domain = f"{_plain(last)}-{_plain(suffix)}.fr"
            city = self.city()
            postal = self.postal_code(department)
            street = (
                f"{self.draw.randint(1, 120)} {self.draw.choice(self.streets).upper()}"
                f" {self.draw.choice(self.last_names).upper()}"
            )
            codes = [code for code, _label in SERVICES if self.draw.random() < 0.3]
            label = self.draw.choice((None, None, "Siège", "Direction générale"))
            public = category.startswith("7")
            siret = self.siret()
            seeded = SeededStructure(
                first_id + k,
                public,
                domain,
                None if hidden else postal,
                None if hidden else city,
                codes,
            )
            yield (
                seeded,
                {
                    "category": category,
                    "label": label,
                    "address": None if hidden else street,
                    "hidden": hidden,
                    "helios": public,
                    "postal": postal,
                    "city": city,
                    "siret": siret,
                    "name": name,
                },
            )

    # --- accounts ----------------------------------------------------------------------

    def account(self, i: int, place: SeededStructure) -> dict[str, Any]:
        first = self.draw.choice(self.first_names)
        last = self.draw.choice(self.last_names)
        login = f"{_plain(first)}.{_plain(last)}.{i + 1}@{place.domain}"
        address = None
        if place.postal_code and self.draw.random() < 0.3:
            address = f"{self.draw.randint(1, 120)} {self.draw.choice(self.streets)} "
            address += f"{self.draw.choice(self.last_names)}, {place.postal_code} {place.commune}"
        return {
            "login": login,
            "first": first,
            "last": last,
            "phone": self.phone(),
            "address": address,
            "language": "en" if self.draw.random() < 0.05 else "fr",
            "pending": self.draw.random() < PENDING_SHARE,
        }


def check_sizes(accounts: int, structures: int) -> None:
    """OPS-3's bounds: 0 to 1,000,000 accounts, 0 to 100,000 structures, and enough
    accounts for each structure to have its primary manager."""
    if not 0 <= accounts <= MAX_ACCOUNTS:
        raise BadInput("ops3.accounts", max=MAX_ACCOUNTS)
    if not 0 <= structures <= MAX_STRUCTURES:
        raise BadInput("ops3.structures", max=MAX_STRUCTURES)
    if structures > accounts:
        raise BadInput("ops3.managers", structures=structures, accounts=accounts)
    if accounts and not structures:
        raise BadInput("ops3.no_structure")


PASSWORD_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def seed_password(seed: int) -> str:
    """The active accounts' one password, derived from the seed (OPS-3: the same seed,
    the same data, on any machine): made-up data for developers, as the rest is.
    ACC-5 holds whatever the draw: long, both cases, a digit and a sign."""
    draw = random.Random(f"chorus-seed-password-{seed}")
    middle = "".join(draw.choice(PASSWORD_ALPHABET) for _ in range(12))
    return f"Seed-{middle}-7a"


def run(
    uow: UnitOfWork, *, accounts: int, structures: int, seed: int, password: str | None = None
) -> SeedSummary:
    """OPS-3: fill an empty store with ``accounts`` accounts over ``structures``
    structures, reproducibly from ``seed``; audited as ``system``. ``password``: the
    active accounts' password (ACC-5's general rules checked), else derived from the
    seed."""
    from chorus_cli.domain import passwords

    check_sizes(accounts, structures)
    if password is not None:
        password = passwords.check(password, login_email="", first_name="", last_name="")
    db = Sql(uow)
    held = db.rows("SELECT (SELECT count(*) FROM account) + (SELECT count(*) FROM structure)")
    if held[0][0]:
        raise RuleRefused("ops3.not_empty")
    seeder = Seeder(uow, seed)
    if password is None:
        password = seed_password(seed)
    digest = hash_password(password)  # once, for every active account
    # The tables the seed fills that start empty (no account, no structure: nothing
    # refers to them either), so their plain indexes are built once the rows are in;
    # the SIRENE index, the mails and the audit may hold rows already: theirs are kept.
    filled = (
        "structure", "account", "attachment", "habilitation", "service",
        "attachment_request", "link_token",
    )  # fmt: skip
    with db.big_cache(8192), db.indexes_after(filled):  # 8 MiB: faster inserts, memory flat
        account_ids = db.next_ids("account", accounts)
        structure_ids = db.next_ids("structure", structures)
        places = _write_structures(seeder, db, structure_ids[0] if structures else 1, structures)
        seeder.sirens.clear()  # drawn: no longer needed
        pending = _write_accounts(seeder, db, account_ids, places, digest)
        services = _write_services(db, places)
        requests = _write_requests(seeder, db, account_ids, places, pending)
    uow.audit(
        "system",
        "seed",
        "store",
        accounts=accounts,
        structures=structures,
        seed=seed,
        requests=requests,
    )
    return SeedSummary(accounts, structures, services, requests, len(pending), seed, password)


def _at(db: Sql, seconds: int) -> Any:
    return db.time(BASE_TIME + timedelta(seconds=seconds))


def _write_structures(seeder: Seeder, db: Sql, first_id: int, count: int) -> list[SeededStructure]:
    """The structures (no primary manager yet) and their SIRENE entries."""
    places: list[SeededStructure] = []
    rows, establishments, units = [], [], []
    yes, no, flag = db.flag(True), db.flag(False), db.flag
    for place, extra in seeder.structures(count, first_id):
        places.append(place)
        row = structure_rules.new_row(  # the columns `structure create` fills
            id=place.id,
            id_type="SIRET",
            identifier=extra["siret"],
            data={
                "raison_sociale": extra["name"],
                "public": place.public,
                "non_diffusible": extra["hidden"],
                "address": extra["address"],
                "postal_code": place.postal_code,
                "commune": place.commune,
                "country": None,
            },
            label=extra["label"],
            email=None,
            phone=None,
            helios=extra["helios"],
            created_by_id=None,  # seeded, by nobody
            created_at=_at(db, place.id),
        )
        rows.append(tuple(flag(v) if isinstance(v, bool) else v for v in map(row.get, COLUMNS)))
        establishments.append(
            (
                int(extra["siret"]),
                extra["name"],
                extra["label"].upper() if extra["label"] else None,
                extra["category"],
                yes,
                yes if extra["hidden"] else no,
                yes,
                None if extra["hidden"] else extra["address"],
                None if extra["hidden"] else extra["postal"],
                None if extra["hidden"] else extra["city"],
                None,
            )
        )
        units.append((int(extra["siret"][:9]), extra["name"], extra["category"], no))
        if len(rows) >= CHUNK:
            _flush_structures(db, rows, establishments, units)
            rows, establishments, units = [], [], []
    _flush_structures(db, rows, establishments, units)
    return places


def _flush_structures(db: Sql, rows: list, establishments: list, units: list) -> None:
    db.insert("structure", COLUMNS, rows)
    db.insert(
        schema.ESTABLISHMENT,
        (
            "siret",
            "raison_sociale",
            "enseigne",
            "categorie_juridique",
            "active",
            "non_diffusible",
            "siege",
            "address",
            "postal_code",
            "commune",
            "country",
        ),
        establishments,
    )
    db.insert(
        schema.UNIT, ("siren", "raison_sociale", "categorie_juridique", "non_diffusible"), units
    )
    if db.sqlite:  # the search index (PostgreSQL's follows its table by itself)
        db.insert(
            schema.FTS,
            ("rowid", "name", "sign"),
            [
                (siret, name.replace("[ND]", ""), None if sign == name else sign)
                for siret, name, sign, *_rest in establishments
            ],
        )


def _write_accounts(
    seeder: Seeder, db: Sql, ids: list[int], places: list[SeededStructure], digest: str
) -> list[int]:
    """The accounts, each attached to one structure, chunk by chunk; then the primary
    managers and everyone's default profiles (HAB-3) set-based. Returns the pending ids."""
    settings = seeder.uow.settings
    link_base = f"{settings.base_url}/{PATHS['activate']}?token="
    senders = {False: settings.sender, True: settings.public_sender}
    now = seeder.uow.clock.now()  # the links' lifetime is real: they must work today
    made, expires = db.time(now), db.time(now + LINK_TTL)
    pending: list[int] = []
    rows, attached, links, mails = [], [], [], []
    for i, account_id in enumerate(ids):
        place = places[i] if i < len(places) else places[seeder.draw.randrange(len(places))]
        if i < len(places):
            place.manager_id = account_id  # the first account of a structure manages it
        drawn = seeder.account(i, place)
        created = _at(db, 86_400 + i)
        waiting = drawn["pending"] and place.manager_id != account_id
        row = new_row(  # the columns `account create` fills (ACC-1, ACC-3)
            account_id,
            drawn["login"],
            None,
            drawn["first"],
            drawn["last"],
            drawn["phone"],
            drawn["language"],
            created,
            False,
            drawn["address"],
        )
        rows.append(
            activated_row(row, None, None)
            if waiting
            else activated_row(row, digest, _at(db, 90_000 + i))
        )
        attached.append((account_id, place.id, created))
        if waiting:
            pending.append(account_id)
            token = new_token()
            links.append((token_hash(token), "activate", account_id, made, expires))
            subject, body, redacted = render(
                "activation",
                drawn["language"],
                first_name=drawn["first"],
                last_name=drawn["last"],
                login_email=drawn["login"],
                link=link_base + token,
            )
            sender = senders[place.public]
            mails.append((drawn["login"], sender, subject, body, redacted, "activation", made))
        if len(rows) >= CHUNK:
            _flush_accounts(db, rows, attached, links, mails)
            rows, attached, links, mails = [], [], [], []
    _flush_accounts(db, rows, attached, links, mails)
    for start in range(0, len(places), CHUNK):  # a chunk at a time: memory stays flat
        db.many(
            "UPDATE structure SET primary_manager_id = ?, created_by_id = ? WHERE id = ?",
            [(p.manager_id, p.manager_id, p.id) for p in places[start : start + CHUNK]],
        )
    # HAB-3's defaults, the primary manager's for the first account (STR-4): the levels
    # are ``granting``'s, as for a command or a flow; the SQL only picks one of the two.
    apps = ", ".join(
        f"('{code}', '{member}', '{manager}')"
        for (code, member), (_code, manager) in zip(
            granting.defaults(manager=False), granting.defaults(manager=True), strict=True
        )
    )
    db.execute(
        f"WITH apps(code, member, manager) AS (VALUES {apps})"
        " INSERT INTO habilitation (account_id, structure_id, service_id, application, level,"
        " granted_at)"
        " SELECT a.account_id, a.structure_id, NULL, apps.code,"
        " CASE WHEN s.primary_manager_id = a.account_id THEN apps.manager ELSE apps.member END,"
        " a.created_at"
        " FROM attachment a JOIN structure s ON s.id = a.structure_id CROSS JOIN apps"
        " ORDER BY a.account_id"
    )
    return pending


def _flush_accounts(db: Sql, rows: list, attached: list, links: list, mails: list) -> None:
    db.insert("account", ACTIVATED_COLUMNS, rows)
    db.insert("attachment", ("account_id", "structure_id", "created_at"), attached)
    db.insert(
        "link_token", ("token_hash", "purpose", "account_id", "created_at", "expires_at"), links
    )
    # SEC-8: a Message-ID from the start.
    db.insert("mail", MAIL_COLUMNS, [(*m, "pending", new_message_id(m[1])) for m in mails])


def _write_services(db: Sql, places: list[SeededStructure]) -> int:
    count = 0
    for start in range(0, len(places), CHUNK):  # a chunk at a time: memory stays flat
        rows = [
            (place.id, code, label, db.flag(True), _at(db, place.id))
            for place in places[start : start + CHUNK]
            for code, label in SERVICES
            if code in place.services
        ]
        db.insert("service", ("structure_id", "code", "label", "active", "created_at"), rows)
        count += len(rows)
    return count


def _write_requests(
    seeder: Seeder, db: Sql, ids: list[int], places: list[SeededStructure], pending: list[int]
) -> int:
    """Some active accounts ask to join a second structure; its primary manager is the
    approver (ATT-1, ATT-3)."""
    if len(places) < 2:
        return 0
    waiting = set(pending)
    rows = []
    for n, account_id in enumerate(ids):
        if account_id in waiting or seeder.draw.random() >= REQUEST_SHARE:
            continue
        place = places[seeder.draw.randrange(len(places))]
        if place.manager_id == account_id:
            continue
        rows.append(
            (
                account_id,
                place.id,
                "structure",
                "pending",
                seeder.draw.choice(COMMENTS),
                place.manager_id,
                _at(db, 200_000 + n),
            )
        )
    # One pending request per account and structure (ATT-1): an account already attached
    # to the structure it asks for is left out, by the store itself.
    db.insert(
        "attachment_request",
        ("account_id", "structure_id", "type", "status", "comment", "approver_id", "created_at"),
        rows,
    )
    db.execute(
        "DELETE FROM attachment_request WHERE status = 'pending' AND EXISTS (SELECT 1 FROM"
        " attachment a WHERE a.account_id = attachment_request.account_id"
        " AND a.structure_id = attachment_request.structure_id)"
    )
    return db.rows("SELECT count(*) FROM attachment_request")[0][0]
