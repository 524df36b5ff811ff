"""``make messages``: extract, update and compile the gettext catalogues (SET-5).

- ``messages`` domain (stable keys): the keys the code names (Babel's extractor on
  calls such as ``BadInput("acc1.email_invalid", …)``), with the keys already in the
  catalogues (some are built at run time, ``f"notice.{kind}"``), into
  ``locale/messages.pot``; each language's ``.po`` gets the new keys, empty, to fill.
- ``help`` domain (English msgids): every help paragraph and option help of the
  command tree, and the vendored Click's own strings, into ``locale/help.pot``;
  ``fr/help.po`` gets the new ones, empty, to translate.
- Every ``.po`` is compiled to its ``.mo``, which the package ships.

Babel is a dev dependency: the command line reads the ``.mo`` with ``gettext``.

Usage: ``python -m chorus_cli.tools.catalogues [extract|compile|all]``
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from chorus_cli.i18n import LANGS, LOCALE_DIR

PACKAGE = Path(__file__).resolve().parent.parent
DOMAINS = {"messages": LANGS, "help": ("fr",)}

# Calls whose first argument is a message key.
KEY_CALLS = (
    "BadInput", "RuleRefused", "NotFound", "NotAllowed", "NotAuthenticated", "LinkExpired",
    "Unavailable", "SeedKeyMissing", "ChorusError", "message", "say", "warn", "ask",
    "confirm", "sentence", "note", "password",
)  # fmt: skip


def po_path(domain: str, lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"


def code_keys() -> Iterator[tuple[str, str, int]]:
    """(key, file, line) of each key named literally in a KEY_CALLS call."""
    from babel.messages.extract import extract_from_dir

    for filename, lineno, key, _comments, _context in extract_from_dir(
        str(PACKAGE),
        method_map=[("tools/**.py", "ignore"), ("**.py", f"{__name__}:extract_keys")],
        keywords={name: None for name in KEY_CALLS},
        comment_tags=(),
    ):
        yield key, filename, lineno


def extract_keys(fileobj, keywords, comment_tags, options):  # noqa: ANN001, ANN201, ARG001
    """A Babel extraction method: the keys in the first argument of a call named in
    ``keywords``, each branch of ``"a" if x else "b"`` too (Babel's own Python method
    joins them into one string)."""
    import ast

    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name not in keywords:
            continue
        for literal in _literals(node.args[0]):
            if _looks_like_key(literal.value):
                yield literal.lineno, name, literal.value, []


def _literals(node):  # noqa: ANN001, ANN202
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node
    elif isinstance(node, ast.IfExp):
        yield from _literals(node.body)
        yield from _literals(node.orelse)


def _looks_like_key(text: str) -> bool:
    import re

    return re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+", text) is not None


def help_strings() -> Iterator[str]:
    """Every help msgid of the command tree and of the vendored Click, in order."""
    import typer

    from chorus_cli.cli import app
    from chorus_cli.ui import helptext

    yield from helptext.msgids(typer.main.get_command(app))


def _read(path: Path):  # noqa: ANN202 - a babel Catalog
    from babel.messages.pofile import read_po

    with open(path, "rb") as handle:
        return read_po(handle)


def _write(path: Path, catalog) -> None:  # noqa: ANN001
    from babel.messages.pofile import write_po

    with open(path, "wb") as handle:
        write_po(handle, catalog, width=100, no_location=True, omit_header=False)


def extract() -> None:
    from babel.messages.catalog import Catalog

    for domain, langs in DOMAINS.items():
        template = Catalog(project="chorus", version="0.1", domain=domain, fuzzy=False)
        if domain == "messages":
            existing = [_read(po_path(domain, lang)) for lang in langs]
            # A plural entry stays plural (msgid_plural is the key again: the form
            # follows the message's count, see chorus_cli/i18n.py).
            plural = {e.id[0] for c in existing for e in c if isinstance(e.id, tuple)}
            for key, _file, _line in code_keys():
                if key not in template:
                    template.add((key, key) if key in plural else key)
            for catalog in existing:  # keys built at run time: kept while translated
                for entry in catalog:
                    if entry.id and entry.string and entry.id not in template:
                        template.add(entry.id)
        else:
            for text in help_strings():
                template.add(text)
        _write(LOCALE_DIR / f"{domain}.pot", template)
        for lang in langs:
            path = po_path(domain, lang)
            new = Catalog(locale=lang, domain=domain, fuzzy=False)
            catalog = _read(path) if path.exists() else new
            catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
            catalog.obsolete.clear()  # a msgid gone from the code goes from the catalogue
            _write(path, catalog)


def compile_all() -> None:
    from babel.messages.mofile import write_mo

    for domain, langs in DOMAINS.items():
        for lang in langs:
            catalog = _read(po_path(domain, lang))
            with open(po_path(domain, lang).with_suffix(".mo"), "wb") as handle:
                write_mo(handle, catalog, use_fuzzy=False)


def main(argv: list[str]) -> None:
    step = argv[0] if argv else "all"
    if step in ("extract", "all"):
        extract()
    if step in ("compile", "all"):
        compile_all()


if __name__ == "__main__":
    main(sys.argv[1:])
