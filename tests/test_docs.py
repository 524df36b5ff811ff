"""The README documents every command, so docs never drift from the code (STYLE)."""

from pathlib import Path

import typer

from chorus_cli.cli import app

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def command_paths(group, prefix=()):
    for name, command in getattr(group, "commands", {}).items():
        path = (*prefix, name)
        if hasattr(command, "commands"):
            yield from command_paths(command, path)
        else:
            yield " ".join(path)


def test_every_command_is_in_the_readme():
    paths = list(command_paths(typer.main.get_command(app)))
    assert "account create" in paths and "login" in paths
    missing = [p for p in paths if f"chorus {p}" not in README]
    assert missing == []


def test_readme_starts_with_the_two_setup_commands():
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
