"""The SIRENE register: INSEE's stock files as an offline index, and the Sirene API.

The structures domain only needs ``lookup``: one establishment by SIRET, with what a
structure keeps of it (STR-2, STR-3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chorus_cli.store.uow import UnitOfWork


@dataclass(frozen=True)
class Establishment:
    """Établissement as SIRENE describes it."""

    siret: str
    siren: str
    nic: str
    raison_sociale: str  # denomination, or "NOM Prénom" for an individual
    active: bool  # etatAdministratifEtablissement == "A"
    non_diffusible: bool  # statutDiffusionEtablissement (or the unit's) is P or N
    public: bool  # categorieJuridiqueUniteLegale starts with 7 (public-law person)
    categorie_juridique: str | None = None
    # None whenever non_diffusible: no postal address is kept or shown (STR-3).
    address: str | None = None  # lines joined by "\n"
    postal_code: str | None = None
    commune: str | None = None
    country: str | None = None  # foreign country, when the establishment is abroad
    source: str = "index"  # index | api


def lookup(uow: UnitOfWork, siret: str) -> Establishment | None:
    """The establishment from the offline index, else from the INSEE API when a key is
    configured; None when neither knows it. Never a network call without a key."""
    raise NotImplementedError  # provided by the SIRENE work (issue 3)
