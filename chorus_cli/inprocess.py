"""Run ``chorus`` inside this process, as the console script would, capturing its output.

The demo uses it to show real commands on a temporary store with a clock it can move;
the tests use it to run commands fast.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from chorus_cli.commands._common import EntryPoint
    from chorus_cli.kernel.clock import Clock

CLEARED = ("CHORUS_LANG", "CHORUS_SMTP_URL", "CHORUS_SMTP_CA_FILE", "COLUMNS")


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str
    # What both streams wrote, in order, as a terminal shows it: ("stdout"|"stderr", text).
    written: list[tuple[str, str]] = field(default_factory=list)
    # The single records the command showed (not a listing's rows), as ``emit`` was
    # handed them (``ui.output.handed``), whatever the format drew of them.
    records: list[dict] = field(default_factory=list)

    def json(self):  # type: ignore[no-untyped-def]
        import json

        return json.loads(self.stdout)


class _Capture(io.StringIO):
    """One stream's text, also logged in the order both streams were written."""

    def __init__(self, name: str, log: list[tuple[str, str]]) -> None:
        super().__init__()
        self._name, self._log = name, log

    def write(self, text: str) -> int:
        self._log.append((self._name, text))
        return super().write(text)


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in (*env, *CLEARED)}
    for key in CLEARED:
        os.environ.pop(key, None)
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def invoke(
    args: list[str],
    *,
    env: Mapping[str, str],
    clock: Clock,
    input: str | None = None,
    stdin: TextIO | None = None,
    entry: EntryPoint | None = None,
) -> Outcome:
    """Run one command with this environment and clock; stdin is ``input`` (a pipe), or
    the ``stdin`` stream given (one that reads only if the command reads).

    ``entry`` runs the command line: ``chorus demo`` hands over the one it was run by;
    a caller outside the command tree (the tests) gets ``cli.main``, imported here."""
    from chorus_cli import i18n
    from chorus_cli.commands._common import STATE
    from chorus_cli.store import keychain
    from chorus_cli.ui import output

    streams = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = stdin if stdin is not None else io.StringIO(input or "")
    written: list[tuple[str, str]] = []
    sys.stdout, sys.stderr = _Capture("stdout", written), _Capture("stderr", written)
    keychain._system_backend.cache_clear()
    i18n.set_lang("fr")
    STATE.clock = clock
    records: list[dict] = []
    outer, output.handed = output.handed, records
    code = 0
    if entry is None:
        from chorus_cli.cli import main as entry
    try:
        with _environment(env):
            entry(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        out, err = sys.stdout.getvalue(), sys.stderr.getvalue()
        sys.stdin, sys.stdout, sys.stderr = streams
        STATE.clock = None
        output.handed = outer
    return Outcome(code, out, err, written, records)
