"""The house keeps its shape (issue 13): imports go down, commands → ui → domain → store,
and the domain's modules import each other in no loop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from chorus_cli.tools import layers


def test_layers_no_module_imports_upward_and_no_new_cycle():
    result = subprocess.run(
        [sys.executable, "-m", "chorus_cli.tools.layers"], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert layers.ALLOWED_CYCLES == {}


def _tree(root: Path, files: dict[str, str]) -> Path:
    package = root / "chorus_cli"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package


def test_layers_an_upward_import_fails_naming_the_file_and_line(tmp_path, capsys):
    package = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "ui/__init__.py": "",
            "ui/output.py": "def say(): ...\n",
            "domain/__init__.py": "",
            "kernel/errors.py": "",
            "domain/rules.py": (
                "from chorus_cli.domain import errors\n"
                "\n"
                "def check():\n"
                "    from chorus_cli.ui.output import say  # lazy, still upward\n"
            ),
            "store/__init__.py": "",
            "store/models.py": "from chorus_cli.domain import rules\n",
            "commands/__init__.py": "",
            "commands/run.py": "from chorus_cli.domain import rules\nfrom chorus_cli import ui\n",
        },
    )

    code = layers.main([str(package)])

    shown = capsys.readouterr().out.splitlines()
    assert code == 1
    assert shown == [
        "chorus_cli/domain/rules.py:4: chorus_cli.domain.rules imports chorus_cli.ui.output"
        " (domain -> ui)",
        "chorus_cli/store/models.py:1: chorus_cli.store.models imports chorus_cli.domain.rules"
        " (store -> domain)",
    ]


def test_layers_a_cycle_among_domain_modules_fails_and_type_only_imports_do_not_count(
    tmp_path, capsys
):
    package = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "domain/__init__.py": "",
            "domain/a.py": "from chorus_cli.domain import b\n",
            "domain/b.py": "def f():\n    from chorus_cli.domain import a\n",
            "domain/c.py": (
                "from typing import TYPE_CHECKING\n"
                "from chorus_cli.domain import a\n"
                "if TYPE_CHECKING:\n"
                "    from chorus_cli.domain import c2\n"
            ),
            "domain/c2.py": "from chorus_cli.domain import c\n",
        },
    )

    code = layers.main([str(package)])

    assert code == 1
    assert capsys.readouterr().out.splitlines() == [
        "import cycle: chorus_cli.domain.a -> chorus_cli.domain.b"
    ]
