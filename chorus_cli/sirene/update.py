"""Incremental updates of the offline index from the INSEE Sirene API (STR-2).

``chorus sirene update`` asks ``GET {base}/siret?q=dateDernierTraitementEtablissement:
[DATE TO *]`` for the establishments INSEE changed since the last import or update,
paged by cursor (``curseur=*``, then each answer's ``curseurSuivant``; the last page
is the one whose ``curseurSuivant`` is its own ``curseur``), ``nombre`` at most 1000.

Each page is fetched first, then applied in one transaction (no transaction is open
while the network is waited on): its establishments replace theirs or appear, their
legal units' names follow, and the search rows are rewritten with the import's own
definition (``sirene_tables.fts_insert_sql``). The same transaction records the next
cursor in ``sirene_meta``: a run cut in the middle keeps what it applied, and the next
run resumes after the last page applied. A finished run records the day it started as
the date the next one asks from (INSEE's dates are Paris time, ahead of UTC: the UTC
day never starts later).

The published rate limit is 30 requests a minute: requests are spaced by
``INTERVAL_VARIABLE`` seconds (2 by default); a 429 is retried after its Retry-After.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from chorus_cli.kernel.errors import BadInput, ChorusError, NotFound
from chorus_cli.sirene import api
from chorus_cli.store import sirene_tables as schema

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.engine import Connection, Engine

    from chorus_cli.sirene.departments import DepartmentOf

PAGE = 1000  # nombre: the API's maximum
INTERVAL_VARIABLE = "CHORUS_INSEE_API_INTERVAL"
DEFAULT_INTERVAL = 2.0  # seconds between two requests: 30 a minute
RATE_LIMIT_TRIES = 5  # 429s in a row before giving up
FAILURE_TRIES = 3  # 5xx, timeouts and cut connections in a row before giving up
RETRY_AFTER_MAX = 300.0  # seconds; a longer Retry-After is not waited for
RETRY_AFTER_DEFAULT = 60.0  # a 429 without Retry-After: the quota is per minute


@dataclass
class UpdateSummary:
    since: str  # the date asked from
    resumed: bool = False  # a cut run was resumed from its cursor
    pages: int = 0
    added: int = 0  # establishments new to the index
    changed: int = 0  # establishments of the index rewritten
    closed: int = 0  # of those, active before and closed now
    outside: int = 0  # new ones of other départements than the import kept
    next_since: str | None = None  # what the next run asks from
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def interval() -> float:
    try:
        return max(0.0, float(os.environ.get(INTERVAL_VARIABLE) or DEFAULT_INTERVAL))
    except ValueError:
        return DEFAULT_INTERVAL


def state(engine: Engine) -> dict[str, Any] | None:
    """The index's metadata row (None before the first import)."""
    from sqlalchemy import text

    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT imported_at, update_since, update_cursor, update_started, departments"
                f" FROM {schema.META} WHERE id = 1"
            )
        ).first()
        connection.rollback()
    return dict(row._mapping) if row is not None else None


def run_update(
    engine: Engine,
    key: str,
    today: str,
    now: str,
    department_of: DepartmentOf,
    since: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> UpdateSummary:
    """Apply the API's changes page by page. ``today``: the run's UTC day (the next
    run asks from it); ``now``: when it ends; ``since``: ask from this day instead of
    the recorded one (a cut run's cursor is then forgotten); ``department_of(commune
    code, postal code)``: an establishment's département, for an import that kept some.

    NotFound (exit 3) before the first import; BadInput (exit 2) when the key is
    refused; api.Unavailable (exit 1) when the API cannot answer. An error after some
    pages is ``Stopped`` (the cause's exit code), naming them: they stay applied, and
    the next run resumes after them."""
    started = time.perf_counter()
    meta = state(engine)
    if meta is None:
        raise NotFound("str2.update_needs_import")
    departments = frozenset(meta["departments"].split(",")) if meta["departments"] else None
    cursor = "*"
    run_started = today
    if since is None:
        since = meta["update_since"] or meta["imported_at"][:10]
        if meta["update_cursor"]:
            cursor, run_started = meta["update_cursor"], meta["update_started"] or today
    summary = UpdateSummary(since=since, resumed=cursor != "*")
    query = f"dateDernierTraitementEtablissement:[{since} TO *]"
    if departments:
        places = " OR ".join(f"codeCommuneEtablissement:{code}*" for code in sorted(departments))
        query += f" AND ({places})"
    pacer = _Pacer(interval(), sleep)
    url = f"{api.base_url()}/siret"
    with api.client(key) as client:
        while True:
            try:
                found, following = _fetch(
                    client, url, {"q": query, "curseur": cursor, "nombre": PAGE}, pacer
                )
                records = _records(found)
            except ChorusError as exc:
                if summary.pages:
                    raise Stopped(exc, summary) from None
                raise
            last = not found or not following or following == cursor
            with engine.begin() as connection:
                _apply(connection, records, departments, department_of, summary)
                if last:
                    _finish(connection, since=run_started, now=now)
                else:  # the query's date with its cursor: a resumed run asks the same
                    _record(connection, cursor=following, started=run_started, since=since)
            summary.pages += 1
            if last:
                break
            cursor = following
    summary.next_since = run_started
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


class Stopped(ChorusError):
    """A run that failed after applying some pages: they stay applied, and the next run
    resumes after them. Its exit code and kind are its cause's; ``summary`` says what
    was applied."""

    def __init__(self, cause: ChorusError, summary: UpdateSummary) -> None:
        from chorus_cli.i18n import message

        super().__init__(
            "str2.update_stopped",
            reason=message(cause.key, **cause.params),
            pages=summary.pages,
            establishments=summary.added + summary.changed,
            since=summary.since,
        )
        self.exit_code = cause.exit_code
        self.kind = cause.kind
        self.summary = summary


# --- the network ------------------------------------------------------------------------


class _Pacer:
    """Spaces the requests by ``seconds`` (the API's 30 requests a minute)."""

    def __init__(self, seconds: float, sleep: Callable[[float], None]) -> None:
        self.seconds = seconds
        self.sleep = sleep
        self.last: float | None = None

    def wait(self, at_least: float = 0.0) -> None:
        pause = at_least
        if self.last is not None:
            pause = max(pause, self.last + self.seconds - time.monotonic())
        if pause > 0:
            self.sleep(pause)
        self.last = time.monotonic()


def _fetch(
    client: httpx.Client, url: str, params: dict[str, Any], pacer: _Pacer
) -> tuple[list[dict[str, Any]], str | None]:
    """One page: (its establishments, the next cursor). Retries a 429 after its
    Retry-After, and a 5xx, a timeout or a cut connection after a pause."""
    import httpx

    rate_limited = failures = 0
    wait = 0.0
    while True:
        pacer.wait(wait)
        try:
            response = client.get(url, params=params)
        except httpx.HTTPError as exc:
            failures += 1
            if failures >= FAILURE_TRIES:
                if isinstance(exc, httpx.TimeoutException):
                    raise api.Unavailable(
                        "str2.api_timeout", seconds=f"{api.timeout():g}"
                    ) from None
                raise api.Unavailable("str2.api_unreachable", reason=api.reason(exc)) from None
            wait = pacer.seconds * failures
            continue
        status = response.status_code
        if status == 429:
            rate_limited += 1
            if rate_limited >= RATE_LIMIT_TRIES:
                raise api.Unavailable("str2.api_rate_limited")
            wait = _retry_after(response.headers.get("Retry-After"))
            continue
        if status >= 500:
            failures += 1
            if failures >= FAILURE_TRIES:
                raise api.Unavailable("str2.update_unavailable", status=status, tries=failures)
            wait = pacer.seconds * failures
            continue
        break
    if status in (401, 403):
        raise BadInput("str2.api_key_refused", status=status)
    if status == 404:  # INSEE's answer to a query that matches nothing
        return [], None
    if status != 200:
        raise api.Unavailable("str2.api_bad_response", status=status)
    try:
        data = response.json()
        header = data["header"]
        found = data.get("etablissements") or []
        following = header.get("curseurSuivant")
        if not isinstance(found, list) or not isinstance(following, str | None):
            raise TypeError
    except (ValueError, KeyError, TypeError, AttributeError):
        raise api.Unavailable("str2.api_not_json", status=status) from None
    return found, following


def _retry_after(value: str | None) -> float:
    try:
        seconds = float(value) if value is not None else RETRY_AFTER_DEFAULT
    except ValueError:  # an HTTP date: INSEE sends seconds; wait the default
        seconds = RETRY_AFTER_DEFAULT
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)


# --- the index --------------------------------------------------------------------------


def _records(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What chorus keeps of a page's establishments (``api.record``); an establishment
    INSEE would never send (no SIRET, not an object) makes the page unreadable."""
    try:
        return [api.record(item) for item in found]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise api.Unavailable("str2.api_not_json", status=200) from None


def _apply(
    connection: Connection,
    records: list[dict[str, Any]],
    departments: frozenset[str] | None,
    department_of: DepartmentOf,
    summary: UpdateSummary,
) -> None:
    """One page, in the caller's transaction: the legal units, their establishments
    already in the index (names follow the unit), the page's establishments, and the
    search rows of all of those."""
    from sqlalchemy import text

    if not records:
        return
    sqlite = connection.dialect.name == "sqlite"
    sirets = sorted({int(r["siret"]) for r in records})
    present = f"SELECT siret, active FROM {schema.ESTABLISHMENT} WHERE siret IN ({_ids(sirets)})"
    known = {row[0]: bool(row[1]) for row in connection.execute(text(present))}
    kept = []
    for r in records:
        siret = int(r["siret"])
        place = department_of(r["commune_code"], r["any_postal_code"])
        if siret not in known and departments is not None and place not in departments:
            summary.outside += 1
            continue
        kept.append(r)
    if not kept:
        return
    # The page's last word on each legal unit it names (an answer without the unit's
    # name leaves the unit and its other establishments as they are).
    units = {int(r["siret"][:9]): r for r in kept if r["name"]}
    # A SIREN's establishments are one range of the key: their search rows are rewritten
    # (the page's own, and those of its units' other establishments).
    sirens = {int(r["siret"][:9]) for r in kept}
    ranges = [{"low": siren * 100_000, "high": (siren + 1) * 100_000} for siren in sirens]
    within = "siret >= :low AND siret < :high"
    if sqlite:  # a contentless FTS table forgets a row given the text it was given
        forget = schema.fts_insert_sql(schema.FTS, schema.ESTABLISHMENT, within, delete=True)
        connection.execute(text(forget), ranges)
    unit_sql = text(
        f"INSERT INTO {schema.UNIT} (siren, raison_sociale, categorie_juridique, non_diffusible)"
        " VALUES (:siren, :name, :category, :hidden) ON CONFLICT (siren) DO UPDATE SET"
        " raison_sociale = excluded.raison_sociale,"
        " categorie_juridique = excluded.categorie_juridique,"
        " non_diffusible = excluded.non_diffusible"
    )
    # The unit's other establishments carry its name too (and lose their address when
    # it is no longer diffusible: STR-3).
    follow = text(
        f"UPDATE {schema.ESTABLISHMENT} SET raison_sociale = :name,"
        " categorie_juridique = :category,"
        " non_diffusible = (non_diffusible OR :hidden),"
        " address = CASE WHEN :hidden THEN NULL ELSE address END,"
        " postal_code = CASE WHEN :hidden THEN NULL ELSE postal_code END,"
        " commune = CASE WHEN :hidden THEN NULL ELSE commune END,"
        " country = CASE WHEN :hidden THEN NULL ELSE country END"
        " WHERE siret >= :low AND siret < :high"
    )
    if units:
        connection.execute(
            unit_sql,
            [
                {
                    "siren": siren,
                    "name": r["name"],
                    "category": r["category"],
                    "hidden": r["unit_hidden"],
                }
                for siren, r in units.items()
            ],
        )
        connection.execute(
            follow,
            [
                {
                    "name": r["name"],
                    "category": r["category"],
                    "hidden": r["unit_hidden"],
                    "low": siren * 100_000,
                    "high": (siren + 1) * 100_000,
                }
                for siren, r in units.items()
            ],
        )
    every = schema.establishment_table().columns.keys()  # the SIRET first: the key
    names = ", ".join(every)
    marks = ", ".join(f":{name}" for name in every)
    changes = ", ".join(f"{name} = excluded.{name}" for name in every[1:])
    upsert = text(
        f"INSERT INTO {schema.ESTABLISHMENT} ({names}) VALUES ({marks})"
        f" ON CONFLICT (siret) DO UPDATE SET {changes}"
    )
    rows = []
    for r in kept:
        siret = int(r["siret"])
        if siret in known:
            summary.changed += 1
            summary.closed += known[siret] and not r["active"]
        else:
            summary.added += 1
        rows.append(
            {
                "siret": siret,
                "raison_sociale": r["raison_sociale"],
                "enseigne": r["sign"],
                "categorie_juridique": r["category"],
                "active": r["active"],
                "non_diffusible": r["hidden"],
                "siege": r["head"],
                "address": r["address"],
                "postal_code": r["postal_code"],
                "commune": r["commune"],
                "country": r["country"],
            }
        )
    connection.execute(upsert, rows)
    if sqlite:
        index = schema.fts_insert_sql(schema.FTS, schema.ESTABLISHMENT, within)
        connection.execute(text(index), ranges)
        # A prefix is searched as the vocabulary's words: it must know the new ones.
        from chorus_cli.sirene.index import note_words

        texts = {r["siret"]: f"{r['raison_sociale']} {r['enseigne'] or ''}" for r in rows}
        note_words(
            connection,
            [name for siret, name in texts.items() if siret not in known],
            [name for siret, name in texts.items() if siret in known],
        )
    added = sum(1 for r in kept if int(r["siret"]) not in known)
    if added:
        connection.execute(
            text(f"UPDATE {schema.META} SET establishments = establishments + :n WHERE id = 1"),
            {"n": added},
        )


def _ids(numbers: list[int]) -> str:
    """Integers for an IN list (never text: nothing to quote)."""
    return ", ".join(str(int(n)) for n in numbers) or "NULL"


def _record(connection: Connection, cursor: str, started: str, since: str) -> None:
    """Where a cut run resumes, in the page's transaction: the next cursor, with the
    date its query asks from (``--since`` may have changed it) and the day the run
    started (the next date asked from, once it ends)."""
    from sqlalchemy import text

    connection.execute(
        text(
            f"UPDATE {schema.META} SET update_cursor = :cursor, update_started = :started,"
            " update_since = :since WHERE id = 1"
        ),
        {"cursor": cursor, "started": started, "since": since},
    )


def _finish(connection: Connection, since: str, now: str) -> None:
    """The run ended, in its last page's transaction: the next one asks from ``since``,
    the day this one started."""
    from sqlalchemy import text

    connection.execute(
        text(
            f"UPDATE {schema.META} SET update_cursor = NULL, update_started = NULL,"
            " update_since = :since, updated_at = :now WHERE id = 1"
        ),
        {"since": since, "now": now},
    )
