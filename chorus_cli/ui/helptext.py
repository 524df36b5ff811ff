"""The command line's own words in the user's language (SET-5): help, headings, usage
errors.

Help is written in English in the code (docstrings, ``help=``); the ``help`` gettext
domain translates it paragraph by paragraph, as Click rewraps paragraphs anyway. An
``Example:`` paragraph keeps its command line and translates only its label. The
vendored Click writes its headings and usage errors as English literals: they are
rendered here from the exception's parts, through the same catalogue; Typer's own
words (``Options``, ``default: …``) go through its ``gettext`` hook, pointed here.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from chorus_cli.i18n import current, help_plural, help_text

if TYPE_CHECKING:
    from chorus_cli.ui.vendored_click import ClickException, Command

# Patterns compiled on first use (re caches them): every command installs this module,
# few show help or refuse a value.
EXAMPLE = r"^(Examples?:)(\s.*)?$"

# What Click says in English literals, as msgids of the help catalogue.
USAGE = "Usage: "
HEADING = "{heading}:"
TRY = "Try '{command} {option}' for help."
ERROR = "Error: {message}"
HELP_OPTION = "Show this message and exit."
INVALID_FOR = "Invalid value for {hint}: {message}"
INVALID = "Invalid value: {message}"
MISSING = {
    "argument": "Missing argument{hint}.",
    "option": "Missing option{hint}.",
    "parameter": "Missing parameter{hint}.",
}
NO_SUCH_OPTION = "No such option: {name}"
POSSIBLE = "(Possible options: {options})"
DID_YOU_MEAN = "Did you mean {option}?"
EXTRA_ARGS = ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})")
REQUIRES_ARG = "Option {name} requires an argument."
# The parameter types' refusals, recognised by their shape.
TYPE_REFUSALS = (
    (r"^(?P<value>.+) is not one of (?P<choices>.+)\.$",
     "{value} is not one of {choices}."),
    (r"^(?P<value>.+) is not a valid (?P<kind>[a-zA-Z ]+)\.$",
     "{value} is not a valid {kind}."),
    (r"^(?P<value>.+) is not in the range (?P<range>.+)\.$",
     "{value} is not in the range {range}."),
)  # fmt: skip
TYPE_NAMES = ("integer", "int range", "float", "float range", "boolean", "UUID")
TYPER_WORDS = (
    "Arguments", "Options", "Commands", "default: {default}", "required",
    "env var: {var}", "(dynamic)", "Aborted!", "Missing command.", "No such command {name!r}.",
)  # fmt: skip
BY_POSITION = "Here the {what} is given by position: `{usage}`."
BY_OPTION = "Here the structure is given with --structure: `{usage}`."
FIXED = (
    USAGE, HEADING, TRY, ERROR, HELP_OPTION, INVALID_FOR, INVALID, *MISSING.values(),
    NO_SUCH_OPTION, POSSIBLE, DID_YOU_MEAN, EXTRA_ARGS[0], REQUIRES_ARG,
    *(msgid for _pattern, msgid in TYPE_REFUSALS), *TYPE_NAMES, *TYPER_WORDS,
    "Example:", "Examples:", BY_POSITION, BY_OPTION, "structure", "account",
)  # fmt: skip


def paragraphs(text: str) -> list[str]:
    """A docstring as Click shows it: cleaned, cut at ``\\f``, in paragraphs whose
    lines are joined (the msgids)."""
    text = inspect.cleandoc(text).split("\f", 1)[0]
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", text) if block.strip()]


def _paragraph(text: str) -> str:
    example = re.match(EXAMPLE, text, re.DOTALL)
    if example:
        return help_text(example.group(1)) + (example.group(2) or "")
    return help_text(text)


def translated(text: str | None) -> str | None:
    """A help text in the current language, paragraph by paragraph."""
    if not text:
        return text
    return "\n\n".join(_paragraph(p) for p in paragraphs(text))


def _in_language(source: str | None) -> str | None:
    return source if current() == "en" else _french_spaces(translated(source))


FRENCH_SPACE = r"(?<=«) | (?=[:;?!»])"


def _french_spaces(text: str | None) -> str | None:
    """French puts a space before ``: ; ? ! »`` and after ``«``: made non-breaking, so a
    wrapped line never starts with a lone ``»`` or ``:``."""
    return re.sub(FRENCH_SPACE, "\u00a0", text) if text else text


def _translate_texts(command: Command) -> None:
    """``command``'s own texts in the current language, from the English kept aside
    (the tree is shared by every command run in one process: the tests, a batch)."""
    if getattr(command, "_chorus_lang", "en") == current():
        return
    source = command.__dict__.setdefault(
        "_chorus_source", (command.help, command.short_help, command.epilog)
    )
    command.help, command.short_help, command.epilog = map(_in_language, source)
    command._chorus_lang = current()  # type: ignore[attr-defined]


def _translate_node(command: Command) -> None:
    """What ``command --help`` shows: its texts, its parameters' help, and the summary
    of each subcommand; the rest of the tree is left for when it is shown."""
    if getattr(command, "_chorus_params_lang", "en") != current():
        for param in command.params:
            source = param.__dict__.setdefault("_chorus_source", getattr(param, "help", None))
            if source:
                param.help = _in_language(source)  # type: ignore[attr-defined]
        command._chorus_params_lang = current()  # type: ignore[attr-defined]
    _translate_texts(command)
    for sub in getattr(command, "commands", {}).values():
        _translate_texts(sub)


def msgids(command: Command) -> Iterator[str | tuple[str, str]]:
    """Every help msgid of the tree under ``command``, then Click's and Typer's words."""
    seen: set[str] = set()

    def walk(node: Command) -> Iterator[str]:
        texts = [node.help, node.short_help, node.epilog]
        texts += [getattr(p, "help", None) for p in node.params]
        for text in texts:
            for paragraph in paragraphs(text or ""):
                if not re.match(EXAMPLE, paragraph, re.DOTALL):
                    yield paragraph
        for sub in getattr(node, "commands", {}).values():
            yield from walk(sub)

    for text in (*walk(command), *FIXED):
        if text not in seen:
            seen.add(text)
            yield EXTRA_ARGS if text == EXTRA_ARGS[0] else text


SUMMARY = 320  # the longest first sentence a command list shows, in characters


def install() -> None:
    """Point Typer's gettext and Click's usage prefix, headings and help option at the
    catalogue; translate a command's help when it is shown (about 0.1 ms a command),
    not the whole tree at start; show a subcommand's first sentence whole in a list,
    wrapped to the terminal's width, rather than cut to one line with "...". Once per
    process."""
    from chorus_cli.ui import vendored_click

    vendored_click.patch(
        gettext=help_text,
        usage_prefix=lambda: help_text(USAGE),
        heading=lambda name: help_text(HEADING).format(heading=name),  # "Options :"
        help_option=lambda: help_text(HELP_OPTION),
        summary_limit=SUMMARY,
        before_help=_translate_node,
    )


# --- usage errors -----------------------------------------------------------------------


def _hint(exc: Any) -> str:
    from chorus_cli.ui.vendored_click import join_param_hints

    if getattr(exc, "param_hint", None) is not None:
        return join_param_hints(exc.param_hint) or ""
    if getattr(exc, "param", None) is not None:
        return join_param_hints(exc.param.get_error_hint(exc.ctx)) or ""
    return ""


def _refusal(message: str) -> str:
    for pattern, msgid in TYPE_REFUSALS:
        found = re.match(pattern, message, re.DOTALL)
        if found:
            parts = found.groupdict()
            if "kind" in parts:
                parts["kind"] = help_text(parts["kind"])
            return help_text(msgid).format(**parts)
    return message


def _plain_message(message: str) -> str:
    """A UsageError's sentence (``ctx.fail``): Click's literals recognised and said."""
    extra = re.fullmatch(r"Got unexpected extra argument(?:\(s\)|s)? \((?P<args>.*)\)", message)
    if extra:
        args = extra.group("args")
        return help_plural(*EXTRA_ARGS, len(args.split())).format(args=args)
    requires = re.fullmatch(r"Option (?P<name>\S+) requires an argument\.", message)
    if requires:
        return help_text(REQUIRES_ARG).format(name=requires.group("name"))
    # Typer said "No such command …" through the catalogue, then added this in English.
    mean = re.fullmatch(r"(?P<head>.*)\. Did you mean (?P<option>.+)\?", message, re.DOTALL)
    if mean:
        head = mean.group("head")
        return f"{head}. " + help_text(DID_YOU_MEAN).format(option=mean.group("option"))
    return message


def error_message(exc: ClickException) -> str:
    """The sentence of a usage error in the current language (``format_message``)."""
    from chorus_cli.ui import vendored_click as errors

    if isinstance(exc, errors.MissingParameter):
        hint = _hint(exc)
        kind = exc.param_type or (exc.param.param_type_name if exc.param else "parameter")
        said = help_text(MISSING.get(kind, MISSING["parameter"])).format(
            hint=f" {hint}" if hint else ""
        )
        return f"{said} {exc.message}" if exc.message else said
    if isinstance(exc, errors.BadParameter):
        hint = _hint(exc)
        message = _refusal(exc.message)
        if not hint:
            return help_text(INVALID).format(message=message)
        return help_text(INVALID_FOR).format(hint=hint, message=message)
    if isinstance(exc, errors.NoSuchOption):
        said = help_text(NO_SUCH_OPTION).format(name=exc.option_name)
        if exc.possibilities:
            if len(exc.possibilities) == 1:
                said += " " + help_text(DID_YOU_MEAN).format(option=exc.possibilities[0])
            else:
                options = ", ".join(sorted(exc.possibilities))
                said += " " + help_text(POSSIBLE).format(options=options)
        return said
    return _plain_message(exc.format_message())


# A structure (or an account) is named by position in some commands and by --structure
# in others: a user who types the wrong form is answered with the right one.
NAMED_BY = {"--structure": ("structure", "ID"), "--account": ("account", "EMAIL"),
            "--email": ("account", "EMAIL"), "--id": ("structure", "ID")}  # fmt: skip


def _right_form(exc: ClickException) -> str | None:
    """The command line as this command wants it, when ``exc`` came from the other form."""
    from chorus_cli.ui import vendored_click as errors

    ctx = getattr(exc, "ctx", None)
    if ctx is None:
        return None
    params = ctx.command.params
    arguments = [p for p in params if p.param_type_name == "argument"]
    if isinstance(exc, errors.NoSuchOption) and exc.option_name in NAMED_BY and arguments:
        what, metavar = NAMED_BY[exc.option_name]
        shown = [(a.metavar or a.name or metavar).upper() for a in arguments]
        usage = " ".join([ctx.command_path, *shown])
        return help_text(BY_POSITION).format(what=help_text(what), usage=usage)
    if not any("--structure" in getattr(p, "opts", ()) for p in params):
        return None
    extra = re.fullmatch(r"Got unexpected extra argument(?:\(s\)|s)? \((?P<args>.*)\)",
                         exc.format_message())  # fmt: skip
    missing = isinstance(exc, errors.MissingParameter) and "--structure" in getattr(
        exc.param, "opts", ()
    )
    if extra or missing:
        value = extra.group("args").split()[0] if extra else "ID"
        named = [(a.metavar or a.name or "").upper() for a in arguments]
        usage = " ".join([ctx.command_path, *named, "--structure", value])
        return help_text(BY_OPTION).format(usage=usage)
    return None


def usage_error(exc: ClickException) -> str:
    """What ``exc.show()`` prints, in the current language: the usage line, the hint,
    then ``Error: …``."""
    lines = []
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        lines.append(ctx.get_usage())
        if ctx.command.get_help_option(ctx) is not None:
            lines.append(
                help_text(TRY).format(command=ctx.command_path, option=ctx.help_option_names[0])
            )
        lines.append("")
    lines.append(help_text(ERROR).format(message=error_message(exc)))
    right = _right_form(exc)
    if right:
        lines.append(right)
    return "\n".join(lines)
