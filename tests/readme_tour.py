"""The README's tour, run: every ``console`` block of "A tour", then of «Intégrateurs»
(issue 22), in order, in one shell on a fresh store, each command's output compared with
the README's (issue 13 item 9). The shell's ``chorus`` hands each command to this process,
which runs them all in process (one start-up instead of 125; see ``in_one_process``),
but ``chorus serve``: a server runs as the real executable, in the background, and curl
calls it; the section that starts it stops it, and a process the tour leaves running is
a finding (the runner stops it).

What changes from run to run is masked on both sides: times, link tokens, mailed codes,
TOTP secrets, durations, key ids, temporary paths. In the README, a line ``...`` stands
for any number of lines, and ``…`` inside a line for any text.

    .venv/bin/python -m tests.readme_tour          # run it, print each difference
    .venv/bin/python -m tests.readme_tour --show   # print what each command said
    .venv/bin/python -m tests.readme_tour --write  # put the outputs in the README
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
CHORUS = BIN / "chorus"  # the executable, for `chorus serve` (see CLIENT)
MARK = "@@chorus-tour {}@@"
STATUS = "@@chorus-status {}@@"


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)
    line: int = 0  # in the README
    status: int | None = None  # what it exited with, once run


SKIP = "<!-- not run:"  # a console block right after this comment is shown, not run
# The README's sections the tour runs, in this order, in one shell: «Intégrateurs» goes on
# from the store "A tour" leaves (its technical account's structure, its admin's session).
SECTIONS = ("## A tour", "## «Intégrateurs»")


def steps(text: str | None = None) -> list[Step]:
    """The commands of the tour's console blocks, with the lines shown after each."""
    text = README.read_text(encoding="utf-8") if text is None else text
    lines = text.splitlines()
    found: list[Step] = []
    for heading in SECTIONS:
        start = next(i for i, line in enumerate(lines) if line.startswith(heading))
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        found += _section(lines, start, end)
    return found


def _section(lines: list[str], start: int, end: int) -> list[Step]:
    found: list[Step] = []
    inside = False
    for number in range(start, end):
        line = lines[number]
        if line.startswith("```"):
            skipped = number > 0 and lines[number - 1].startswith(SKIP)
            inside = line.strip() == "```console" and not inside and not skipped
            continue
        if not inside:
            continue
        if line.startswith("$ "):
            found.append(Step(line[2:], line=number + 1))
        elif found:
            found[-1].expected.append(line)
    return found


# --- masks -------------------------------------------------------------------------------

MASKS = (
    (re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?( UTC)?)?"), "<TIME>"),
    (re.compile(r"\b\d{2}T\d{2}:\d{2}"), "<TIME>"),  # a time a narrow column folded
    (re.compile(r'"seconds": \d+(\.\d+)?'), '"seconds": <S>'),
    (re.compile(r"token=[A-Za-z0-9_-]+…?"), "token=<TOKEN>"),
    (re.compile(r"(?<![\d+])\d{6}(?!\d)"), "<CODE>"),
    (re.compile(r"\b(?:[A-Z2-7]{4} ){7}[A-Z2-7]{4}\b"), "<SECRET>"),
    (re.compile(r"secret=[A-Z2-7]+"), "secret=<SECRET>"),
    (re.compile(r"\b(en|in) \d+[.,]\d+ s\b"), r"\1 <S> s"),
    (re.compile(r"\b[0-9a-f]{16}\b"), "<KEYID>"),
    (re.compile(r"(?:/tmp|/dev/shm)/[\w.-]+"), "<TMP>"),  # TMPDIR: see the Makefile
)


def masked(line: str) -> str:
    for pattern, replacement in MASKS:
        line = pattern.sub(replacement, line)
    return line.rstrip()


def _pattern(expected: str) -> re.Pattern[str]:
    parts = [re.escape(part) for part in masked(expected).split("…")]
    return re.compile(".*?".join(parts) + r"\s*$")


def differences(expected: list[str], actual: list[str]) -> list[str]:
    """What differs, as ``- expected`` / ``+ actual`` lines (empty when they match)."""
    want = [line for line in expected]
    while want and not want[-1].strip():
        want.pop()
    got = [masked(line) for line in actual]
    while got and not got[-1].strip():
        got.pop()
    i = j = 0
    while i < len(want):
        if want[i].strip() in ("...", "…"):
            i += 1
            if i == len(want):
                return []
            pattern = _pattern(want[i])
            while j < len(got) and not pattern.match(got[j]):
                j += 1
            if j == len(got):
                return [f"- {want[i]}", "+ (no such line after ...)"]
            continue
        if j >= len(got):
            return [f"- {want[i]}", "+ (nothing)"]
        if not _pattern(want[i]).match(got[j]):
            return [f"- {want[i]}", f"+ {actual[j].rstrip()}"]
        i += 1
        j += 1
    if j < len(got):
        return ["- (nothing)", f"+ {actual[j].rstrip()}"]
    return []


# --- running ----------------------------------------------------------------------------


def environment(home: Path) -> dict[str, str]:
    return {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "CHORUS_DATA_DIR": str(home / "data"),
        "CHORUS_DATABASE_URL": f"sqlite:///{home / 'chorus.db'}",
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "COLUMNS": "80",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


# --- chorus in one process ----------------------------------------------------------------

# The ``chorus`` the tour's shell finds first on its PATH: a few lines of Python (no site,
# ~10 ms) that hand their argv, directory and environment to the process running the tour,
# which runs chorus' own entry point in process (chorus_cli.inprocess, as the tests and the
# demo do) and sends back what it wrote to stdout and stderr, in the order it wrote it, and
# its exit status. Piped stdin is sent only if the command reads it, as a process would
# (``echo "$PASSWORD" | chorus account activate "$(mailed_link …)"``: the inner
# ``chorus mail list`` must leave the password in the pipe). One start-up for the whole
# tour instead of one per command (~0.5 s each, 125 of them); the e2e tests run the
# executable itself.
CLIENT = """import json, os, socket, sys
if sys.argv[1:2] == ["serve"]:  # a server runs until stopped: the real executable
    os.execv({chorus!r}, [{chorus!r}, *sys.argv[1:]])
request = {"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}
with socket.socket(socket.AF_UNIX) as peer:
    peer.connect({socket!r})
    channel = peer.makefile("rw", encoding="utf-8")
    channel.write(json.dumps(request) + "\\n")
    channel.flush()
    while (answer := json.loads(channel.readline())).get("stdin"):
        channel.write(json.dumps("" if sys.stdin.isatty() else sys.stdin.read()) + "\\n")
        channel.flush()
try:
    for stream, text in answer["written"]:
        out = sys.stdout if stream == "stdout" else sys.stderr
        out.write(text)
        out.flush()
except BrokenPipeError:  # chorus … | head -1: the reader went away (SEC-3)
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(0)
sys.exit(answer["code"])
"""


class _PipedStdin(io.StringIO):
    """The client's stdin, asked for at the first read only."""

    def __init__(self, channel) -> None:
        super().__init__()
        self._channel, self._asked = channel, False

    def _ask(self) -> None:
        if not self._asked:
            self._asked = True
            self._channel.write(json.dumps({"stdin": True}) + "\n")
            self._channel.flush()
            self.write(json.loads(self._channel.readline()))
            self.seek(0)

    def read(self, size: int | None = -1) -> str:
        self._ask()
        return super().read(size)

    def readline(self, size: int | None = -1) -> str:
        self._ask()
        return super().readline(size)

    def __iter__(self):
        self._ask()
        return super().__iter__()


@contextmanager
def in_one_process(home: Path) -> Iterator[Path]:
    """A folder holding the ``chorus`` client, served by this process while in use."""
    import socket
    import threading

    from chorus_cli.inprocess import invoke
    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.store import engine as engine_module

    folder = home / "bin"
    folder.mkdir()
    address = str(home / "chorus.sock")
    client = folder / "chorus"
    code = CLIENT.replace("{socket!r}", repr(address)).replace("{chorus!r}", repr(str(CHORUS)))
    client.write_text(f"#!{sys.executable} -SE\n" + code)
    client.chmod(0o700)

    def serve(listener: socket.socket) -> None:
        while True:
            try:
                peer, _ = listener.accept()
            except OSError:  # closed: the tour is over
                return
            with peer, peer.makefile("rw", encoding="utf-8") as channel:
                request = json.loads(channel.readline())
                saved_env, saved_cwd = dict(os.environ), os.getcwd()
                os.environ.clear()
                os.environ.update(request["env"])
                os.chdir(request["cwd"])
                try:
                    outcome = invoke(
                        request["argv"],
                        env=request["env"],
                        clock=SystemClock(),
                        stdin=_PipedStdin(channel),
                    )
                    answer = {"code": outcome.exit_code, "written": outcome.written}
                except BaseException as exc:  # noqa: BLE001 — shown in the tour's diff
                    answer = {"code": 70, "written": [["stderr", f"tour server: {exc!r}\n"]]}
                finally:
                    os.chdir(saved_cwd)
                    os.environ.clear()
                    os.environ.update(saved_env)
                channel.write(json.dumps(answer) + "\n")
                channel.flush()

    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(address)
        listener.listen()
        thread = threading.Thread(target=serve, args=(listener,), daemon=True)
        thread.start()
        try:
            yield folder
        finally:
            listener.shutdown(socket.SHUT_RDWR)
            listener.close()
            thread.join(timeout=10)
            engine_module.dispose_all()


@contextmanager
def fresh_home() -> Iterator[Path]:
    """A home of its own for one run of the tour, gone after it."""
    home = Path(tempfile.mkdtemp(prefix="chorus-tour-"))
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run(tour: list[Step], home: Path, left: list[str] | None = None) -> list[list[str]]:
    """Each step's output (stdout and stderr, as a terminal shows them), in one shell;
    each step's exit status goes in its ``status``. What the tour left running (a
    ``chorus serve &`` never stopped, or anything else of its process group) is stopped,
    and said in ``left``."""
    with in_one_process(home) as folder:
        return _run(tour, home, folder, [] if left is None else left)


def _run(tour: list[Step], home: Path, folder: Path, left: list[str]) -> list[list[str]]:
    script = ["set +e", f"cd {ROOT}"]  # the README is followed from the checkout
    for number, step in enumerate(tour):
        script.append(f"printf '%s\\n' '{MARK.format(number)}'")
        script.append(f"{{ {step.command}\n}} 2>&1")
        script.append(f"printf '%s\\n' \"{STATUS.format('$?')}\"")
    # What is still running in the background: said, then stopped, so that the shell's
    # stdout closes (a server holding it would keep this run waiting) and nothing stays.
    script.append("jobs -l | sed 's/^/@@chorus-left@@ /'; kill $(jobs -p) 2>/dev/null; wait")
    env = environment(home)
    env["PATH"] = f"{folder}{os.pathsep}{env['PATH']}"
    # Its own process group: a tour stuck past its time is stopped whole, with what it
    # started in the background (that would hold stdout open and keep the wait going).
    shell = subprocess.Popen(
        ["bash", "-c", "\n".join(script)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, _ = shell.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        left.append("the tour still ran after 600 s: stopped, with all it started")
        os.killpg(shell.pid, signal.SIGKILL)
        stdout, _ = shell.communicate()
    else:  # the shell's jobs are stopped; one started out of them (`( … &)`) may remain
        with suppress(ProcessLookupError):  # none: the usual case
            os.killpg(shell.pid, signal.SIGKILL)
            left.append("a process started out of the shell's jobs (`( … &)`) still ran: stopped")
    outputs: list[list[str]] = [[] for _ in tour]
    current = None
    for line in stdout.splitlines():
        found = re.fullmatch(r"@@chorus-tour (\d+)@@", line)
        status = re.fullmatch(r"@@chorus-status (\d+)@@", line)
        if line.startswith("@@chorus-left@@ "):
            job = line.removeprefix("@@chorus-left@@ ")
            left.append(f"left running after the tour (stop it in its section): {job}")
        elif found:
            current = int(found.group(1))
        elif status and current is not None:
            tour[current].status = int(status.group(1))
        elif current is not None:
            outputs[current].append(line)
    return outputs


def check() -> list[str]:
    """Every difference between the README's tour and a run of it, README line first."""
    tour = steps()
    left: list[str] = []
    with fresh_home() as home:
        outputs = run(tour, home, left)
    return findings(tour, outputs, left)


def findings(tour: list[Step], outputs: list[list[str]], left: Sequence[str] = ()) -> list[str]:
    """A step that exited non-zero without showing it, or whose output differs; a
    process the tour left running."""
    report = list(left)
    for step, output in zip(tour, outputs, strict=True):
        if step.status != 0:  # a failure the README shows says so: `; echo "exit $?"`
            diff = [f'exited {step.status} (a failure shown ends with `; echo "exit $?"`)']
        else:
            diff = differences(step.expected, output)
        if diff:
            report.append(f"README.md:{step.line}: $ {step.command}\n  " + "\n  ".join(diff))
    return report


def write(tour: list[Step], outputs: list[list[str]]) -> None:
    """Put each step's actual output in the README, except where it was shortened by
    hand (``...`` lines or ``…``): the way cog keeps sqlite-utils' docs true."""
    lines = README.read_text(encoding="utf-8").splitlines()
    for step, output in sorted(zip(tour, outputs, strict=True), key=lambda p: -p[0].line):
        if any("…" in line or line.strip() == "..." for line in step.expected):
            continue
        if not differences(step.expected, output):
            continue  # the same once masked: keep the README's lines (no churn of times)
        start = step.line  # the line after the command (0-based index)
        lines[start : start + len(step.expected)] = [line.rstrip() for line in output]
    README.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    if "--write" in argv:
        tour = steps()
        with fresh_home() as home:
            write(tour, run(tour, home))
        return 0
    if "--show" in argv:
        tour = steps()
        with fresh_home() as home:
            for step, output in zip(tour, run(tour, home), strict=True):
                print(f"$ {step.command}")
                print("\n".join(output))
        return 0
    report = check()
    print("\n\n".join(report) or "the tour runs as the README says")
    return 1 if report else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
