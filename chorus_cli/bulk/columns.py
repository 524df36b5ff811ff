"""The columns of each flow kind, found by header name (OPS-1).

A column is named by its JSON field name (``login_email``) or by a French label as a
spreadsheet user writes it («Adresse e-mail», «Nom», «Prénom», «Téléphone», «SIRET»…);
case, accents, spaces and punctuation do not count. Columns that an export writes but an
import does not read (``status``, ``created_at``…) are skipped quietly, so an export
re-imports as it is; any other unknown column is named in a warning and ignored.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from chorus_cli.kernel.errors import BadInput

KINDS = ("accounts", "structures", "attachments")

_EMAIL = (
    "email",
    "e_mail",
    "mail",
    "courriel",
    "adresse_e_mail",
    "adresse_email",
    "adresse_mail",
    "adresse_electronique",
    "adresse_de_connexion",
    "adresse_e_mail_de_connexion",
    "adresse_electronique_de_connexion",
    "identifiant_de_connexion",
    "login",
)
_STRUCTURE = (
    "structure",
    "siret",
    "identifiant_structure",
    "identifiant_de_la_structure",
    "structure_identifier",
)
_SERVICES = ("services", "service", "code_service", "codes_services", "codes_service")
_PHONE = ("phone", "telephone", "tel", "numero_de_telephone")

ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "accounts": {
        "login_email": ("login_email", *_EMAIL),
        "last_name": ("last_name", "nom", "nom_de_famille", "nom_d_usage"),
        "first_name": ("first_name", "prenom", "prenoms"),
        "phone": _PHONE,
        "contact_email": (
            "contact_email",
            "adresse_de_contact",
            "e_mail_de_contact",
            "email_de_contact",
            "courriel_de_contact",
            "adresse_e_mail_de_contact",
        ),
        "workplace_address": (
            "workplace_address",
            "adresse_du_lieu_de_travail",
            "adresse_professionnelle",
            "lieu_de_travail",
        ),
        "biography": ("biography", "biographie"),
        "language": ("language", "langue"),
        "structure": _STRUCTURE,
        "services": _SERVICES,
    },
    "structures": {
        "id_type": ("id_type", "type_d_identifiant", "type_identifiant", "type"),
        "identifier": ("identifier", "identifiant", "siret", "numero", "numero_d_identification"),
        "raison_sociale": ("raison_sociale", "denomination", "nom"),
        "label": ("label", "libelle"),
        "email": ("email", "e_mail", "courriel", "adresse_e_mail", "adresse_electronique"),
        "phone": _PHONE,
        "public": ("public", "publique", "structure_publique", "entite_publique"),
        "helios": ("helios", "geree_dans_helios", "gere_dans_helios"),
        "service_code_required": (
            "service_code_required",
            "code_service_obligatoire",
            "code_service_doit_etre_renseigne",
        ),
        "engagement_number_required": (
            "engagement_number_required",
            "numero_d_engagement_obligatoire",
            "numero_ej_obligatoire",
            "numero_ej_doit_etre_renseigne",
        ),
        "primary_manager": (
            "primary_manager",
            "gestionnaire_principal",
            "gestionnaire",
        ),
    },
    "attachments": {
        "login_email": ("login_email", *_EMAIL),
        "structure": _STRUCTURE,
        "services": _SERVICES,
    },
}

MANDATORY = {
    "accounts": ("login_email", "last_name", "first_name"),
    "structures": ("identifier",),
    "attachments": ("login_email", "structure"),
}

# What `chorus bulk export` writes and an import does not read: skipped without a word.
EXPORTED_ONLY = {
    "accounts": ("status", "statut", "created_at", "activated_at", "to_complete", "photo"),
    "structures": (
        "status",
        "statut",
        "non_diffusible",
        "address",
        "adresse",
        "services",
        "created_at",
        "refusal_reason",
    ),
    "attachments": ("raison_sociale", "role", "scope", "status", "attached_at"),
}

# The label a spreadsheet user knows a field by, in messages about a missing column.
LABELS = {
    "login_email": "Adresse e-mail",
    "last_name": "Nom",
    "first_name": "Prénom",
    "identifier": "Identifiant",
    "structure": "SIRET",
}


def fold(name: str) -> str:
    """``Adresse e-mail`` → ``adresse_e_mail``; ``Prénom`` → ``prenom``."""
    decomposed = unicodedata.normalize("NFKD", name.strip().lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")


def _index(kind: str) -> dict[str, str]:
    return {alias: name for name, aliases in ALIASES[kind].items() for alias in aliases}


@dataclass
class Columns:
    """Which field each column of the file holds, and what was left out."""

    kind: str
    fields: dict[str, str]  # the file's column name -> field
    unknown: list[str]


def resolve(kind: str, names: list[str], display: str, require: bool = True) -> Columns:
    """Map the file's column names to fields. A CSV header lacking a mandatory column is
    refused naming it; two columns for one field are refused (BadInput, exit 2)."""
    if kind not in KINDS:
        raise BadInput("ops1.kind_unknown", kind=kind, kinds=", ".join(KINDS))
    index = _index(kind)
    quiet = set(EXPORTED_ONLY[kind])
    fields: dict[str, str] = {}
    unknown: list[str] = []
    seen: dict[str, str] = {}
    for name in names:
        folded = fold(name)
        field = index.get(folded)
        if field is None:
            if folded and folded not in quiet:
                unknown.append(name)
            continue
        if field in seen:
            raise BadInput("ops1.duplicate_column", file=display, first=seen[field], second=name)
        seen[field] = name
        fields[name] = field
    if require:
        missing = [f for f in MANDATORY[kind] if f not in seen]
        if missing:
            named = ", ".join(f"{f} (« {LABELS[f]} »)" for f in missing)
            raise BadInput(
                "ops1.missing_column", file=display, columns=named, kind=kind, count=len(missing)
            )
    return Columns(kind, fields, unknown)


def field_of(kind: str, name: str) -> str | None:
    """The field a JSON Lines key names, or None (unknown or exported only)."""
    return _index(kind).get(fold(name))


def exported_only(kind: str, name: str) -> bool:
    return fold(name) in EXPORTED_ONLY[kind]
