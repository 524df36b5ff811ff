"""The SIRENE register: INSEE's stock files as an offline index, and the Sirene API.

The mechanics only: the use cases (who may import, look up, search; the audit trail)
are in ``chorus_cli.domain.sirene``, which the structures domain asks for one
establishment by SIRET, with what a structure keeps of it (STR-2, STR-3).

- ``columns``: INSEE's layouts, the required columns, names and addresses (pure);
- ``reader``: the stock files (.csv or .zip), streamed, header checked first;
- ``build``: the offline index's import (load under new names, then swap; its tables:
  ``chorus_cli.store.sirene_tables``);
- ``index``: the offline index's reads (lookup by SIRET, search by name, status);
- ``api``: the INSEE Sirene API 3.11 and its key (keyring service ``chorus-insee``);
- ``update``: the index brought up to date from the API, a page per transaction;
- ``departments``: the fast pass over the lines of other départements, for an import
  that keeps only some (which départements exist is the domain's rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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


def sample_files() -> tuple[Path, Path]:
    """The bundled sample (StockEtablissement, StockUniteLegale): synthetic rows in the
    INSEE layout, for the demo and the tests."""
    folder = Path(__file__).resolve().parent.parent / "data" / "sirene"
    return (
        folder / "StockEtablissement_sample.csv",
        folder / "StockUniteLegale_sample.csv",
    )
