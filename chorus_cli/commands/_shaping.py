"""``--fields`` (OUT-3) and ``--excel`` (OUT-4) on every command that shows data: one
walk of the command tree (``cli.make_app``) gives each command with ``--format`` both
options, and hands their values to ``ui.output.emit`` while the command runs. A new
command with ``--format`` gets them too, with nothing to write. Every such command
declares its fields (``_common.data_fields``, read where its rows are built; a test walks
the tree): ``--fields`` is checked before it runs, so that a change is never made for
output then refused.

``--limit/--offset/--all`` (OUT-2) on every listing, the same way: a listing declares a
parameter typed ``Window`` (``store.listing``); ``add_window`` puts the three options in
its place and hands the command the ``Window`` they ask for (``store.listing.window``).
"""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_type_hints

import typer

from chorus_cli.commands._common import AllOpt, Format, LimitOpt, OffsetOpt, fields_declared

if TYPE_CHECKING:
    from collections.abc import Callable

FieldsOpt = Annotated[
    str | None,
    typer.Option(
        "--fields",
        metavar="A,B,C",
        help="Only these fields, in this order, in every format (OUT-3).",
    ),
]
ExcelOpt = Annotated[
    bool,
    typer.Option(
        "--excel", help="CSV as French Excel opens it: ';', UTF-8 with BOM, CRLF (OUT-4)."
    ),
]
# The wrapper's own parameter names: no command has them.
FIELDS, EXCEL = "shaping_fields", "shaping_excel"


# The listing wrapper's own parameter names: no command has them.
LIMIT, OFFSET, EVERY = "listing_limit", "listing_offset", "listing_every"


def add_window(app: typer.Typer) -> None:
    """Give every listing of ``app`` (and its groups), a command with a parameter typed
    ``Window``, the options ``--limit``, ``--offset`` and ``--all`` in its place (OUT-2)."""
    for info in app.registered_commands:
        if info.callback is not None:
            info.callback = _windowed(info.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            add_window(group.typer_instance)


def _windowed(callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback`` taking ``--limit/--offset/--all`` for its ``Window`` parameter; the
    callback itself when it has none (as once done: the options took its place)."""
    # Unevaluated annotations: the commands' modules import Window only to type-check.
    raw = getattr(callback, "__annotations__", {})
    name = next((n for n, hint in raw.items() if hint == "Window"), None)
    if name is None:
        return callback
    from chorus_cli.store.listing import Window

    signature = inspect.signature(callback, eval_str=True, locals={"Window": Window})

    @functools.wraps(callback)
    def windowed(*args: Any, **kwargs: Any) -> Any:
        from chorus_cli.store.listing import window

        shown = window(kwargs.pop(LIMIT), kwargs.pop(OFFSET), kwargs.pop(EVERY))
        return callback(*args, **kwargs, **{name: shown})

    keyword = inspect.Parameter.KEYWORD_ONLY
    options = [
        inspect.Parameter(LIMIT, keyword, default=None, annotation=LimitOpt),
        inspect.Parameter(OFFSET, keyword, default=0, annotation=OffsetOpt),
        inspect.Parameter(EVERY, keyword, default=False, annotation=AllOpt),
    ]
    params: list[inspect.Parameter] = []
    for param in signature.parameters.values():
        params += options if param.name == name else [param.replace(kind=keyword)]
    windowed.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    windowed.__annotations__ = {p.name: p.annotation for p in params}
    return windowed


def add_shaping(app: typer.Typer) -> None:
    """Give every command of ``app`` (and its groups) that has ``--format`` the
    ``--fields`` and ``--excel`` options."""
    for info in app.registered_commands:
        if info.callback is not None and shows_data(info.callback):
            info.callback = _shaped(info.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            add_shaping(group.typer_instance)


def shows_data(callback: Callable[..., Any]) -> bool:
    """Whether the command takes the shared ``--format`` (table, json, csv, jsonl)."""
    if getattr(callback, "__shaped__", False):
        return False
    hints = get_type_hints(callback, include_extras=True)
    return any(Format in get_args(hint) for hint in hints.values())


def fields_of(text: str | None) -> list[str] | None:
    """``a, b,c`` → ``["a", "b", "c"]``; an empty list is bad input (OUT-3)."""
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        from chorus_cli.kernel.errors import BadInput

        raise BadInput("out3.fields_empty")
    return names


def _options(hints: dict[str, Any]) -> set[str]:
    """The option names a command's parameters declare."""
    return {
        name
        for hint in hints.values()
        for meta in getattr(hint, "__metadata__", ())
        for name in getattr(meta, "param_decls", None) or ()
    }


def _shaped(callback: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(callback, eval_str=True)
    hints = get_type_hints(callback, include_extras=True)

    @functools.wraps(callback)
    def shaped(*args: Any, **kwargs: Any) -> Any:
        from chorus_cli.ui.output import check_fields, set_shaping

        fields = fields_of(kwargs.pop(FIELDS, None))
        declared = fields_declared(callback)  # every such command declares (a test walks)
        if fields is not None:  # before the command runs: none is refused after a change
            check_fields(fields, list(declared or ()))
        set_shaping(fields, kwargs.pop(EXCEL, False), declared)
        try:
            return callback(*args, **kwargs)
        finally:
            set_shaping(None, False)

    keyword = inspect.Parameter.KEYWORD_ONLY
    taken = _options(hints)  # a command's own --excel (or --fields) stays its own
    extra = [
        inspect.Parameter(name, keyword, default=default, annotation=option)
        for name, default, option, flag in (
            (FIELDS, None, FieldsOpt, "--fields"),
            (EXCEL, False, ExcelOpt, "--excel"),
        )
        if flag not in taken
    ]
    params = list(signature.parameters.values())
    shaped.__signature__ = signature.replace(parameters=[*params, *extra])  # type: ignore[attr-defined]
    shaped.__annotations__ = {**hints, **{p.name: p.annotation for p in extra}}
    shaped.__shaped__ = True  # type: ignore[attr-defined]
    return shaped
