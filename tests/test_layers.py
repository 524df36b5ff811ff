"""The house keeps its shape: imports go down (app, ui, bulk, domain, mail|sirene, i18n,
store, kernel), at module level or inside a function, and no package's modules import
each other in a loop. The rules are import-linter's contracts in pyproject.toml
(``[tool.importlinter]``), run by ``make lint``; these tests run them on this tree, and
on a copy of it with one wrong import added (the tree itself is never touched)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "chorus_cli"
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )


def test_layers_the_tree_keeps_every_contract():
    result = _lint(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_layers_every_folder_of_code_is_a_package_the_linter_reads():
    """A folder of modules without ``__init__.py`` is a namespace package, which the
    linter does not read: its imports would go unchecked."""
    folders = {p.parent for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}

    assert sorted(str(f) for f in folders if not (f / "__init__.py").exists()) == []


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The package's modules and the linter's configuration, copied under ``tmp_path``."""
    shutil.copytree(
        PACKAGE,
        tmp_path / "chorus_cli",
        ignore=lambda folder, names: (
            [n for n in names if not n.endswith(".py") and not Path(folder, n).is_dir()]
            + ["__pycache__"]
        ),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _add(copy: Path, module: str, text: str) -> None:
    path = copy / "chorus_cli" / module
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


@pytest.mark.parametrize(
    ("module", "imported"),
    [
        ("store/uow.py", "chorus_cli.domain.accounts"),
        ("sirene/reader.py", "chorus_cli.domain.structures"),
        ("kernel/text.py", "chorus_cli.store.models"),
        ("domain/links.py", "chorus_cli.ui.output"),
    ],
)
def test_layers_an_upward_import_even_inside_a_function_breaks_the_layers(copy, module, imported):
    _add(copy, module, f"\n\ndef _lazy():\n    import {imported}  # noqa\n")

    result = _lint(copy)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Imports go down" in result.stdout and "BROKEN" in result.stdout
    importer = "chorus_cli." + module.removesuffix(".py").replace("/", ".")
    assert f"{importer} -> {imported}" in result.stdout


def test_layers_a_loop_between_two_domain_modules_breaks_the_acyclic_contract(copy):
    # accounts imports links; links importing accounts back, lazily, closes a loop.
    _add(copy, "domain/links.py", "\n\ndef _lazy():\n    from chorus_cli.domain import accounts\n")

    result = _lint(copy)

    assert result.returncode == 1
    assert "import each other in a loop BROKEN" in result.stdout
    assert "in chorus_cli.domain" in result.stdout and ".links -> .accounts" in result.stdout


def test_layers_a_new_top_level_module_must_be_given_its_layer(copy):
    (copy / "chorus_cli" / "helpers.py").write_text("X = 1\n", encoding="utf-8")

    result = _lint(copy)

    assert result.returncode == 1
    assert "chorus_cli.helpers" in result.stdout
