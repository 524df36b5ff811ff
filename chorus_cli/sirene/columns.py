"""INSEE's stock-file layouts, and what chorus keeps of a row (STR-2, STR-3).

Columns are found by header name: INSEE adds and reorders columns between releases
(``dernierNumeroVoieEtablissement``, the Lambert coordinates, the NAF 2025 codes...),
so an unknown column is ignored and only a missing *required* column is an error.
The functions here are pure: the stock-file reader and the API client share them.
"""

from __future__ import annotations

# The layouts as published (StockEtablissement / StockUniteLegale, 2025). Only tests,
# the bundled sample and the benchmark write files with them; reading goes by name.
ETABLISSEMENT_HEADER: tuple[str, ...] = (
    "siren",
    "nic",
    "siret",
    "statutDiffusionEtablissement",
    "dateCreationEtablissement",
    "trancheEffectifsEtablissement",
    "anneeEffectifsEtablissement",
    "activitePrincipaleRegistreMetiersEtablissement",
    "dateDernierTraitementEtablissement",
    "etablissementSiege",
    "nombrePeriodesEtablissement",
    "complementAdresseEtablissement",
    "numeroVoieEtablissement",
    "indiceRepetitionEtablissement",
    "dernierNumeroVoieEtablissement",
    "indiceRepetitionDernierNumeroVoieEtablissement",
    "typeVoieEtablissement",
    "libelleVoieEtablissement",
    "codePostalEtablissement",
    "libelleCommuneEtablissement",
    "libelleCommuneEtrangerEtablissement",
    "distributionSpecialeEtablissement",
    "codeCommuneEtablissement",
    "codeCedexEtablissement",
    "libelleCedexEtablissement",
    "codePaysEtrangerEtablissement",
    "libellePaysEtrangerEtablissement",
    "identifiantAdresseEtablissement",
    "coordonneeLambertAbscisseEtablissement",
    "coordonneeLambertOrdonneeEtablissement",
    "complementAdresse2Etablissement",
    "numeroVoie2Etablissement",
    "indiceRepetition2Etablissement",
    "typeVoie2Etablissement",
    "libelleVoie2Etablissement",
    "codePostal2Etablissement",
    "libelleCommune2Etablissement",
    "libelleCommuneEtranger2Etablissement",
    "distributionSpeciale2Etablissement",
    "codeCommune2Etablissement",
    "codeCedex2Etablissement",
    "libelleCedex2Etablissement",
    "codePaysEtranger2Etablissement",
    "libellePaysEtranger2Etablissement",
    "dateDebut",
    "etatAdministratifEtablissement",
    "enseigne1Etablissement",
    "enseigne2Etablissement",
    "enseigne3Etablissement",
    "denominationUsuelleEtablissement",
    "activitePrincipaleEtablissement",
    "nomenclatureActivitePrincipaleEtablissement",
    "caractereEmployeurEtablissement",
    "activitePrincipaleNAF25Etablissement",
)

UNITE_LEGALE_HEADER: tuple[str, ...] = (
    "siren",
    "statutDiffusionUniteLegale",
    "unitePurgeeUniteLegale",
    "dateCreationUniteLegale",
    "sigleUniteLegale",
    "sexeUniteLegale",
    "prenom1UniteLegale",
    "prenom2UniteLegale",
    "prenom3UniteLegale",
    "prenom4UniteLegale",
    "prenomUsuelUniteLegale",
    "pseudonymeUniteLegale",
    "identifiantAssociationUniteLegale",
    "trancheEffectifsUniteLegale",
    "anneeEffectifsUniteLegale",
    "dateDernierTraitementUniteLegale",
    "nombrePeriodesUniteLegale",
    "categorieEntreprise",
    "anneeCategorieEntreprise",
    "dateDebut",
    "etatAdministratifUniteLegale",
    "nomUniteLegale",
    "nomUsageUniteLegale",
    "denominationUniteLegale",
    "denominationUsuelle1UniteLegale",
    "denominationUsuelle2UniteLegale",
    "denominationUsuelle3UniteLegale",
    "categorieJuridiqueUniteLegale",
    "activitePrincipaleUniteLegale",
    "nomenclatureActivitePrincipaleUniteLegale",
    "nicSiegeUniteLegale",
    "economieSocialeSolidaireUniteLegale",
    "societeMissionUniteLegale",
    "caractereEmployeurUniteLegale",
    "activitePrincipaleNAF25UniteLegale",
)

# What an establishment row must have. The address columns are required too: without
# one of them every address would silently lose a part.
ETABLISSEMENT_REQUIRED: tuple[str, ...] = (
    "siret",
    "statutDiffusionEtablissement",
    "etatAdministratifEtablissement",
    "complementAdresseEtablissement",
    "numeroVoieEtablissement",
    "indiceRepetitionEtablissement",
    "typeVoieEtablissement",
    "libelleVoieEtablissement",
    "distributionSpecialeEtablissement",
    "codePostalEtablissement",
    "libelleCommuneEtablissement",
    "libelleCommuneEtrangerEtablissement",
    "libellePaysEtrangerEtablissement",
)
# Used when present.
ETABLISSEMENT_OPTIONAL: tuple[str, ...] = (
    "dernierNumeroVoieEtablissement",
    "etablissementSiege",
    "enseigne1Etablissement",
    "denominationUsuelleEtablissement",
)

UNITE_LEGALE_REQUIRED: tuple[str, ...] = (
    "siren",
    "statutDiffusionUniteLegale",
    "denominationUniteLegale",
    "nomUniteLegale",
    "prenom1UniteLegale",
    "categorieJuridiqueUniteLegale",
)
UNITE_LEGALE_OPTIONAL: tuple[str, ...] = (
    "nomUsageUniteLegale",
    "prenomUsuelUniteLegale",
)

# INSEE's marker for a field withheld from a partially diffusible unit.
MASKED = "[ND]"
NON_DIFFUSIBLE = frozenset({"P", "N"})  # O = diffusible
DIFFUSION = frozenset({"O", "P", "N"})
ADMINISTRATIVE_STATE = frozenset({"A", "F"})  # active / fermé

# typeVoie codes of the INSEE layout, spelt out; other values (recent files carry some
# free text) are kept as they are.
STREET_TYPES = {
    "ALL": "ALLEE",
    "AV": "AVENUE",
    "BD": "BOULEVARD",
    "CAR": "CARREFOUR",
    "CHE": "CHEMIN",
    "CHS": "CHAUSSEE",
    "CITE": "CITE",
    "COR": "CORNICHE",
    "CRS": "COURS",
    "DOM": "DOMAINE",
    "DSC": "DESCENTE",
    "ECA": "ECART",
    "ESP": "ESPLANADE",
    "FG": "FAUBOURG",
    "GR": "GRANDE RUE",
    "HAM": "HAMEAU",
    "HLE": "HALLE",
    "IMP": "IMPASSE",
    "LD": "LIEU-DIT",
    "LOT": "LOTISSEMENT",
    "MAR": "MARCHE",
    "MTE": "MONTEE",
    "PAS": "PASSAGE",
    "PL": "PLACE",
    "PLN": "PLAINE",
    "PLT": "PLATEAU",
    "PRO": "PROMENADE",
    "PRV": "PARVIS",
    "QUA": "QUARTIER",
    "QUAI": "QUAI",
    "RES": "RESIDENCE",
    "RLE": "RUELLE",
    "ROC": "ROCADE",
    "RPT": "ROND-POINT",
    "RTE": "ROUTE",
    "RUE": "RUE",
    "SEN": "SENTIER",
    "SQ": "SQUARE",
    "TPL": "TERRE-PLEIN",
    "TRA": "TRAVERSE",
    "VLA": "VILLA",
    "VLGE": "VILLAGE",
}


def clean(value: str | None) -> str:
    """A field as chorus keeps it: trimmed, and empty when INSEE withheld it."""
    if not value:
        return ""
    value = value.strip()
    return "" if value == MASKED else value


Place = tuple[str | None, str | None, str | None, str | None]
NOWHERE: Place = (None, None, None, None)


def place(
    hidden: bool,
    complement: str | None,
    numero: str | None,
    indice: str | None,
    dernier: str | None,
    type_voie: str | None,
    libelle: str | None,
    distribution: str | None,
    postal: str | None,
    town: str | None,
    abroad: str | None,
    country: str | None,
) -> Place:
    """What chorus keeps of an establishment's address, from INSEE's fields (a stock
    file's row or an API answer alike): (address, postal code, commune, country).

    The address is the lines above the postal-code line, AFNOR order, joined by
    newlines (``12-14 B AVENUE DE LA REPUBLIQUE``: numbers, repetition, street type
    spelt out, street name). Abroad: the foreign commune and country, no postal code.
    A non-diffusible establishment (``hidden``) keeps none of it (STR-3)."""
    if hidden:
        return NOWHERE
    # ``x and clean(x)``: most fields are empty, and an empty one stays falsy.
    number = numero and clean(numero)
    last = dernier and clean(dernier)
    if number and last and last != number:
        number = f"{number}-{last}"
    kind = type_voie and clean(type_voie)
    if kind:
        kind = STREET_TYPES.get(kind.upper(), kind)
    street = " ".join(
        [
            part
            for part in (number, indice and clean(indice), kind, libelle and clean(libelle))
            if part
        ]
    )
    lines = [
        line
        for line in (complement and clean(complement), street, distribution and clean(distribution))
        if line
    ]
    address = "\n".join(lines) or None
    foreign = abroad and clean(abroad)
    if foreign:
        return address, None, foreign, (country and clean(country)) or None
    return address, (postal and clean(postal)) or None, (town and clean(town)) or None, None


def sign(usual: str | None, first: str | None) -> str | None:
    """The establishment's own name: its usual denomination, else its first enseigne."""
    return clean(usual) or clean(first) or None


def known_as(unit_name: str, sign: str | None) -> str:
    """The raison sociale an establishment is known by (STR-2): its legal unit's name,
    else (a unit with no name left: purged by INSEE, or not in the index) its own name
    (``sign``). The import, the lookup and ``sirene update`` all choose it here."""
    return unit_name or sign or ""


def non_diffusible(status: str | None) -> bool:
    """statutDiffusion P (partially) or N (not diffusible): no address kept (STR-3)."""
    return status in NON_DIFFUSIBLE


def unit_name(
    denomination: str | None,
    nom: str | None,
    prenom: str | None,
    nom_usage: str | None = None,
    prenom_usuel: str | None = None,
) -> str:
    """Raison sociale: the denomination, else ``NOM Prénom`` for an individual; ``[ND]``
    when INSEE withholds the name of a partially diffusible person."""
    name = clean(denomination)
    if name:
        return name
    surname = clean(nom_usage) or clean(nom)
    first = clean(prenom_usuel) or clean(prenom)
    name = " ".join(part for part in (surname, first) if part)
    if name:
        return name
    withheld = any((v or "").strip() == MASKED for v in (denomination, nom, nom_usage))
    return MASKED if withheld else ""


def is_public(categorie_juridique: str | None) -> bool:
    """A legal category starting with 7 is a public-law legal person (STR-6)."""
    return bool(categorie_juridique) and categorie_juridique.startswith("7")
