"""The catalogue of habilitations (HAB-1, HAB-2), shipped as data.

Domains and their applications live in ``chorus_cli/data/habilitations.json``, read once
per process, when first asked (``CATALOGUE``, ``BY_CODE``…): a command that checks rights
without naming an application (``whoami``) does not read it. An application's ``code``
(``factures_emises``) is what the store keeps and scripts type; its ``name`` («Factures
émises») is the portal's label. A profile is an application and a level; ``modification``
includes ``consultation``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from chorus_cli.kernel.errors import BadInput
from chorus_cli.kernel.words import words

DATA_FILE = "habilitations.json"


@dataclass(frozen=True)
class Application:
    code: str
    name: str
    domain: str


# Fixed by the rules (HAB-2; the data file must say the same): known without reading it.
LEVELS: tuple[str, ...] = ("consultation", "modification")


class Loaded(NamedTuple):
    """The data file, read: each field is a name of this module too (``CATALOGUE``…)."""

    CATALOGUE: tuple[Application, ...]
    NOTIFYING: tuple[Application, ...]
    # (code, name, domain) triples in the catalogue's order: what the flows and the
    # seed walk through when they grant every application.
    APPLICATIONS: tuple[tuple[str, str, str], ...]
    BY_CODE: dict[str, Application]


@cache
def _load() -> Loaded:
    import json
    from importlib import resources

    text = resources.files("chorus_cli.data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    raw = json.loads(text)
    notifying = tuple(
        Application(app["code"], app["name"], "") for app in raw.get("notifications", ())
    )
    levels = tuple(raw["levels"])
    found = tuple(
        Application(app["code"], app["name"], domain["name"])
        for domain in raw["domains"]
        for app in domain["applications"]
    )
    codes = [app.code for app in found]
    # A broken data file must fail loudly here, not grant odd profiles later.
    if len(set(codes)) != len(codes) or "organisation" not in codes:
        raise RuntimeError(f"{DATA_FILE}: duplicate codes, or no «organisation» application")
    if levels != LEVELS:
        raise RuntimeError(f"{DATA_FILE}: levels must be consultation, modification")
    return Loaded(
        CATALOGUE=found,
        NOTIFYING=notifying,
        APPLICATIONS=tuple((app.code, app.name, app.domain) for app in found),
        BY_CODE={app.code: app for app in found},
    )


def __getattr__(name: str) -> object:
    """``CATALOGUE``, ``NOTIFYING``, ``APPLICATIONS``, ``BY_CODE``: read on first use."""
    if name not in Loaded._fields:
        raise AttributeError(name)
    return getattr(_load(), name)


def name(code: str) -> str:
    """The portal's name of an application code (the code itself if unknown)."""
    app = _load().BY_CODE.get(code)
    return app.name if app else code


def domain(code: str) -> str:
    app = _load().BY_CODE.get(code)
    return app.domain if app else ""


def profile_label(application: str, level: str) -> str:
    """The portal's name of a profile: «Organisation modification»."""
    return f"{name(application)} {level}"


def application(text: str) -> str:
    """The code of the application ``text`` names: its code (``factures_emises``,
    ``factures-emises``) or its name (``"factures émises"``), case and accents ignored;
    BadInput (exit 2, listing the codes) otherwise."""
    typed = (text or "").strip().lower().replace("-", "_")
    if typed in _load().BY_CODE:
        return typed
    spoken = words(text)
    for app in _load().CATALOGUE:
        if spoken and spoken == words(app.name):
            return app.code
    raise BadInput("hab1.unknown_application", app=text, codes=", ".join(_load().BY_CODE))


def notifier(text: str) -> str:
    """The code of the notifying application ``text`` names (SET-2), matched as
    ``application`` matches: code or name, case, accents and dashes ignored; BadInput
    (exit 2, listing the names) otherwise."""
    typed = (text or "").strip().lower().replace("-", "_")
    spoken = words(text)
    for app in _load().NOTIFYING:
        if typed == app.code or (spoken and spoken == words(app.name)):
            return app.code
    names = ", ".join(f"{app.code} («{app.name}»)" for app in _load().NOTIFYING)
    raise BadInput("set2.unknown_application", app=text, names=names)


def level(text: str) -> str:
    """``consultation`` or ``modification`` (any case); BadInput (exit 2) otherwise."""
    typed = (text or "").strip().lower()
    if typed not in LEVELS:
        raise BadInput("hab2.unknown_level", level=text, levels=", ".join(LEVELS))
    return typed


ROW_FIELDS = ("domain", "application", "name", "levels", "profiles")  # ``rows``', in order


def rows() -> list[dict[str, object]]:
    """The catalogue as ``habil catalogue`` shows it: one row per application."""
    return [
        {
            "domain": app.domain,
            "application": app.code,
            "name": app.name,
            "levels": list(LEVELS),
            "profiles": [profile_label(app.code, lvl) for lvl in LEVELS],
        }
        for app in _load().CATALOGUE
    ]
