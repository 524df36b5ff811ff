"""``python -m chorus_cli.tools.layers``: imports go down the house, never up (issue 13).

Every ``import`` of the package is read with ``ast``, at module level and inside
functions (a lazy import is still a dependency); imports under ``if TYPE_CHECKING:``
count too, for the layers but not for the cycles, since they never run. Layers, from
the top:

- **app** (``cli``, ``commands``, ``batch``, ``demo``, ``inprocess``, ``__main__``,
  ``tools``): parse arguments, open a unit of work, call the domain, render;
- **ui**: output formats, prompts, QR codes, help text: what a terminal sees;
- **domain**: the rules (``domain``), and the services that carry them out at the same
  level: ``bulk`` (flows, OPS-1/2), ``sirene`` (the register's index, reader and API
  client), ``mail`` (outbox, templates) and ``i18n`` (the message catalogues a mail and
  the terminal are written from). They import each other freely, but no module of
  theirs imports ``ui`` or the app;
- **store**: tables, engine, unit of work, migrations; it imports no layer above;
- **kernel** (``config``, ``domain.errors``, ``domain.clock``): leaves that every layer
  may import; they import only each other.

A module imports its own layer or lower ones. The tool also lists the import cycles
among the domain-level modules (run-time imports only), which the domain has none of:
what several areas share sits in a leaf below them (``lockout``, ``sessions``,
``membership``, ``finding``), and a use case across areas in a module above them
(``service_deactivation``, ``provisioning``). ``ALLOWED_CYCLES`` would name a cycle left
on purpose, with why; it is empty.

Exit 1 listing each upward import (``file:line: a imports b (domain -> ui)``), or each
cycle not allowed; 0 otherwise.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "chorus_cli"
ROOT = Path(__file__).resolve().parent.parent

RANKS = {"kernel": 0, "store": 1, "domain": 2, "ui": 3, "app": 4}
# First match wins: the longest prefixes come first.
LAYERS = (
    ("chorus_cli.kernel.errors", "kernel"),
    ("chorus_cli.kernel.clock", "kernel"),
    ("chorus_cli.config", "kernel"),
    ("chorus_cli.store", "store"),
    ("chorus_cli.domain", "domain"),
    ("chorus_cli.bulk", "domain"),
    ("chorus_cli.sirene", "domain"),
    ("chorus_cli.mail", "domain"),
    ("chorus_cli.i18n", "domain"),
    ("chorus_cli.data", "kernel"),
    ("chorus_cli.ui", "ui"),
    ("chorus_cli.cli", "app"),
    ("chorus_cli.commands", "app"),
    ("chorus_cli.batch", "app"),
    ("chorus_cli.demo", "app"),
    ("chorus_cli.inprocess", "app"),
    ("chorus_cli.__main__", "app"),
    ("chorus_cli.tools", "app"),
    ("chorus_cli", "kernel"),  # the package's __init__: a version, nothing else
)
# Upward imports left on purpose, as (importer, imported): none today.
ALLOWED: dict[tuple[str, str], str] = {}
# Cycles among domain-level modules left on purpose, each with why (a frozenset of their
# modules, closed by function-level imports only so that nothing breaks at import
# time): none today.
ALLOWED_CYCLES: dict[frozenset[str], str] = {}


@dataclass(frozen=True)
class Import:
    """One import statement's target, where it stands."""

    importer: str
    imported: str
    path: Path
    line: int
    typing_only: bool  # under ``if TYPE_CHECKING:``


def layer(module: str) -> str | None:
    """The layer of a module of the package; None outside it."""
    for prefix, name in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return name
    return None


def module_name(path: Path, root: Path) -> str:
    """``<root>/domain/accounts.py`` → ``chorus_cli.domain.accounts``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def _resolve(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, typing_only: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        inner = typing_only or (isinstance(child, ast.If) and _is_type_checking(child))
        if isinstance(child, ast.If) and _is_type_checking(child):
            for part in child.body:
                yield part, True
                yield from _walk(part, True)
            for part in child.orelse:
                yield part, typing_only
                yield from _walk(part, typing_only)
            continue
        yield child, inner
        yield from _walk(child, inner)


def imports(root: Path = ROOT) -> Iterator[Import]:
    """Every import of a package module, from the package under ``root``."""
    modules = {module_name(p, root) for p in root.rglob("*.py")}
    for path in sorted(root.rglob("*.py")):
        importer = module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        is_package = path.name == "__init__.py"
        for node, typing_only in _walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(node, importer, is_package)
                # ``from chorus_cli.domain import accounts`` imports the submodule.
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in node.names
                ]
            for target in dict.fromkeys(targets):
                if target == PACKAGE or target.startswith(PACKAGE + "."):
                    yield Import(importer, target, path, node.lineno, typing_only)


def upward(found: list[Import]) -> list[Import]:
    """The imports of a module from a layer above its own, not allowed by ``ALLOWED``."""
    wrong = []
    for item in found:
        mine, theirs = layer(item.importer), layer(item.imported)
        if mine is None or theirs is None or RANKS[theirs] <= RANKS[mine]:
            continue
        if (item.importer, item.imported) not in ALLOWED:
            wrong.append(item)
    return wrong


def cycles(found: list[Import]) -> list[list[str]]:
    """The domain-level modules that import each other in a loop, run-time imports only:
    each strongly connected component of two modules or more, sorted (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for item in found:
        if item.typing_only or item.importer == item.imported:
            continue
        if layer(item.importer) == layer(item.imported) == "domain":
            graph.setdefault(item.importer, set()).add(item.imported)
            graph.setdefault(item.imported, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def report(root: Path = ROOT) -> list[str]:
    """One line per upward import, then one per cycle not allowed; empty when the house
    keeps its shape."""
    found = list(imports(root))
    lines = [
        f"{item.path.relative_to(root.parent)}:{item.line}: {item.importer} imports"
        f" {item.imported} ({layer(item.importer)} -> {layer(item.imported)})"
        for item in upward(found)
    ]
    for component in cycles(found):
        if frozenset(component) not in ALLOWED_CYCLES:
            lines.append("import cycle: " + " -> ".join(component))
    return lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]).resolve() if args else ROOT
    lines = report(root)
    for line in lines:
        print(line)
    if lines:
        print(f"{len(lines)} layering problem(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
