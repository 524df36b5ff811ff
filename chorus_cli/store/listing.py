"""Every listing's bounds (OUT-2): ``--limit N`` rows (default 100) from ``--offset N``,
or ``--all``; the rows shown, and how many there are when more exist than shown.

Counting stays cheap: a page fetches one row more than it shows, and counts the whole
only when that row came. ``--all`` streams: its rows are read in chunks from a
server-side cursor, so that writing them as they come keeps memory flat.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chorus_cli.kernel.errors import BadInput

if TYPE_CHECKING:
    from chorus_cli.store.uow import UnitOfWork

LIST_LIMIT = 100
LIST_MAX = 10_000
# Rows read from the store at a time when streaming (``--all``).
CHUNK = 1000


@dataclass(frozen=True)
class Window:
    """Which rows of a listing are shown: ``limit`` (None: all of them) from ``offset``."""

    limit: int | None = LIST_LIMIT
    offset: int = 0


WINDOW = Window()  # the default: the first 100 rows


def window(limit: int | None = None, offset: int = 0, every: bool = False) -> Window:
    """The window ``--limit/--offset/--all`` ask for: ``--limit`` from 1 to 10,000
    (default 100), ``--all`` lifts every cap."""
    if limit is not None and not 1 <= limit <= LIST_MAX:
        raise BadInput("list.limit", max=LIST_MAX)
    if offset < 0:
        raise BadInput("list.offset")
    if every:
        if limit is not None:
            raise BadInput("out2.limit_and_all")
        return Window(None, offset)
    return Window(LIST_LIMIT if limit is None else limit, offset)


@dataclass
class Page:
    """The rows shown (a list, or with ``--all`` possibly an iterator read as written)
    and ``total``: how many rows the listing has, known when more exist than shown."""

    rows: Any
    total: int | None = None


def cut(rows: list[Any], shown: Window) -> Page:
    """The window of a listing already in memory (a few rows: one's factors, roles)."""
    end = None if shown.limit is None else shown.offset + shown.limit
    kept = rows[shown.offset : end]
    more = end is not None and len(rows) > end
    return Page(kept, len(rows) if more else None)


def fetch(uow: UnitOfWork, query: Any, shown: Window) -> Page:
    """The window of a query's rows (as ``session.exec`` gives them): ``limit + 1``
    fetched, the whole counted only when there are more."""
    if shown.limit is None:
        return Page(list(uow.session.exec(query.offset(shown.offset)).all()))
    rows = list(uow.session.exec(query.offset(shown.offset).limit(shown.limit + 1)).all())
    if len(rows) <= shown.limit:
        return Page(rows)
    return Page(rows[: shown.limit], count(uow, query))


def count(uow: UnitOfWork, query: Any) -> int:
    """How many rows ``query`` has (its order dropped)."""
    from sqlmodel import func, select

    counted = select(func.count()).select_from(query.order_by(None).subquery())
    return int(uow.session.exec(counted).one())


def stream(uow: UnitOfWork, query: Any, shown: Window) -> Page:
    """As ``fetch``, but with ``--all`` the rows come as an iterator read in chunks from
    a server-side cursor (the unit of work must stay open while it is read)."""
    if shown.limit is not None:
        return fetch(uow, query, shown)
    return Page(_chunks(uow, query.offset(shown.offset)))


def _chunks(uow: UnitOfWork, query: Any) -> Iterator[Any]:
    result = uow.session.exec(query.execution_options(stream_results=True, yield_per=CHUNK))
    yield from result
    result.close()


def columns(model: Any) -> Any:
    """``select(Model)`` as the model's table columns: rows read by attribute as the
    model's objects are, without building an object per row (a listing reads them once)."""
    from sqlmodel import select

    return select(*model.__table__.columns)


def mapped(page: Page, function: Any) -> Page:
    """The same page, each row through ``function`` (lazily, when the rows stream)."""
    rows: Iterable[Any] = page.rows
    if isinstance(rows, list):
        return Page([function(row) for row in rows], page.total)
    return Page((function(row) for row in rows), page.total)
