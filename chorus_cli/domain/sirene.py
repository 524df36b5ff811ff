"""SIRENE use cases (STR-2): the register as the structures domain and ``chorus sirene``
use it; ``chorus_cli.sirene`` holds the mechanics (the index, its reader, the API).

Reading the register (``lookup``, ``search``) needs a session, like every command that
models the portal; replacing the offline index and configuring the INSEE API key are
operator tasks, for the admin and support roles (HAB-6: exit 4 otherwise, ``authz``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chorus_cli.domain import authz
from chorus_cli.domain.identifiers import validate_siret
from chorus_cli.kernel.errors import BadInput, NotFound
from chorus_cli.kernel.words import content_words, words
from chorus_cli.store.listing import Page, Window, cut

if TYPE_CHECKING:
    from chorus_cli.sirene import Establishment
    from chorus_cli.sirene.build import IndexProgress, IndexSummary
    from chorus_cli.sirene.update import UpdateSummary
    from chorus_cli.store.models import Account
    from chorus_cli.store.uow import UnitOfWork

MAX_TERMS = 8  # words of a search kept: more narrow nothing and slow the query


def find(uow: UnitOfWork, siret: str) -> Establishment | None:
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


def import_index(
    uow: UnitOfWork,
    actor: Account,
    establishments: str | Path,
    units: str | Path | None = None,
    progress: IndexProgress | None = None,
    allow_empty: bool = False,
    departments: str | None = None,
) -> IndexSummary:
    """Replace the offline index with INSEE's stock files (STR-2).

    Both headers are checked before anything is written: a missing required column
    refuses the import and leaves the index as it was. The new index is swapped in
    whole at the end; a malformed row is skipped and reported with its line number.
    ``departments`` (``"38,73"``): only the establishments of those départements, and
    their legal units, are kept; a value that is no département is BadInput (exit 2).
    """
    from chorus_cli.domain import departments as places
    from chorus_cli.sirene import build
    from chorus_cli.sirene.reader import StockFile

    authz.require_role(uow, actor, *authz.OPERATORS)
    kept = places.parse_list(departments) if departments is not None else None
    establishment_file = StockFile.check(establishments, "establishments")
    unit_file = StockFile.check(units, "units") if units is not None else None
    engine = uow.session.get_bind()
    # The import runs in its own short transactions: hold no lock while it does.
    uow.commit()
    summary = build.run_import(
        engine,
        establishment_file,
        unit_file,
        uow.clock.now().isoformat(timespec="seconds"),
        progress,
        allow_empty,
        kept,
        places.of_establishment,
    )
    uow.audit(
        actor.login_email,
        "sirene.import",
        establishment_file.display,
        units_file=unit_file.display if unit_file else None,
        establishments=summary.establishments,
        units=summary.units,
        units_kept=summary.units_kept,
        skipped=summary.skipped,
        duplicates=summary.duplicates,
        departments=",".join(summary.departments) if summary.departments else None,
        outside=summary.outside if summary.departments else None,
    )
    return summary


def update_index(uow: UnitOfWork, actor: Account, since: str | None = None) -> UpdateSummary:
    """Apply to the offline index what INSEE changed since the last import or update,
    from the Sirene API (STR-2): one transaction per page of the API's answer; a run cut
    in the middle keeps what it applied and the next one resumes after it.

    An operator task, like the import. ``since`` (``YYYY-MM-DD``) asks from that day
    instead. Needs an API key (``chorus sirene configure-api``: BadInput, exit 2,
    without one or when INSEE refuses it) and an imported index (NotFound, exit 3).
    """
    from datetime import date

    from chorus_cli.domain.departments import of_establishment
    from chorus_cli.sirene import api, update

    authz.require_role(uow, actor, *authz.OPERATORS)
    if since is not None:
        try:
            since = date.fromisoformat(since.strip()).isoformat()
        except ValueError:
            raise BadInput("str2.update_since_invalid", value=since) from None
    key = api.get_key()
    if key is None:
        raise BadInput("str2.update_no_key")
    engine = uow.session.get_bind()
    now = uow.clock.now()
    # Each page is its own transaction, after its answer came: hold no lock meanwhile.
    uow.commit()
    try:
        summary = update.run_update(
            engine,
            key,
            today=now.date().isoformat(),
            now=now.isoformat(timespec="seconds"),
            department_of=of_establishment,
            since=since,
        )
    except update.Stopped as stopped:  # pages were applied: the trail says so
        uow.audit(
            actor.login_email,
            "sirene.update",
            stopped.summary.since,
            pages=stopped.summary.pages,
            establishments=stopped.summary.added + stopped.summary.changed,
            stopped=True,
        )
        uow.commit()
        raise
    uow.audit(
        actor.login_email,
        "sirene.update",
        summary.since,
        pages=summary.pages,
        added=summary.added,
        changed=summary.changed,
        closed=summary.closed,
        outside=summary.outside,
        resumed=summary.resumed,
    )
    return summary


def lookup(uow: UnitOfWork, siret: str) -> Establishment:
    """One establishment (``find``); NotFound (exit 3) saying where chorus looked."""
    from chorus_cli.sirene import api, index

    found = find(uow, siret)
    if found is not None:
        return found
    siret = validate_siret(siret)
    if api.get_key() is not None:
        raise NotFound("str2.not_found_api", siret=siret)
    if index.status(uow) is None:
        raise NotFound("str2.index_empty")
    raise NotFound("str2.not_found", siret=siret)


def search(uow: UnitOfWork, text: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Name search in the offline index; a SIREN (9 digits) lists its establishments
    and a SIRET (14 digits) finds that one. Returns (rows, truncated)."""
    from chorus_cli.sirene import index

    digits = "".join(text.split())
    if digits.isdigit() and len(digits) in (9, 14):
        low = int(digits) * (100_000 if len(digits) == 9 else 1)
        high = low + (100_000 if len(digits) == 9 else 1)
        return index.establishments_between(uow, low, high, limit), False
    terms = terms_of(text)
    if not terms:
        raise BadInput("str2.search_empty")
    return index.search(uow, terms, limit)


def search_page(uow: UnitOfWork, text: str, shown: Window) -> tuple[Page, bool]:
    """``search``, the rows of ``shown`` (OUT-2), counted: one search reads every ranked
    row (at most ``index.SEARCH_CANDIDATES`` matches: the ranking reads them all
    anyway), and the window is cut from them."""
    rows, truncated = search(uow, text, EVERY)
    return cut(rows, shown), truncated


# A bound no search reaches: the ranked candidates are fewer (``index.SEARCH_CANDIDATES``),
# and a SIREN has fewer establishments (its NIC: five digits).
EVERY = 1_000_000


def terms_of(text: str) -> list[str]:
    """The words of a search, case and accents folded as the index folded the names
    (ligatures kept), small words dropped."""
    return list(dict.fromkeys(content_words(words(text, ligatures=False))))[:MAX_TERMS]


def set_api_key(uow: UnitOfWork, actor: Account, read_key: Callable[[], str]) -> None:
    """Keep the INSEE Sirene API key in the keyring (service ``chorus-insee``).

    ``read_key`` asks for it once the actor's role is checked: nobody types a secret
    only to be told they may not set it.
    """
    from chorus_cli.sirene import api

    authz.require_role(uow, actor, *authz.OPERATORS)
    key = read_key().strip()
    if not key or any(ch.isspace() for ch in key):
        raise BadInput("str2.api_key_empty")
    api.set_key(key)
    uow.audit(actor.login_email, "sirene.api_key", api.SERVICE, change="set")


def remove_api_key(uow: UnitOfWork, actor: Account) -> bool:
    """Forget the key: lookups then stay offline. False when none was set."""
    from chorus_cli.sirene import api

    authz.require_role(uow, actor, *authz.OPERATORS)
    removed = api.delete_key()
    if removed:
        uow.audit(actor.login_email, "sirene.api_key", api.SERVICE, change="removed")
    return removed
