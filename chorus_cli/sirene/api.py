"""The INSEE Sirene API 3.11, for SIRETs the offline index does not know (STR-2).

Used only when an API key is configured (``chorus sirene configure-api``, kept in the
keyring under service ``chorus-insee``): without a key there is never a network call,
and httpx is not even imported.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from chorus_cli.kernel.errors import BadInput, ChorusError
from chorus_cli.sirene import Establishment, columns

if TYPE_CHECKING:
    import httpx

SERVICE = "chorus-insee"
ENTRY = "api-key"
DEFAULT_URL = "https://api.insee.fr/api-sirene/3.11"
URL_VARIABLE = "CHORUS_INSEE_API_URL"
TIMEOUT_VARIABLE = "CHORUS_INSEE_API_TIMEOUT"
DEFAULT_TIMEOUT = 10.0  # seconds to connect, and between two bytes of the answer
HEADER = "X-INSEE-Api-Key-Integration"


class Unavailable(ChorusError):
    """The API could not answer (timeout, 5xx, network, quota): exit 1."""

    exit_code = 1
    kind = "unavailable"


# --- the key ------------------------------------------------------------------------


def get_key() -> str | None:
    """The configured key, or None. A keyring that cannot answer (locked, broken) counts
    as no key: lookups then stay offline rather than fail."""
    from chorus_cli.store import keychain

    try:
        return keychain.backend().get_password(SERVICE, ENTRY) or None
    except Exception:  # keyring.errors.KeyringError and the backends' own errors
        return None


def set_key(key: str) -> None:
    from chorus_cli.store import keychain

    keychain.backend().set_password(SERVICE, ENTRY, key)


def delete_key() -> bool:
    """Forget the key; False when there was none."""
    import contextlib

    from chorus_cli.store import keychain

    backend = keychain.backend()
    if not backend.get_password(SERVICE, ENTRY):
        return False
    with contextlib.suppress(Exception):  # keyring's PasswordDeleteError: already gone
        backend.delete_password(SERVICE, ENTRY)
    return True


# --- the call -----------------------------------------------------------------------


def base_url() -> str:
    url = os.environ.get(URL_VARIABLE) or DEFAULT_URL
    if not url.startswith(("https://", "http://")):
        raise BadInput("str2.api_url_invalid", variable=URL_VARIABLE, url=url)
    return url.rstrip("/")


def timeout() -> float:
    """Seconds to connect, and between two bytes of an answer (``TIMEOUT_VARIABLE``)."""
    try:
        return max(0.05, float(os.environ.get(TIMEOUT_VARIABLE) or DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT


def fetch(siret: str, key: str) -> Establishment | None:
    """``GET {base}/siret/{siret}``: the establishment, or None when INSEE does not know
    it (404). A timeout or a 5xx is retried once; every other failure is one error."""
    import httpx

    seconds = timeout()
    url = f"{base_url()}/siret/{siret}"
    response = None
    with client(key) as http:
        for attempt in (1, 2):
            try:
                response = http.get(url)
            except httpx.TimeoutException:
                if attempt == 1:
                    continue
                raise Unavailable("str2.api_timeout", seconds=f"{seconds:g}") from None
            except httpx.HTTPError as exc:
                raise Unavailable("str2.api_unreachable", reason=reason(exc)) from None
            if response.status_code >= 500 and attempt == 1:
                continue
            break
    assert response is not None
    status = response.status_code
    if status == 404:
        return None
    if status == 401:
        raise BadInput("str2.api_key_refused", status=status)
    if status == 403:
        raise BadInput("str2.api_forbidden", siret=siret, status=status)
    if status == 429:
        raise Unavailable("str2.api_rate_limited")
    if status >= 500:
        raise Unavailable("str2.api_unavailable", status=status)
    if status != 200:
        raise Unavailable("str2.api_bad_response", status=status)
    try:
        return from_json(response.json())
    except (ValueError, KeyError, TypeError, AttributeError):
        raise Unavailable("str2.api_bad_response", status=status) from None


def client(key: str) -> httpx.Client:
    """An HTTP client of the API: the key in its header, JSON asked for, ``timeout()``."""
    import httpx

    headers = {HEADER: key, "Accept": "application/json"}
    return httpx.Client(timeout=httpx.Timeout(timeout()), headers=headers)


def reason(exc: Exception) -> str:
    """A network error in one line, for a message."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def from_json(data: dict[str, Any]) -> Establishment:
    """An establishment from the API's answer (``{"header": ..., "etablissement": ...}``)."""
    found = record(data["etablissement"])
    siret = found["siret"]
    return Establishment(
        siret=siret,
        siren=siret[:9],
        nic=siret[9:],
        raison_sociale=found["raison_sociale"],
        active=found["active"],
        non_diffusible=found["hidden"],
        public=columns.is_public(found["category"]),
        categorie_juridique=found["category"],
        address=found["address"],
        postal_code=found["postal_code"],
        commune=found["commune"],
        country=found["country"],
        source="api",
    )


def record(found: dict[str, Any]) -> dict[str, Any]:
    """What chorus keeps of one establishment of an API answer (``etablissement``, or
    one of ``etablissements``), its legal unit's fields included: the lookup and
    ``sirene update`` read answers alike. KeyError/TypeError on a malformed one."""
    unit = found.get("uniteLegale") or {}
    place = found.get("adresseEtablissement") or {}
    periods = found.get("periodesEtablissement") or []
    # The current period is the one without an end (INSEE lists it first).
    current = next((p for p in periods if not p.get("dateFin")), periods[0] if periods else {})
    state = current.get("etatAdministratifEtablissement") or found.get(
        "etatAdministratifEtablissement"
    )
    siret = str(found["siret"])
    if len(siret) != 14 or not siret.isdigit():
        raise ValueError(siret)
    unit_hidden = columns.non_diffusible(unit.get("statutDiffusionUniteLegale"))
    hidden = columns.non_diffusible(found.get("statutDiffusionEtablissement")) or unit_hidden
    category = columns.clean(unit.get("categorieJuridiqueUniteLegale")) or None
    sign = columns.sign(
        current.get("denominationUsuelleEtablissement"), current.get("enseigne1Etablissement")
    )
    name = columns.unit_name(
        unit.get("denominationUniteLegale"),
        unit.get("nomUniteLegale"),
        unit.get("prenom1UniteLegale"),
        unit.get("nomUsageUniteLegale"),
        unit.get("prenomUsuelUniteLegale"),
    )
    get = place.get
    address, postal, town, country = columns.place(
        hidden,
        get("complementAdresseEtablissement"),
        get("numeroVoieEtablissement"),
        get("indiceRepetitionEtablissement"),
        get("dernierNumeroVoieEtablissement"),
        get("typeVoieEtablissement"),
        get("libelleVoieEtablissement"),
        get("distributionSpecialeEtablissement"),
        get("codePostalEtablissement"),
        get("libelleCommuneEtablissement"),
        get("libelleCommuneEtrangerEtablissement"),
        get("libellePaysEtrangerEtablissement"),
    )
    return {
        "siret": siret,
        "name": name,
        "sign": sign,
        "raison_sociale": columns.known_as(name, sign),
        "category": category,
        "active": state == "A",
        "hidden": hidden,
        "unit_hidden": unit_hidden,
        "head": found.get("etablissementSiege") in (True, "true"),
        "address": address,
        "postal_code": postal,
        "commune": town,
        "country": country,
        # for the départements an import kept (not kept themselves)
        "commune_code": columns.clean(place.get("codeCommuneEtablissement")) or None,
        "any_postal_code": columns.clean(place.get("codePostalEtablissement")) or None,
    }
