"""The README's tour runs as written (issue 13 item 9): every console block of "A tour",
then of «Intégrateurs» (issue 22: a real `chorus serve` called with curl), top to bottom,
in one shell on a fresh store, each output as the README shows it (times, links, codes,
secrets and ports masked). `python -m tests.readme_tour --write` refreshes it."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from tests import readme_tour


@pytest.mark.skipif(
    shutil.which("jq") is None or shutil.which("curl") is None,
    reason="jq or curl missing: `make test` installs them",
)
def test_contract_the_readme_tour_runs_top_to_bottom_as_written():
    tour = readme_tour.steps()
    assert len(tour) > 80  # the whole tour, not one block
    # «Intégrateurs» too (API-1): a server started, called with curl, stopped
    commands = [step.command for step in tour]
    assert any(command.startswith("chorus serve") for command in commands)
    assert sum("curl -s" in command for command in commands) >= 4
    report = readme_tour.check()
    assert report == [], "\n\n".join(report)


def test_contract_the_tour_checker_catches_a_wrong_output():
    """The comparison can fail: a changed word, a missing line, an extra line."""
    shown = ["Compte marie@example.fr créé.", "id  2026-12-02T03:52:26Z"]
    assert readme_tour.differences(["Compte marie@example.fr créé.", "id  …"], shown) == []
    assert readme_tour.differences(["Compte marie@example.fr supprimé."], shown[:1])
    assert readme_tour.differences(["Compte marie@example.fr créé."], shown)
    assert readme_tour.differences(shown + ["exit 1"], shown)
    assert readme_tour.differences(["...", "id  2026-11-25T09:31:03Z"], shown) == []


def test_contract_the_tour_checker_catches_a_silent_failure():
    """A command of the tour that fails is shown failing (`; echo "exit $?"`), never
    passed off as a step that worked, even when its output was written down."""
    said = ["Lien non reconnu : collez le lien reçu par e-mail ou le jeton qu'il contient."]
    failed = readme_tour.Step('chorus account activate "$(mailed_link x@example.fr)"', said)
    failed.status = 6
    shown = readme_tour.Step('chorus account activate X; echo "exit $?"', [*said, "exit 6"])
    shown.status = 0
    report = readme_tour.findings([failed, shown], [said, [*said, "exit 6"]])
    assert len(report) == 1 and "exited 6" in report[0]


def test_contract_the_tour_stops_and_reports_a_process_left_running():
    """A section that starts a server and never stops it is a finding, and the runner
    stops what was left: the tour leaves no process behind."""
    tour = [readme_tour.Step("sleep 300 &"), readme_tour.Step("echo done", ["done"])]
    left: list[str] = []
    with readme_tour.fresh_home() as home:
        outputs = readme_tour.run(tour, home, left)
    report = readme_tour.findings(tour, outputs, left)
    assert len(report) == 1 and "left running" in report[0] and "sleep 300" in report[0]
    pid = int(re.search(r"\] *\+? *(\d+) ", left[0]).group(1))
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_contract_the_tour_stops_a_process_started_out_of_the_shells_jobs():
    """A process the shell's jobs do not hold (a subshell's ``&``, its output elsewhere)
    is stopped all the same, with the tour's process group, and is a finding."""
    tour = [readme_tour.Step("(sleep 300 > /dev/null 2>&1 & echo $!)")]
    left: list[str] = []
    with readme_tour.fresh_home() as home:
        outputs = readme_tour.run(tour, home, left)
    assert len(left) == 1 and "out of the shell's jobs" in left[0], left
    assert _stopped(int(outputs[0][0]))


def _stopped(pid: int) -> bool:
    """Whether ``pid`` is gone or dead (a zombie until init reaps it), within 10 s."""
    for _ in range(100):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.1)
    return False
