"""Prompts that a pipe can answer: one line per prompt when stdin is not a terminal."""

from __future__ import annotations

import sys

from chorus_cli.i18n import message
from chorus_cli.kernel.errors import BadInput

# The number of the `chorus batch` line running now, set by ``forbid``: a line may not
# wait for a person (OPS-6). None outside a batch.
_batch_line: int | None = None


def forbid(line: int | None) -> None:
    """From now on (``line``) or no longer (None), any prompt is refused."""
    global _batch_line
    _batch_line = line


def _refuse_in_batch() -> None:
    if _batch_line is not None:
        raise BadInput("ops6.prompt", line=_batch_line)
    _refuse_in_dry_run()


def _refuse_in_dry_run() -> None:
    """A dry run (OUT-5) holds its one transaction to the end: past a step the real run
    would have committed, it may not wait for a person at a terminal (SEC-4)."""
    from chorus_cli.store.rehearsal import rehearsing

    rehearsal = rehearsing()
    if rehearsal is not None and rehearsal.committed and sys.stdin.isatty():
        raise BadInput("out5.prompt")


def _line(label: str) -> str:
    """The next stdin line; bytes that are not UTF-8 are refused (SEC-3) before any check
    sees them, so a mangled password is never counted as a wrong one."""
    return _decodable(sys.stdin.readline(), label)


def _decodable(answer: str, label: str) -> str:
    from chorus_cli.kernel.text import undecodable

    byte = undecodable(answer)
    if byte is not None:
        raise BadInput("sec3.invalid_utf8_input", prompt=label, byte=f"0x{byte:02x}")
    return answer


def ask(key: str, secret: bool = False, required: bool = True) -> str | None:
    """Ask on stderr (hidden for secrets) or read the next stdin line from a pipe."""
    _refuse_in_batch()
    label = message(key)
    if sys.stdin.isatty():
        if secret:
            import getpass

            answer = getpass.getpass(message("prompt.colon", label=label), stream=sys.stderr)
            _decodable(answer, label)
        else:
            print(message("prompt.colon", label=label), end="", file=sys.stderr, flush=True)
            answer = _line(label)
    else:
        answer = _line(label)
        if answer == "" and required:
            raise BadInput("input.missing_answer", prompt=label)
    answer = answer.rstrip("\r\n")
    return answer


def new_password(password_stdin: bool) -> str:
    """A new password: one stdin line with --password-stdin, else typed twice (ACC-4)."""
    _refuse_in_batch()
    if password_stdin:
        return _line(message("prompt.new_password")).rstrip("\r\n")
    first = ask("prompt.new_password", secret=True) or ""
    second = ask("prompt.confirm_password", secret=True) or ""
    if first != second:
        raise BadInput("password.mismatch")
    return first


def password(password_stdin: bool, key: str = "prompt.password") -> str:
    _refuse_in_batch()
    if password_stdin:
        return _line(message(key)).rstrip("\r\n")
    return ask(key, secret=True) or ""


YES = frozenset({"o", "oui", "y", "yes"})


def confirm(key: str, **params: object) -> bool:
    """A yes/no question (default no): ``[o/N]`` at a terminal, one line from a pipe."""
    from chorus_cli.i18n import message

    _refuse_in_batch()
    hint = message("prompt.yes_no_hint")
    question = f"{message(key, **params)} {hint}"
    if sys.stdin.isatty():
        print(f"{question} ", end="", file=sys.stderr, flush=True)
        answer = _line(question)
    else:
        answer = _line(question)
        if answer == "":
            raise BadInput("input.missing_answer", prompt=question)
    return answer.strip().lower() in YES


def confirm_at_terminal(needed: str, key: str, **params: object) -> bool:
    """``confirm`` for a step only a person may confirm: from a pipe it is refused with
    ``needed`` (the message saying --yes is required) before anything is read."""
    if not sys.stdin.isatty():
        raise BadInput(needed)
    return confirm(key, **params)
