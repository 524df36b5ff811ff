"""The SIRENE register: INSEE's stock files as an offline index, and the Sirene API.

The structures domain only needs ``lookup``: one establishment by SIRET, with what a
structure keeps of it (STR-2, STR-3).

- ``columns``: INSEE's layouts, the required columns, names and addresses (pure);
- ``reader``: the stock files (.csv or .zip), streamed, header checked first;
- ``schema`` / ``index``: the offline index, its import (load, then swap) and reads;
- ``api``: the INSEE Sirene API 3.11 and its key (keyring service ``chorus-insee``);
- ``service``: the use cases behind ``chorus sirene`` (who may, audit).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
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
    configured; None when neither knows it. Never a network call without a key.

    ``siret`` is checked first (STR-1: BadInput, exit 2, naming the reason); spaces are
    allowed. The API can fail with one clear error (key refused: exit 2; timeout after
    a retry, 5xx, network: exit 1).
    """
    from chorus_cli.sirene import api, index

    siret = validate_siret(siret)
    found = index.find(uow, siret)
    if found is not None:
        return found
    key = api.get_key()
    if key is None:
        return None
    return api.fetch(siret, key)


def validate_siret(value: str) -> str:
    """The SIRET as 14 digits, checked with python-stdnum: Luhn, or La Poste's rule
    (SIREN 356000000, digit sum a multiple of 5). BadInput naming STR-1 otherwise."""
    from stdnum import exceptions
    from stdnum.fr import siret as stdnum_siret

    from chorus_cli.domain.errors import BadInput

    try:
        return stdnum_siret.validate(value)
    except exceptions.InvalidLength:
        raise BadInput("str1.siret_length", value=value) from None
    except exceptions.InvalidFormat:
        raise BadInput("str1.siret_format", value=value) from None
    except exceptions.ValidationError:
        raise BadInput("str1.siret_checksum", value=value) from None


def sample_files() -> tuple[Path, Path]:
    """The bundled sample (StockEtablissement, StockUniteLegale): synthetic rows in the
    INSEE layout, for the demo and the tests."""
    folder = Path(__file__).resolve().parent.parent / "data" / "sirene"
    return (
        folder / "StockEtablissement_sample.csv",
        folder / "StockUniteLegale_sample.csv",
    )
