"""`chorus batch FILE|-` (OPS-6): many command lines in one process, as FreeIPA's `ipa
batch` and GAM's `batch` do: one import of SQLAlchemy and Typer for all of them.

Each line is split as a shell splits words (`#` comments and blank lines skipped, a
leading `chorus` optional) and run through the real command tree (the entry point the
``chorus batch`` command hands over: ``cli.main``), in order, on the same store and
session: its output goes to stdout as if it had run alone; its error to stderr with its
line number. The batch stops at the first failing line and exits with its code, unless
``keep_going`` (then a summary, and the first failure's code). ``atomic``: every line
shares one unit of work whose commits only flush; the batch commits at the end, or rolls
everything back (mails and audit included) at the first failure. A line that would wait
for a person (a prompt, `login`, a security key) or run another batch is refused with
exit 2.
"""

from __future__ import annotations

import io
import json
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from chorus_cli.kernel.lines import LINE_MAX, too_long  # SEC-10: the bound of every line

if TYPE_CHECKING:
    from chorus_cli.commands._common import EntryPoint

# Commands that wait for a person, or are no line of a batch.
REFUSED = frozenset({"login", "logout", "batch", "demo"})
NEEDS_A_PERSON = frozenset({("mfa", "key", "add"), ("account", "reactivate")})  # a log-in
# What cannot share the batch's one transaction (their own connections, or SMTP).
NOT_ATOMIC = frozenset(
    {
        ("sirene", "import"),
        ("db",),
        ("mail", "send-pending"),
        ("mail", "retry"),
        ("mail", "password"),
    }
)
STORE_OPTIONS = ("--db",)  # refused on a line: a batch runs on one store


@dataclass
class BatchOutcome:
    """What a batch did: lines run, and the lines that failed."""

    lines: int = 0  # lines run (comments and blank lines aside)
    failed: list[tuple[int, int]] = field(default_factory=list)  # (line, exit code)

    @property
    def code(self) -> int:
        return self.failed[0][1] if self.failed else 0


BOM = "\ufeff"


@dataclass(frozen=True)
class Unreadable:
    """A line that cannot run and ends the lines: too long (SEC-10), not UTF-8 (SEC-3)."""

    key: str
    params: dict[str, object] = field(default_factory=dict)
    saved_key: str | None = None  # the sentence when earlier lines saved something


def lines(source: IO[str] | IO[bytes]) -> Iterator[tuple[int, str | Unreadable]]:
    """(number, text) of each line that holds a command; a BOM that an editor put in
    front of the first line is no part of it. A line longer than ``LINE_MAX``
    characters (bytes, read from a binary source) comes as (number, Unreadable), read no
    further, and ends the lines; so does a line of a binary source that is not UTF-8:
    each line is decoded alone, so the lines before it run and the error names it."""
    number = 0
    while raw := source.readline(LINE_MAX + 2):
        number += 1
        if too_long(raw):
            yield number, Unreadable("sec10.batch_line_too_long")
            return
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                where = {"byte": f"0x{raw[exc.start]:02x}", "column": exc.start + 1}
                yield number, Unreadable("ops6.line_not_utf8", where, "ops6.line_not_utf8.saved")
                return
        else:
            text = raw
        if number == 1:
            text = text.removeprefix(BOM)
        text = text.strip()
        if text and not text.startswith("#"):
            yield number, text


def _command_words(argv: list[str]) -> list[str]:
    """The words naming the command (``mfa key add``), root options and their values
    (``--lang en``) left out."""
    words, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--lang", "--db"):
            skip = True
        elif not arg.startswith("-"):
            words.append(arg)
    return words


def _refusal(argv: list[str], atomic: bool) -> tuple[str, dict] | None:
    """Why this line cannot run in a batch (a message key and its parameters), if so."""
    if any(a.split("=", 1)[0] in STORE_OPTIONS for a in argv):
        return "ops6.db_option", {}
    words = _command_words(argv)
    if words and words[0] in REFUSED:
        return "ops6.refused", {"command": words[0]}
    for path in NEEDS_A_PERSON:
        if tuple(words[: len(path)]) == path:
            return "ops6.refused", {"command": " ".join(path)}
    if atomic:
        for path in NOT_ATOMIC:
            if tuple(words[: len(path)]) == path:
                return "ops6.not_atomic", {"command": " ".join(path)}
    return None


class Batch:
    def __init__(
        self, entry: EntryPoint, keep_going: bool, atomic: bool, out: IO[str], err: IO[str]
    ) -> None:
        self.entry = entry  # runs one command line: ``cli.main``
        self.keep_going = keep_going
        self.atomic = atomic
        self.out = out
        self.err = err
        self.outcome = BatchOutcome()

    def say(self, key: str, **params: object) -> None:
        from chorus_cli.i18n import message

        print(message(key, **params), file=self.err)

    def fail(self, number: int, code: int, text: str) -> None:
        """A line's error on stderr, prefixed with its number (a JSON error gets a
        ``line`` field instead)."""
        self.outcome.failed.append((number, code))
        for line in text.strip().splitlines() or [""]:
            try:
                error = json.loads(line)
            except ValueError:
                error = None
            if isinstance(error, dict) and isinstance(error.get("error"), dict):
                error["error"]["line"] = number
                print(json.dumps(error, ensure_ascii=False), file=self.err)
            else:
                self.say("ops6.line_error", line=number, error=line)

    def run_line(self, number: int, argv: list[str]) -> int:
        """One line through the real command tree; stdout as is, stderr held until the
        line ends (to number its error)."""
        from chorus_cli import i18n
        from chorus_cli.commands._common import STATE
        from chorus_cli.ui import prompts

        saved = (STATE.db, STATE.lang, STATE._settings, i18n.current())
        streams = sys.stdin, sys.stderr
        sys.stdin, sys.stderr = io.StringIO(""), io.StringIO()
        prompts.forbid(number)
        code = 0
        try:
            self.entry(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            text = sys.stderr.getvalue()
            sys.stdin, sys.stderr = streams
            prompts.forbid(None)
            STATE.db, STATE.lang, STATE._settings = saved[:3]
            i18n.set_lang(saved[3])
        if code:
            self.fail(number, code, text)
        elif text:
            self.err.write(text)
        return code

    def run(self, source: IO[str] | IO[bytes]) -> BatchOutcome:
        for number, text in lines(source):
            if isinstance(text, Unreadable):
                from chorus_cli.i18n import message
                from chorus_cli.store.engine import saved_something

                # SEC-12: say what the lines before saved, when they did.
                key = text.saved_key if text.saved_key and saved_something() else text.key
                self.fail(number, 2, message(key, **text.params))
                break
            try:
                argv = shlex.split(text, comments=True)
            except ValueError as exc:  # an unbalanced quote: nothing runs after it
                from chorus_cli.i18n import message

                self.fail(number, 2, message("ops6.split", reason=str(exc)))
                break
            if argv[:1] == ["chorus"]:
                argv = argv[1:]
            if not argv:
                continue
            self.outcome.lines += 1
            refused = _refusal(argv, self.atomic)
            if refused is not None:
                from chorus_cli.i18n import message

                self.fail(number, 2, message(refused[0], **refused[1]))
                code = 2
            else:
                code = self.run_line(number, argv)
            self.out.flush()
            if code and not self.keep_going:
                break
        return self.outcome


def run(
    entry: EntryPoint,
    source: IO[str] | IO[bytes],
    *,
    keep_going: bool = False,
    atomic: bool = False,
) -> BatchOutcome:
    """OPS-6: run the lines of ``source`` through ``entry`` (``cli.main``, handed over by
    the command); with ``atomic`` in one transaction."""
    from chorus_cli.commands._common import STATE, deliver_mail
    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.kernel.errors import BadInput
    from chorus_cli.store.uow import UnitOfWork

    if atomic and keep_going:
        raise BadInput("ops6.atomic_keep_going")
    # A dry run (OUT-5) runs every line in the one unit of work, as --atomic, and rolls
    # it back: each line sees what the lines before it would have done.
    dry = STATE.dry_run
    batch = Batch(entry, keep_going, atomic or dry, sys.stdout, sys.stderr)
    if not (atomic or dry):
        return batch.run(source)
    settings = STATE.settings
    with UnitOfWork(settings, STATE.clock or SystemClock(), deferred=True) as shared:
        STATE.shared = shared
        try:
            outcome = batch.run(source)
        finally:
            STATE.shared = None
        if outcome.failed:
            batch.say("ops6.rolled_back", line=outcome.failed[0][0])
            return outcome  # leaving the block rolls everything back
        shared.finish()  # in a dry run (OUT-5), notes what it would save
    deliver_mail(settings, shared.queued_mail)
    return outcome
