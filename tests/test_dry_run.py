"""OUT-5: `--dry-run` on every command that changes the store.

The walk runs every command of the authorisation tables (test_authz_table.py,
test_habilitations.py, on their shared ``table_world``) with --dry-run, once per exit
code its table gives (and as admin): each run exits as the real run does and leaves the
store, its outbox and the keyring exactly as they were. A command of the tree that is
neither declared read-only nor given --dry-run fails the walk. Then focused tests: the
mails listed, login and the keyring, SMTP, a dry batch, and `bulk import --dry-run`.
"""

from __future__ import annotations

import typer

from chorus_cli.commands import _dry_run
from tests.conftest import PASSWORD, Runner, snapshot
from tests.memory_keyring import MemoryKeyring
from tests.test_authz_table import ACTORS as ACCOUNT_ACTORS
from tests.test_authz_table import AUTHORISATION as ACCOUNT_TABLE
from tests.test_authz_table import NEW
from tests.test_habilitations import ACTORS as PROFILE_ACTORS
from tests.test_habilitations import ADA, MARIE, ME, PIERRE, REQUEST
from tests.test_habilitations import AUTHORISATION as PROFILE_TABLE
from tests.test_habilitations import table_world as table_world  # the shared world
from tests.test_mail import smtp_server
from tests.test_structures import RIDET

PW = PASSWORD + "\n"
CREATE = ("account", "create", "--email", "marie.curie@example.fr", "--last-name", "Curie",
          "--first-name", "Marie")  # fmt: skip


def _paths() -> dict[str, object]:
    from chorus_cli.cli import make_app
    from tests.test_docs import command_paths

    tree = typer.main.get_command(make_app())
    found = {}
    for path in command_paths(tree):
        command = tree
        for word in path.split():
            command = command.commands[word]
        found[path] = command
    return found


def _offers_dry_run(command) -> bool:
    return any("--dry-run" in getattr(p, "opts", ()) for p in command.params)


def test_out5_every_command_is_read_only_or_has_dry_run():
    """A command that may change the store gets --dry-run unless declared read-only:
    a new command cannot slip through (OUT-5)."""
    paths = _paths()
    neither = [
        p for p, c in paths.items() if p not in _dry_run.READ_ONLY and not _offers_dry_run(c)
    ]
    both = [p for p, c in paths.items() if p in _dry_run.READ_ONLY and _offers_dry_run(c)]
    stale = sorted(_dry_run.READ_ONLY - set(paths))
    assert (neither, both, stale) == ([], [], [])
    assert _offers_dry_run(paths["bulk import"]) and _offers_dry_run(paths["notify weekly"])
    assert set(_dry_run.NOT_SIMULATED) <= set(paths)


def test_out5_the_tree_built_for_one_command_has_dry_run_too():
    from chorus_cli.cli import make_app

    account = typer.main.get_command(make_app("account")).commands["account"]
    assert _offers_dry_run(account.commands["create"])
    assert not _offers_dry_run(account.commands["show"])


def _path(args: tuple[str, ...]) -> str:
    words = [a for a in args if not a.startswith("-")]
    for length in (3, 2, 1):
        if " ".join(words[:length]) in _paths_cache():
            return " ".join(words[:length])
    return " ".join(words[:1])


_CACHE: dict = {}


def _paths_cache() -> dict:
    if not _CACHE:
        _CACHE.update(_paths())
    return _CACHE


def _cells():
    """(args, stdin, who, real exit code) of each changing command of the tables: one
    actor per exit code the table gives, and admin. test_authz_table runs its actors on
    one clone, refusals first: a code given after the first actor that may act depends
    on what that one did, so admin's is then None (found by a real run on a clone)."""
    for (args, stdin), codes in ACCOUNT_TABLE.items():
        expected = dict(zip(ACCOUNT_ACTORS, codes, strict=True))
        order = sorted(expected, key=lambda kind: expected[kind] not in (4, 5))
        acting = [kind for kind in order if expected[kind] not in (4, 5)][:1]
        safe = [kind for kind in order if expected[kind] in (4, 5)] + acting
        chosen: dict[int | None, str] = {}
        for kind in safe:
            chosen.setdefault(expected[kind], kind)
        if "admin" not in chosen.values():
            chosen[expected["admin"] if "admin" in safe else None] = "admin"
        for code, kind in chosen.items():
            typed = tuple(a.replace(NEW, f"new.{kind}@example.fr") for a in args)
            yield typed, stdin, ACCOUNT_ACTORS[kind], code
    for args, codes in PROFILE_TABLE.items():  # every cell on a fresh clone there
        chosen = {}
        for kind, code in zip(PROFILE_ACTORS, codes, strict=True):
            chosen.setdefault(code, kind)
        chosen[codes[list(PROFILE_ACTORS).index("admin")]] = "admin"
        for code, kind in chosen.items():
            yield tuple(args), None, PROFILE_ACTORS[kind], code


def _as(world, url: str, who: str | None, args: tuple[str, ...], stdin: str | None, env=None):
    """Run chorus as ``who`` on the clone at ``url`` (their session moved there)."""
    from chorus_cli.store.keychain import store_id

    old, new = store_id(world.url), store_id(url)
    sessions = world.sessions[who] if who else {}
    MemoryKeyring.entries = {
        (service, user.replace(old, new)): secret for (service, user), secret in sessions.items()
    }
    _as.keyring = dict(MemoryKeyring.entries)
    runner = Runner(url, world.home, world.clock)
    runner.env.update(env or {})
    return runner(*args, input=stdin)


def _real(world, who, args, stdin) -> int:
    """The real run's exit code, on a clone of its own."""
    url = world.clone()
    try:
        return _as(world, url, who, args, stdin).exit_code
    finally:
        world.drop(url)


def _walk(world, cells, read_only: bool, run) -> set[str]:
    """``run(url, path, who, args, stdin, code)`` (its failures) for each cell whose
    command is (``read_only``) or is not declared read-only, all on one clone: after
    each, the store (outbox and audit log included) and the keyring must be the world's.
    Returns the paths walked."""
    url = world.clone()
    failures, walked = [], set()
    try:
        for args, stdin, who, code in cells:
            path = _path(args)
            if (path in _dry_run.READ_ONLY) != read_only:
                continue
            walked.add(path)
            typed = tuple(
                a.replace(ME, who or "").replace(REQUEST, str(world.request)) for a in args
            )
            failures += run(url, path, who, typed, stdin, code)
            if snapshot(url) != world.rows:
                failures.append((path, who, "changed the store"))
                break  # every later cell would start from a changed world
            if _as.keyring != MemoryKeyring.entries:
                failures.append((path, who, "changed the keyring"))
    finally:
        world.drop(url)
    assert failures == [], failures
    return walked


def test_out5_every_changing_command_of_the_tables_changes_nothing_in_a_dry_run(table_world):
    """One clone for the whole walk: a dry run changes nothing, so each run starts from
    the world as built; each exits as the real run does and says it is a dry run."""

    def dry(url, path, who, typed, stdin, code):
        if code is None:
            code = _real(table_world, who, typed, stdin)
        result = _as(table_world, url, who, (*typed, "--dry-run"), stdin)
        expected = 2 if path in _dry_run.NOT_SIMULATED else code
        if result.exit_code != expected:
            return [(path, who, expected, result.exit_code, result.stderr.strip())]
        if "OUT-5" not in result.stderr:
            return [(path, who, "no dry-run header", result.stderr.strip())]
        return []

    assert _walk(table_world, _cells(), False, dry)


def test_out5_every_read_only_command_of_the_tables_writes_nothing(table_world, tmp_path):
    """READ_ONLY is a declaration: each of its commands the tables give runs for real
    (no --dry-run, which it does not offer) and leaves the store and the keyring as
    they were (the world's clock stands still: a session's last use does not move)."""
    sqlite = table_world.url.startswith("sqlite")
    open_cells = [  # OPEN's (test_authz_table): no right to check, in no table
        (("mail", "show", "1"), None, None, 0),
        # a SQLite store's backup; PostgreSQL's is pg_dump's (exit 2, nothing read)
        (("db", "backup", str(tmp_path / "copy.db")), None, None, 0 if sqlite else 2),
    ]

    def real(url, path, who, typed, stdin, code):
        result = _as(table_world, url, who, typed, stdin)  # exits as the table says
        if code is not None and result.exit_code != code:
            return [(path, who, code, result.exit_code, result.stderr.strip())]
        return []

    walked = _walk(table_world, [*_cells(), *open_cells], True, real)
    assert walked == _dry_run.READ_ONLY - {"demo"}, sorted(_dry_run.READ_ONLY - walked)


# Changing commands of OPEN (no right to check, so in no table of arguments): each run
# for real on a clone of its own, then dry on the walk's clone.
OPEN_CELLS = [
    (("account", "forgot-password", PIERRE), None, None),
    (("account", "activate", "not-a-token", "--password-stdin"), PW, None),
    (("account", "reset-password", "not-a-token", "--password-stdin"), PW, None),
    (("login", PIERRE, "--password-stdin"), PW, None),
    (("login-address", "confirm", "not-a-token"), None, None),
    (("login-address", "cancel"), None, PIERRE),
    (("mail", "retry", "1"), None, None),
    (("mail", "discard", "1"), None, None),
    (("mail", "send-pending"), None, None),
    (("notify", "weekly"), None, None),
    (("seed", "--accounts", "3", "--structures", "1"), None, None),
    (("batch", "-"), f"structure update {RIDET} --label Siège\nhabil list\n", MARIE),
    (("db", "upgrade"), None, None),
    (("db", "copy", "--to", "sqlite:////nonexistent/x.db"), None, None),
    (("sirene", "import", "/nonexistent.csv"), None, ADA),
    (("account", "reactivate", PIERRE, "--password-stdin"), PW, None),
    (("mail", "password", "--url", "smtp://chorus@127.0.0.1:25", "--password-stdin"), PW, None),
    (("mfa", "key", "add", "--password-stdin"), PW, PIERRE),
    (("serve", "--host", "0.0.0.0"), None, None),  # refused (API-3) before listening
]
# Walked by a focused test below instead.
FOCUSED = {"bulk import", "mfa totp add"}


def test_out5_the_walks_run_every_changing_command_of_the_tree():
    walked = {_path(args) for args, _stdin, _who, _code in _cells()}
    walked |= {_path(args) for args, _stdin, _who in OPEN_CELLS}
    changing = set(_paths_cache()) - _dry_run.READ_ONLY
    assert changing - walked == FOCUSED


def test_out5_the_open_commands_exit_as_the_real_run_and_change_nothing(table_world):
    url = table_world.clone()
    failures = []
    try:
        for args, stdin, who in OPEN_CELLS:
            path = _path(args)
            real = _real(table_world, who, args, stdin)
            expected = 2 if path in _dry_run.NOT_SIMULATED else real
            result = _as(table_world, url, who, (*args, "--dry-run"), stdin)
            if result.exit_code != expected:
                failures.append((path, expected, result.exit_code, result.stderr.strip()))
            if snapshot(url) != table_world.rows:
                failures.append((path, "changed the store"))
                break
            if _as.keyring != MemoryKeyring.entries:
                failures.append((path, who, "changed the keyring"))
    finally:
        table_world.drop(url)
    assert failures == [], failures


# --- focused ------------------------------------------------------------------------


def test_out5_account_create_lists_the_audit_row_and_the_mail_and_saves_nothing(cli, unchanged):
    with unchanged():
        result = cli(
            "account", "create", "--email", "marie.curie@example.fr", "--last-name", "Curie",
            "--first-name", "Marie", "--json", "--dry-run", "--lang", "en",
        )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.json()["login_email"] == "marie.curie@example.fr"  # stdout as the real run
    lines = result.stderr.splitlines()
    start = lines.index("Dry run (OUT-5): nothing was saved.")
    assert lines[start + 1 :] == [
        "  would change: account.create marie.curie@example.fr (by anonymous)",
        "  would mail marie.curie@example.fr: “Chorus Pro: activate your account”",
    ]
    assert cli.mails() == []


def test_out5_a_refused_dry_run_exits_as_the_real_one_and_says_nothing_would_change(cli, unchanged):
    created = cli.create("marie.curie@example.fr")
    assert created.exit_code == 0
    with unchanged():
        result = cli(*CREATE, "--dry-run")
    assert result.exit_code == 1
    assert "Simulation (OUT-5) : rien n'a été enregistré.\n  rien ne changerait." in result.stderr
    assert "ACC-2" in result.stderr


def test_out5_structure_approve_lists_the_mails_to_its_requester(table_world):
    url = table_world.clone()
    try:
        result = _as(table_world, url, ADA, ("structure", "approve", "C99999", "--dry-run"), None)
        assert result.exit_code == 0, result.stderr
        assert "would change" not in result.stderr  # French by default
        changes = [line for line in result.stderr.splitlines() if "changerait :" in line]
        mails = [line for line in result.stderr.splitlines() if "enverrait à" in line]
        assert changes and all("C99999" in line for line in changes[:1])
        assert any("remi.requester@example.fr" in line and "« " in line for line in mails)
        assert snapshot(url) == table_world.rows
    finally:
        table_world.drop(url)


def test_out5_login_dry_run_keeps_no_session_in_the_keyring(table_world):
    """Both steps: the code mailed (listed, not saved), then --code on a real attempt:
    the session would open, but neither the store nor the keyring keeps it."""
    url = table_world.clone()
    try:
        first = _as(table_world, url, None, ("login", PIERRE, "--password-stdin", "--dry-run"), PW)
        assert first.exit_code == 0, first.stderr
        assert MemoryKeyring.entries == {}
        assert f"enverrait à {PIERRE}" in first.stderr
        assert snapshot(url) == table_world.rows
        real = Runner(url, table_world.home, table_world.clock)
        assert real("login", PIERRE, "--password-stdin", input=PW).exit_code == 0
        kept = dict(MemoryKeyring.entries)
        before = snapshot(url)
        code = real.last_code(PIERRE)
        second = real("login", PIERRE, "--code", code, "--dry-run")
        assert second.exit_code == 0, second.stderr
        assert "Connecté en tant que" in second.stderr
        assert MemoryKeyring.entries == kept  # no session token, the attempt still there
        assert snapshot(url) == before
        assert real("whoami").exit_code == 5
        assert real("login", PIERRE, "--code", code).exit_code == 0  # the code still works
    finally:
        table_world.drop(url)


def test_out5_logout_dry_run_keeps_the_session(table_world):
    url = table_world.clone()
    try:
        result = _as(table_world, url, PIERRE, ("logout", "--dry-run"), None)
        assert result.exit_code == 0, result.stderr
        assert snapshot(url) == table_world.rows
        assert Runner(url, table_world.home, table_world.clock)("whoami").exit_code == 0
    finally:
        table_world.drop(url)


def test_out5_no_mail_goes_to_smtp_in_a_dry_run(cli, unchanged):
    with smtp_server() as (port, inbox):
        cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
        with unchanged():
            created = cli(*CREATE, "--dry-run")
        assert created.exit_code == 0, created.stderr
        assert inbox.envelopes == []
        cli.env.pop("CHORUS_SMTP_URL")
        assert cli.create("marie.curie@example.fr").exit_code == 0  # queued, not sent
        cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
        with unchanged():
            sent = cli("mail", "send-pending", "--dry-run")
        assert sent.exit_code == 0, sent.stderr
        assert inbox.envelopes == []
        assert "remettrait au serveur SMTP le mail pour marie.curie@example.fr" in sent.stderr


def test_out5_a_dry_batch_runs_every_line_in_one_rolled_back_unit(table_world):
    """The second line sees the first (one unit of work); nothing is kept."""
    url = table_world.clone()
    try:
        lines = (
            f"structure service add {RIDET} --code COMPTA --label Compta\n"
            f"structure service update {RIDET} COMPTA --label Comptabilité\n"
        )
        result = _as(table_world, url, MARIE, ("batch", "-", "--dry-run"), lines)
        assert result.exit_code == 0, result.stderr
        assert result.stderr.count("Simulation (OUT-5)") == 1
        assert result.stderr.count("changerait :") >= 2
        assert snapshot(url) == table_world.rows
    finally:
        table_world.drop(url)


def test_out5_not_simulated_commands_are_refused_with_a_sentence(cli, unchanged):
    with unchanged():
        result = cli("db", "upgrade", "--dry-run", "--lang", "en")
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("`chorus db upgrade` cannot be simulated (OUT-5)")


def test_out5_bulk_import_dry_run_keeps_its_own_report(table_world, tmp_path):
    url = table_world.clone()
    try:
        path = tmp_path / "agents.csv"
        path.write_text("login_email,last_name,first_name\nneuf@example.fr,Neuf,Ana\n")
        args = ("bulk", "import", str(path), "--kind", "accounts", "--dry-run", "--json")
        result = _as(table_world, url, ADA, args, None)
        assert result.exit_code == 0, result.stderr
        assert result.json()["created"] == 1 and result.json()["dry_run"] is True
        assert "OUT-5" not in result.stderr  # its own words, as before
        assert snapshot(url) == table_world.rows
    finally:
        table_world.drop(url)


def test_out5_a_dry_line_of_an_atomic_batch_is_rolled_back_alone(table_world, tmp_path):
    """Before OUT-5 a `bulk import --dry-run` line of an --atomic batch was committed
    with the batch; now each dry line runs in a savepoint that is rolled back."""
    url = table_world.clone()
    try:
        path = tmp_path / "agents.csv"
        path.write_text("login_email,last_name,first_name\nneuf@example.fr,Neuf,Ana\n")
        lines = f"bulk import {path} --kind accounts --dry-run\n"
        imported = _as(table_world, url, ADA, ("batch", "-", "--atomic"), lines)
        assert imported.exit_code == 0, imported.stderr
        assert snapshot(url) == table_world.rows
        lines = (
            f"structure update {RIDET} --label Siège --dry-run\n"
            f"structure service add {RIDET} --code COMPTA --label Compta\n"
        )
        both = _as(table_world, url, MARIE, ("batch", "-", "--atomic"), lines)
        assert both.exit_code == 0, both.stderr
        assert "Simulation (OUT-5)" in both.stderr
        shown = _as(table_world, url, MARIE, ("structure", "show", RIDET, "--json"), None)
        assert shown.json()["label"] != "Siège"  # the dry line: rolled back
        services = _as(table_world, url, MARIE, ("structure", "service", "list", RIDET), None)
        assert "COMPTA" in services.stdout  # the other line: committed with the batch
    finally:
        table_world.drop(url)


def test_out5_seed_dry_run_on_an_empty_store_counts_and_keeps_nothing(cli, unchanged):
    with unchanged():
        result = cli("seed", "--accounts", "5", "--structures", "2", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert (
        "Simulation (OUT-5) : rien n'a été enregistré.\n  changerait : seed store" in result.stderr
    )
    assert cli("seed", "--accounts", "5", "--structures", "2").exit_code == 0  # still empty


def test_out5_totp_add_dry_run_keeps_no_seed_key_in_the_keyring(table_world):
    url = table_world.clone()
    try:
        args = ("mfa", "totp", "add", "--password-stdin", "--json", "--dry-run")
        result = _as(table_world, url, PIERRE, args, PW)
        assert result.exit_code == 0, result.stderr
        assert "secret" in result.stdout or result.json()
        assert MemoryKeyring.entries == _as.keyring  # no new seed key
        assert snapshot(url) == table_world.rows
    finally:
        table_world.drop(url)


def test_out5_sec4_a_dry_run_waits_for_no_one_after_a_step_it_would_have_committed(table_world):
    """`login` at a terminal: the password's step would be committed (the code mailed),
    then the code is asked. The dry run still holds its one transaction there: it
    refuses to wait (exit 2, OUT-5) rather than hold the store while a person types,
    and saves nothing."""
    from chorus_cli.inprocess import invoke
    from tests.test_support import Terminal

    url = table_world.clone()
    try:
        terminal = Terminal([PASSWORD, "123456"], lambda: None)
        MemoryKeyring.entries = {}
        runner = Runner(url, table_world.home, table_world.clock)
        result = invoke(
            ["login", PIERRE, "--password-stdin", "--dry-run", "--lang", "en"],
            env=runner.env,
            clock=runner.clock,
            stdin=terminal,
        )
        assert result.exit_code == 2, result.stderr
        assert "OUT-5" in result.stderr and "SEC-4" in result.stderr
        assert terminal.prompts == 1  # the password (stdin), never the code
        assert snapshot(url) == table_world.rows
        assert MemoryKeyring.entries == {}
    finally:
        table_world.drop(url)
