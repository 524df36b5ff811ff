"""SET-5 depends on Typer's private copy of Click (``typer._click``), all of it used
through ``chorus_cli/ui/vendored_click.py``. These tests fail loudly when an upgrade of
Typer changes what that module patches, or the English sentences ``ui/helptext.py``
recognises and says in French."""

from __future__ import annotations

import inspect
import io
from enum import StrEnum
from typing import Annotated

import pytest
import typer

from chorus_cli.i18n import current, set_lang
from chorus_cli.ui import helptext, vendored_click


@pytest.fixture(autouse=True)
def _lang():
    saved = current()
    yield
    set_lang(saved)


def _original(owner: type, name: str):  # type: ignore[no-untyped-def]
    return vendored_click.ORIGINALS.get((owner, name)) or getattr(owner, name)


@pytest.mark.parametrize(
    ("owner", "name"), list(vendored_click.PATCHED), ids=lambda v: getattr(v, "__name__", v)
)
def test_set5_each_method_vendored_click_patches_exists_with_the_parameters_it_passes_on(
    owner, name
):
    original = _original(owner, name)

    assert callable(original), f"typer._click: {owner.__name__}.{name} is gone"
    assert tuple(inspect.signature(original).parameters) == vendored_click.PATCHED[owner, name]


def test_set5_typer_still_translates_through_a_module_gettext_and_wraps_closed_pipes():
    import typer.core
    from typer._click import utils

    assert callable(typer.core._)
    assert vendored_click.output_closed(utils.PacifyFlushWrapper(io.StringIO()))
    assert not vendored_click.output_closed(io.StringIO())
    assert vendored_click.join_param_hints(["-f", "--format"]) == "'-f' / '--format'"


def test_set5_click_still_writes_the_english_usage_heading_and_help_option_helptext_knows():
    formatter = vendored_click.HelpFormatter()
    _original(vendored_click.HelpFormatter, "write_usage")(formatter, "chorus", "ARGS")
    _original(vendored_click.HelpFormatter, "write_heading")(formatter, "Options")
    command = typer.main.get_command(_app())
    ctx = vendored_click.Context(command, info_name="t")
    option = _original(vendored_click.Command, "get_help_option")(command, ctx)

    lines = formatter.getvalue().splitlines()
    assert lines[0].startswith(helptext.USAGE + "chorus")
    assert lines[1] == helptext.HEADING.format(heading="Options")
    assert option.help == helptext.HELP_OPTION


class Colour(StrEnum):
    red = "red"
    blue = "blue"


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def run(
        name: Annotated[str, typer.Argument()],
        email: Annotated[str, typer.Option("--email")],
        count: Annotated[int, typer.Option("--count")] = 1,
        colour: Annotated[Colour, typer.Option("--colour")] = Colour.red,
        level: Annotated[int, typer.Option("--level", min=0, max=5)] = 0,
    ) -> None: ...

    return app


def _usage_error(args: list[str]) -> vendored_click.ClickException:
    command = typer.main.get_command(_app())
    with pytest.raises(vendored_click.ClickException) as caught:
        command.main(args=args, prog_name="t", standalone_mode=False)
    return caught.value


@pytest.mark.parametrize(
    ("args", "kind", "english"),
    [
        (["--email", "a@b.fr"], vendored_click.MissingParameter, None),  # the argument
        (["x"], vendored_click.MissingParameter, None),  # the option
        (["x", "--email", "a@b.fr", "--count", "many"], vendored_click.BadParameter, None),
        (["x", "--email", "a@b.fr", "--colour", "green"], vendored_click.BadParameter, None),
        (["x", "--email", "a@b.fr", "--level", "9"], vendored_click.BadParameter, None),
        (["x", "--email", "a@b.fr", "--emial", "c"], vendored_click.NoSuchOption, None),
        (["x", "--email", "a@b.fr", "--nothing"], vendored_click.NoSuchOption, None),
        # Click's "argument(s)" is said as English says it
        (["x", "y", "z", "--email", "a@b.fr"], vendored_click.UsageError,
         "Got unexpected extra arguments (y z)"),
        (["x", "--email"], vendored_click.UsageError, None),  # requires an argument
    ],
)  # fmt: skip
def test_set5_helptext_says_each_click_usage_error_as_click_does_in_english_and_translates_it(
    args, kind, english
):
    exc = _usage_error(args)
    set_lang("en")
    said_in_english = helptext.error_message(exc)
    set_lang("fr")
    said_in_french = helptext.error_message(exc)

    assert isinstance(exc, kind)
    # rebuilt from Click's parts, word for word
    assert said_in_english == (english or exc.format_message())
    assert said_in_french != said_in_english  # recognised, hence said in French


def test_set5_click_still_shows_a_usage_error_with_the_english_try_and_error_lines():
    exc = _usage_error(["x"])
    shown = io.StringIO()

    exc.show(file=shown)

    lines = shown.getvalue().splitlines()
    assert helptext.TRY.format(command="t", option="--help") in lines
    assert lines[-1] == helptext.ERROR.format(message=exc.format_message())
