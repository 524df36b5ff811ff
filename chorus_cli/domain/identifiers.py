"""Structure identifiers (STR-1): each type's format, normalised and validated.

A structure is unique per (type, identifier), so every identifier is stored in one
canonical form, the one ``normalise`` returns:

==========================  ===============================================================
type                        canonical form (what is accepted)
==========================  ===============================================================
SIRET                       14 digits, Luhn checked, La Poste exception (python-stdnum);
                            spaces and dots are ignored: ``732 829 320 00074``.
UE_HORS_FRANCE              intra-EU VAT number with its country prefix, checked by
                            python-stdnum (``DE136695976``); a French one is refused: a
                            French entity is identified by its SIRET.
HORS_UE                     chosen: ``CC-NAME``: the ISO 3166-1 alpha-2 code of a country
                            outside the EU, a hyphen, then up to 16 characters of the
                            name, upper-cased, accents removed, spaces collapsed
                            (``us acme corp`` or ``US-Acme Corp`` give ``US-ACME CORP``).
                            A longer name is refused, never cut silently.
RIDET                       New Caledonia: 7-digit RID + 3-digit establishment rank, 10
                            digits (``1234567001``); the written form ``123456.001`` is
                            accepted, its RID padded with zeros to 7 digits.
TAHITI                      chosen: French Polynesia's numéro TAHITI, 6 characters (a
                            letter or digit, then 5 digits: ``C12345``), optionally
                            followed by the 3-digit establishment rank (``C12345001``).
EN_COURS_IMMATRICULATION    chosen: the reference of the registration file (guichet
PARTICULIER                 unique, receipt…), 3 to 40 letters, digits, ``-``, ``.``,
                            ``/``; upper-cased, spaces removed. The portal gives these
                            types no national number to check.
==========================  ===============================================================
"""

from __future__ import annotations

import re
import unicodedata

from chorus_cli.kernel.errors import BadInput

TYPES = (
    "SIRET",
    "UE_HORS_FRANCE",
    "HORS_UE",
    "RIDET",
    "TAHITI",
    "EN_COURS_IMMATRICULATION",
    "PARTICULIER",
)

# ISO 3166-1 alpha-2, the 249 officially assigned codes.
_ISO_3166 = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN
    BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
    DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL
    GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM
    JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
    MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP
    NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD
    SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
_EU = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
ISO_COUNTRIES = frozenset(_ISO_3166.split())
EU_MEMBERS = frozenset(_EU.split())
# Not "outside the EU" for Chorus Pro: these have their own identifier type.
OWN_TYPE = {
    **dict.fromkeys(EU_MEMBERS - {"FR"}, "UE_HORS_FRANCE"),
    # France, its outermost regions and the collectivities registered at SIRENE.
    **dict.fromkeys(("FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF"), "SIRET"),
    "NC": "RIDET",
    "PF": "TAHITI",
}
HORS_UE_NAME_MAX = 16
_HORS_UE = re.compile(r"^([A-Za-z]{2})\s*[-\s:]\s*(\S.*)$")
_HORS_UE_NAME = re.compile(r"^[A-Z0-9 &'.,/-]+$")
_TAHITI = re.compile(r"^[A-Z0-9]\d{5}(\d{3})?$")
_REFERENCE = re.compile(r"^[A-Z0-9][A-Z0-9./-]{2,39}$")


def _compact(value: str, drop: str = " .-") -> str:
    return "".join(c for c in value.strip() if c not in drop)


def _eu_vat(value: str) -> str:
    from stdnum.eu import vat
    from stdnum.exceptions import ValidationError

    try:
        number = vat.compact(value)
        if number[:2] == "FR":
            # Monaco shares the FR prefix; both are identified by SIRET in Chorus Pro.
            raise BadInput("str1.own_type", value=value, country="FR", use="SIRET")
        return vat.validate(number)
    except ValidationError:
        raise BadInput("str1.ue_hors_france", value=value) from None


def _plain_upper(value: str) -> str:
    """Upper-case ASCII: accents removed (``Société`` → ``SOCIETE``), spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", value)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(ascii_only.upper().split())


def _hors_ue(value: str) -> str:
    match = _HORS_UE.match(value.strip())
    if not match:
        raise BadInput("str1.hors_ue", value=value)
    country, name = match.group(1).upper(), _plain_upper(match.group(2))
    if country not in ISO_COUNTRIES:
        raise BadInput("str1.country_unknown", value=value, country=country)
    if country in OWN_TYPE:
        raise BadInput("str1.own_type", value=value, country=country, use=OWN_TYPE[country])
    if len(name) > HORS_UE_NAME_MAX:
        raise BadInput("str1.hors_ue_name_long", value=value, max=HORS_UE_NAME_MAX)
    if not _HORS_UE_NAME.match(name):
        raise BadInput("str1.hors_ue", value=value)
    return f"{country}-{name}"


def _ridet(value: str) -> str:
    text = value.strip().replace(" ", "")
    if "." in text:
        rid, _, rank = text.partition(".")
        if rid.isdigit() and len(rid) <= 7 and rank.isdigit() and len(rank) == 3:
            return rid.zfill(7) + rank
    elif text.isdigit() and len(text) == 10:
        return text
    raise BadInput("str1.ridet", value=value)


def _tahiti(value: str) -> str:
    text = _compact(value).upper()
    if not _TAHITI.match(text):
        raise BadInput("str1.tahiti", value=value)
    return text


def _reference(value: str, id_type: str) -> str:
    text = _compact(value, " ").upper()
    if not _REFERENCE.match(text):
        raise BadInput("str1.reference", value=value, id_type=id_type)
    return text


def normalise_type(id_type: str) -> str:
    """The identifier type in its canonical spelling (``siret`` → ``SIRET``)."""
    canonical = id_type.strip().upper().replace("-", "_")
    if canonical not in TYPES:
        raise BadInput("str1.type_unknown", id_type=id_type, types=", ".join(TYPES))
    return canonical


def normalise(id_type: str, value: str) -> str:
    """The canonical form of ``value`` as an identifier of ``id_type``; BadInput (exit 2,
    naming STR-1 and the expected format) when it is not one."""
    id_type = normalise_type(id_type)
    if not value or not value.strip():
        raise BadInput("str1.missing")
    if id_type == "SIRET":
        return validate_siret(value)
    if id_type == "UE_HORS_FRANCE":
        return _eu_vat(value)
    if id_type == "HORS_UE":
        return _hors_ue(value)
    if id_type == "RIDET":
        return _ridet(value)
    if id_type == "TAHITI":
        return _tahiti(value)
    return _reference(value, id_type)


def validate_siret(value: str) -> str:
    """The SIRET as 14 digits, checked with python-stdnum: Luhn, or La Poste's rule
    (SIREN 356000000, digit sum a multiple of 5). BadInput naming STR-1 otherwise. One
    SIRET check for the whole tool: structures, flows and the SIRENE register."""
    from stdnum import exceptions
    from stdnum.fr import siret as stdnum_siret

    try:
        return stdnum_siret.validate(value)
    except exceptions.InvalidLength:
        raise BadInput("str1.siret_length", value=value) from None
    except exceptions.InvalidFormat:
        raise BadInput("str1.siret_format", value=value) from None
    except exceptions.ValidationError:
        raise BadInput("str1.siret_checksum", value=value) from None


SHEET_SIRET_DIGITS = 13  # a SIRET stored as a number loses 1 zero at least, so 13 digits


def siret_from_sheet(value: str) -> tuple[str, bool]:
    """A SIRET as a spreadsheet may have kept it (OUT-4): ``validate_siret``'s 14 digits,
    or, for 13 digits or fewer that are a valid SIRET once padded with zeros to 14 (a
    spreadsheet that stored ``00552013500012`` as a number keeps ``552013500012``), the
    padded SIRET. The flag says zeros were put back (the caller warns); BadInput (STR-1)
    as ``validate_siret`` otherwise: one sentence for every kind of flow."""
    restored = _zeros_restored(value)
    if restored is not None:
        return restored, True
    return validate_siret(value), False


def _zeros_restored(value: str) -> str | None:
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= SHEET_SIRET_DIGITS):
        return None
    try:
        return validate_siret(text.zfill(14))
    except BadInput:
        return None


def other_number(value: str) -> str | None:
    """The type other than SIRET whose own number ``value`` is (RIDET, TAHITI), or None.
    In a column that may hold any type's identifier, such digits are that type's, not a
    SIRET that lost its leading zeros (OUT-4): one 10-digit RIDET in a hundred is a
    valid SIRET once padded with zeros."""
    for id_type in ("RIDET", "TAHITI"):
        try:
            normalise(id_type, value)
        except BadInput:
            continue
        return id_type
    return None


def candidates(value: str) -> list[tuple[str, str]]:
    """Every (type, identifier) that ``value`` can be: a command line names a structure by
    its identifier alone, and ``--id-type`` only when two types read it alike."""
    found = []
    for id_type in TYPES:
        try:
            found.append((id_type, normalise(id_type, value)))
        except BadInput:
            continue
    return found
