"""Output at human scale (issue 20): bounded listings (OUT-2), ``--fields`` and
``--format jsonl`` (OUT-3), ``--excel`` on CSV output (OUT-4). Listings are found by
walking the command tree over the authorisation tables' world, so a new listing, or a
new command that shows data, cannot skip them."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest

from tests.conftest import Runner
from tests.memory_keyring import MemoryKeyring
from tests.test_habilitations import table_world as table_world  # the shared world

NNBSP = "\u202f"  # French thousands separator


def add_mails(cli, count: int) -> None:
    """``count`` mails in the outbox, as chorus writes them (one statement)."""
    from chorus_cli.store.models import Mail
    from tests.test_structures import store_session

    now = cli.clock.now()
    rows = [
        {
            "to": f"p{n:05d}@example.fr",
            "sender": "chorus@example.fr",
            "subject": f"Sujet {n}",
            "body": f"Corps {n}",
            "body_redacted": f"Corps {n}",
            "kind": "notice",
            "created_at": now + timedelta(seconds=n),
            "status": "sent",
            "attempts": 0,
        }
        for n in range(count)
    ]
    with store_session(cli) as session:
        session.execute(Mail.__table__.insert(), rows)
        session.commit()


def add_audit(cli, actor: str, count: int) -> None:
    from chorus_cli.store.models import AuditEntry
    from tests.test_structures import store_session

    now = cli.clock.now()
    rows = [
        {"at": now, "actor": actor, "action": "bench.row", "target": f"t{n}", "details": "{}"}
        for n in range(count)
    ]
    with store_session(cli) as session:
        session.execute(AuditEntry.__table__.insert(), rows)
        session.commit()


def csv_rows(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


# --- OUT-2: bounded listings ---------------------------------------------------------


def test_out2_a_listing_of_150_rows_shows_100_and_says_so_on_stderr(cli):
    add_mails(cli, 150)
    shown = cli("mail", "list")
    assert shown.exit_code == 0, shown.stderr
    assert "100 sur 150 affichés ; --all pour tout" in shown.stderr
    subjects = {int(n) for n in re.findall(r"Sujet (\d+)", shown.stdout)}
    assert subjects == set(range(50, 150))  # newest first: the last 100
    english = cli("--lang", "en", "mail", "list")
    assert "100 of 150 shown; --all for all" in english.stderr
    every = cli("mail", "list", "--all", "--json")
    assert every.exit_code == 0, every.stderr
    assert len(every.json()) == 150 and every.stderr == ""
    table = cli("mail", "list", "--all")
    assert table.stderr == ""
    assert {int(n) for n in re.findall(r"Sujet (\d+)", table.stdout)} == set(range(150))


def test_out2_json_csv_and_jsonl_stdout_hold_the_rows_alone(cli):
    add_mails(cli, 150)
    as_json = cli("mail", "list", "--json")
    assert [m["subject"] for m in as_json.json()] == [f"Sujet {n}" for n in range(149, 49, -1)]
    as_csv = cli("mail", "list", "--format", "csv")
    assert len(csv_rows(as_csv.stdout)) == 100
    as_jsonl = cli("mail", "list", "--format", "jsonl")
    lines = as_jsonl.stdout.splitlines()
    assert len(lines) == 100 and json.loads(lines[0])["subject"] == "Sujet 149"
    for result in (as_json, as_csv, as_jsonl):
        assert result.exit_code == 0 and result.stderr == ""


def test_out2_offset_and_limit_choose_the_rows_shown(cli):
    add_mails(cli, 150)
    page = cli("mail", "list", "--json", "--limit", "10", "--offset", "20")
    assert [m["subject"] for m in page.json()] == [f"Sujet {n}" for n in range(129, 119, -1)]
    tail = cli("mail", "list", "--offset", "140")
    assert tail.exit_code == 0 and "affichés" not in tail.stderr  # nothing more to show
    assert "Sujet 0" in tail.stdout
    short = cli("mail", "list", "--limit", "10")
    assert "10 sur 150 affichés" in short.stderr
    assert len(cli("mail", "list", "--json", "--all", "--offset", "100").json()) == 50


def test_out2_offset_and_limit_choose_the_rows_of_a_listing_paged_in_memory(cli):
    """`habil catalogue` pages its rows in memory (``store.listing.cut``), as `mfa list`,
    `admin roles` and the attachment listings do: the same --offset and --limit."""
    cli.logged_in()
    every = cli("habil", "catalogue", "--json", "--all").json()
    assert len(every) > 6
    page = cli("habil", "catalogue", "--json", "--offset", "2", "--limit", "3")
    assert page.json() == every[2:5]
    shown = cli("habil", "catalogue", "--offset", "2", "--limit", "3")
    assert f"3 sur {len(every)} affichés" in shown.stderr
    assert cli("habil", "catalogue", "--json", "--offset", str(len(every))).json() == []


def test_out2_numbers_in_the_notice_follow_the_language(cli):
    add_mails(cli, 2002)
    assert f"100 sur 2{NNBSP}002 affichés" in cli("mail", "list").stderr
    assert "100 of 2,002 shown" in cli("--lang", "en", "mail", "list").stderr


def test_out2_bad_bounds_are_bad_input(cli):
    for args in (("--limit", "0"), ("--limit", "10001"), ("--offset", "-1"),
                 ("--limit", "5", "--all")):  # fmt: skip
        result = cli("mail", "list", *args)
        assert result.exit_code == 2, (args, result.stderr)
        assert result.stdout == ""
    assert "OUT-2" in cli("mail", "list", "--limit", "5", "--all").stderr


def test_out2_audit_list_is_bounded_and_streams_with_all(cli):
    me = cli.logged_in()
    add_audit(cli, me, 150)
    shown = cli("audit", "list")
    assert shown.exit_code == 0, shown.stderr
    assert "sur" in shown.stderr and "--all pour tout" in shown.stderr
    lines = cli("audit", "list", "--all", "--format", "jsonl").stdout.splitlines()
    assert len(lines) > 150
    assert len([json.loads(line) for line in lines if "bench.row" in line]) == 150


def test_out2_account_list_counts_only_past_the_page(cli):
    """`account list` of 151 accounts: 100 shown, the count of all of them said."""
    from chorus_cli.store.models import Account
    from tests.test_structures import grant_role, store_session

    admin = cli.logged_in("ada.admin@example.fr")
    grant_role(cli, admin, "admin")
    with store_session(cli) as session:
        session.add_all(
            Account(login_email=f"a{n:03d}@example.fr", contact_email=f"a{n:03d}@example.fr",
                    first_name="A", last_name="B", created_at=cli.clock.now())
            for n in range(150)
        )  # fmt: skip
        session.commit()
    listed = cli("account", "list")
    assert listed.exit_code == 0, listed.stderr
    assert "100 sur 151 affichés ; --all pour tout" in listed.stderr
    assert "a099@example.fr" in listed.stdout and "a100@example.fr" not in listed.stdout
    assert len(cli("account", "list", "--all", "--json").json()) == 151
    assert cli("account", "list", "--json", "--offset", "150").json()[0]["login_email"] == admin


# --- the tree walk: every listing is bounded, every data command takes --fields -----


def _options(command) -> set[str]:
    return {opt for param in command.params for opt in getattr(param, "opts", [])}


def _commands():
    import typer

    from chorus_cli.cli import app

    def walk(group, prefix=()):
        for name, command in getattr(group, "commands", {}).items():
            if hasattr(command, "commands"):
                yield from walk(command, (*prefix, name))
            else:
                yield " ".join((*prefix, name)), command

    return dict(walk(typer.main.get_command(app)))


# Commands with a --format of their own, and why they keep their columns.
OWN_FORMAT = {"bulk export": "the flow's file (OPS-2), columns fixed for its re-import"}


def test_out3_every_command_with_format_takes_fields_and_excel_and_jsonl():
    with_format = {
        p: c for p, c in _commands().items() if "--format" in _options(c) and p not in OWN_FORMAT
    }
    assert {"account list", "mail show", "audit list", "whoami"} <= set(with_format)
    for path, command in with_format.items():
        assert {"--fields", "--excel"} <= _options(command), path
        chosen = next(p for p in command.params if "--format" in p.opts)
        if "table" in getattr(chosen.type, "choices", ()):
            assert "jsonl" in chosen.type.choices, path


# Commands whose --json output is a list but is no listing: what they just did.
NOT_LISTINGS = {
    "attach approve": "the requests just decided, as many as were named",
    "attach reject": "the requests just decided, as many as were named",
}


def test_out3_every_command_with_fields_declares_them_before_it_runs():
    """Every command that shows data declares its fields (``_common.data_fields``), read
    where its rows are built: --fields is checked before it runs, so a change is never
    made for an output then refused (OUT-3). A new command cannot slip through."""
    from chorus_cli.commands._common import fields_declared

    commands = _commands()
    shaped = {p: c for p, c in commands.items() if "--fields" in _options(c)}
    assert {"account list", "structure members", "habil catalogue", "seed"} <= set(shaped)
    undeclared = sorted(p for p, c in shaped.items() if fields_declared(c.callback) is None)
    assert undeclared == []
    # and a declaration ("module:NAME" read here) is on a command that shows data only
    declaring = {p for p, c in commands.items() if hasattr(c.callback, "chorus_fields")}
    assert declaring == set(shaped)
    for path, command in shaped.items():
        declared = fields_declared(command.callback)
        assert declared and len(set(declared)) == len(declared), path


# Commands the walk below runs whose declared fields cover more than one shape of
# output, and why: each shape keeps the declaration's order.
SEVERAL_SHAPES = {
    "account notifications": "JSON's record of choices, or a table's rows of them",
}
# Commands with --fields the walk cannot run (no cell of the tables where one may act
# without stdin): what keeps their declaration true instead.
NOT_WALKED = {
    "login": "a password on stdin; its fields are whoami's and the attempt's",
    "account reactivate": "as login",
    "account technical reset-password": "Issued.view's, as technical create (walked)",
    "mail show": "mail list's (walked)",
    "mfa key add": "mfa list's (walked)",
    "mfa totp add": "zipped from ENROLMENT_FIELDS",
    "mfa totp confirm": "mfa list's (walked)",
    "login-address change": "login-address status's (walked with no change under way; "
    "the pending shape, test_login_address's OUT-3 test)",
    "login-address confirm": "two of login-address status's (login_email, status), as change",
    "notify weekly": "zipped from SENT_FIELDS and ROW_FIELDS",
    "seed": "SeedSummary's fields",
    "bulk import": "the fields _summary_data gives an empty summary",
    "db copy": "describe reads DESCRIBED",
    "sirene import": "IndexSummary's fields",
    "sirene update": "UpdateSummary's fields",
    "sirene lookup": "Establishment's fields",
}
# Listings the walk runs whose rows the world has none of (no factor, technical account,
# API client or SIRENE index there): where their rows are held to the declaration instead.
EMPTY_IN_WORLD = {
    "mfa list": "test_mfa's MFA-5 list test (a TOTP app and a key)",
    "mfa key list": "test_mfa's MFA-4 register-list test",
    "account technical list": "test_technical's TECH-1 create test",
    "api client list": "test_technical's API-2 client test",
    "sirene search": "test_sirene's STR-3 non-diffusible search test",
}


@pytest.mark.parametrize("table_world", ["sqlite"], indirect=True)
def test_out2_every_listing_takes_limit_offset_and_all(table_world):
    """Every command that shows data (but NOT_WALKED's) runs once on the authorisation
    tables' world, as an actor the table lets through, with --json: each row (or its
    record) shows exactly the fields it declares (OUT-3), in that order (SEVERAL_SHAPES':
    some of them, in that order), so that a declaration kept beside a row's builder
    cannot drift from it, and a new command is walked or says why not (a listing the
    world leaves empty, where its rows are held to it: EMPTY_IN_WORLD); each whose output
    is a list of rows is a listing and must take --limit, --offset and --all, checked as
    every listing checks them (--limit with --all is bad input, OUT-2, before the command
    runs)."""
    from chorus_cli.commands._common import fields_declared
    from tests.test_authz_table import ACTORS as ACCOUNT_ACTORS
    from tests.test_authz_table import AUTHORISATION as ACCOUNT_TABLE
    from tests.test_authz_table import NEW
    from tests.test_habilitations import ACTORS, ME, REQUEST
    from tests.test_habilitations import AUTHORISATION as PROFILE_TABLE

    commands = _commands()
    entries: list[tuple[tuple[str, ...], str | None]] = []
    for (args, stdin), codes in ACCOUNT_TABLE.items():
        if stdin is None and 0 in codes:
            entries.append((args, list(ACCOUNT_ACTORS.values())[codes.index(0)]))
    for args, codes in PROFILE_TABLE.items():
        if 0 in codes:
            entries.append((args, list(ACTORS.values())[codes.index(0)]))
    listings, run, lines, empty = set(), set(), {}, set()
    for args, who in entries:
        path = next((p for p in commands if args[: len(p.split())] == tuple(p.split())), None)
        if path is None or path in run or "--json" not in _options(commands[path]):
            continue
        run.add(path)
        typed = [
            a.replace(ME, who or "")
            .replace(REQUEST, str(table_world.request))
            .replace(NEW, "new.walk@example.fr")
            for a in args
        ]
        url = table_world.clone()
        try:
            if who is None:
                MemoryKeyring.entries = {}
                result = Runner(url, table_world.home, table_world.clock)(*typed, "--json")
            else:
                result = table_world.run(who, url, *typed, "--json")
        finally:
            table_world.drop(url)
        assert result.exit_code == 0, (path, result.stderr)
        shown = result.json()
        declared = fields_declared(commands[path].callback)
        rows = shown if isinstance(shown, list) else [shown]
        if not rows:  # nothing to hold to the declaration here: EMPTY_IN_WORLD says where
            empty.add(path)
        for row in rows:  # each row (or the record): exactly those, in that order
            kept = [f for f in declared if f in row] if path in SEVERAL_SHAPES else declared
            assert list(row) == list(kept), path
        if isinstance(shown, list) and path not in NOT_LISTINGS:
            listings.add(path)
            lines[path] = typed
    shaped = {p for p, c in commands.items() if "--fields" in _options(c)}
    assert shaped - run == set(NOT_WALKED) and set(SEVERAL_SHAPES) <= run
    assert empty == set(EMPTY_IN_WORLD)
    assert {"account list", "mail list", "audit list", "structure members", "habil list",
            "attach pending", "mfa list", "admin roles", "account history"} <= listings  # fmt: skip
    for path in listings:
        assert {"--limit", "--offset", "--all"} <= _options(commands[path]), path
        # No one logged in: refused before the command runs, the store unread.
        MemoryKeyring.entries = {}
        refused = Runner(table_world.url, table_world.home, table_world.clock)(
            *lines[path], "--limit", "5", "--all"
        )
        assert refused.exit_code == 2 and "OUT-2" in refused.stderr, (path, refused.stderr)
        # OUT-3: an unknown field is refused before the command runs.
        unknown = Runner(table_world.url, table_world.home, table_world.clock)(
            *lines[path], "--fields", "colour"
        )
        assert unknown.exit_code == 2 and "OUT-3" in unknown.stderr, (path, unknown.stderr)


# --- OUT-3: --fields and --format jsonl --------------------------------------------


def test_out3_fields_keep_those_fields_in_that_order_in_every_format(cli):
    add_mails(cli, 3)
    wanted = ["subject", "id", "status"]
    as_json = cli("mail", "list", "--json", "--fields", "subject,id,status")
    assert [list(row) for row in as_json.json()] == [wanted] * 3
    as_jsonl = cli("mail", "list", "--format", "jsonl", "--fields", "subject, id,status")
    assert [list(json.loads(line)) for line in as_jsonl.stdout.splitlines()] == [wanted] * 3
    as_csv = cli("mail", "list", "--format", "csv", "--fields", "subject,id,status")
    assert as_csv.stdout.splitlines()[0] == "subject,id,status"
    table = cli("mail", "list", "--fields", "body,to")  # body is not in the default table
    assert table.exit_code == 0, table.stderr
    assert "Corps 2" in table.stdout and "Sujet" not in table.stdout, table.stdout
    assert table.stdout.index("Corps 2") < table.stdout.index("p00002@example.fr")


def test_out3_fields_on_a_single_record_checked_before_it_runs(cli):
    add_mails(cli, 1)
    mail_id = str(cli("mail", "list", "--json").json()[0]["id"])
    shown = cli("mail", "show", mail_id, "--json", "--fields", "to,subject")
    assert shown.json() == {"to": "p00000@example.fr", "subject": "Sujet 0"}
    line = cli("mail", "show", mail_id, "--format", "jsonl", "--fields", "subject")
    assert line.stdout == '{"subject": "Sujet 0"}\n'
    table = cli("mail", "show", mail_id, "--fields", "subject")
    assert "Sujet 0" in table.stdout and "p00000" not in table.stdout
    # the fields `mail show` declares are checked before it looks for the mail
    unknown = cli("mail", "show", "999999", "--fields", "colour")
    assert unknown.exit_code == 2 and "OUT-3" in unknown.stderr and "subject" in unknown.stderr


def test_out3_an_unknown_field_is_bad_input_naming_the_valid_ones(cli):
    add_mails(cli, 2)
    for args in (("mail", "list"), ("mail", "list", "--json"), ("mail", "list", "--all")):
        result = cli(*args, "--fields", "id,colour")
        assert result.exit_code == 2, (args, result.stderr)
        assert result.stdout == ""
        assert "colour" in result.stderr and "OUT-3" in result.stderr
        assert "subject" in result.stderr and "next_attempt_at" in result.stderr
    empty = cli("mail", "list", "--fields", " , ")
    assert empty.exit_code == 2 and "OUT-3" in empty.stderr
    # with no row to show, the listing's fields still say which are known
    none = cli("mail", "list", "--to", "nobody@example.fr", "--json", "--fields", "colour")
    assert none.exit_code == 2 and "subject" in none.stderr


def test_out3_an_empty_csv_has_the_fields_asked_for_as_its_header(cli):
    header = cli("mail", "list", "--to", "nobody@example.fr", "--format", "csv",
                 "--fields", "subject,id")  # fmt: skip
    assert header.exit_code == 0 and header.stdout == "subject,id\n"


def test_out3_an_unknown_field_refuses_account_create_before_it_runs(cli, unchanged):
    """`account create` declares its record's fields (the account's view): an unknown
    one is bad input before anything is saved, and the sentence does not say it was."""
    with unchanged():
        made = cli("account", "create", "--email", "new.one@example.fr", "--last-name", "One",
                   "--first-name", "New", "--json", "--fields", "colour")  # fmt: skip
    assert made.exit_code == 2 and "OUT-3" in made.stderr and made.stdout == ""
    assert "enregistrée" not in made.stderr and "login_email" in made.stderr, made.stderr
    kept = cli("account", "create", "--email", "new.one@example.fr", "--last-name", "One",
               "--first-name", "New", "--json", "--fields", "status,login_email")  # fmt: skip
    assert kept.json() == {"status": "pending", "login_email": "new.one@example.fr"}


def test_out3_an_unknown_field_leaves_every_changing_command_undone(table_world):
    """Every changing command that shows data, in every cell of the authorisation tables
    (and those open to all), with --fields naming an unknown field: exit 2 naming OUT-3,
    before it runs, whatever it would have done; the store (outbox and audit log too)
    and the keyring stay the world's (``test_dry_run._walk``, the ``unchanged`` check)."""
    from chorus_cli.commands import _dry_run
    from tests.test_dry_run import OPEN_CELLS, PW, _as, _cells, _path, _walk
    from tests.test_habilitations import ADA, PIERRE

    commands = _commands()

    def refused(url, path, who, typed, stdin, code):
        result = _as(table_world, url, who, (*typed, "--fields", "colour"), stdin)
        if result.exit_code != 2 or "OUT-3" not in result.stderr or result.stdout:
            return [(path, who, result.exit_code, result.stderr.strip())]
        return []

    cells = [
        *_cells(),
        *((args, stdin, who, None) for args, stdin, who in OPEN_CELLS),
        (("bulk", "import", "/nonexistent.csv", "--kind", "accounts"), None, ADA, None),
        (("mfa", "totp", "add", "--password-stdin"), PW, PIERRE, None),
    ]
    shaped = {p for p, c in commands.items() if "--fields" in _options(c)}
    walked = _walk(table_world, [c for c in cells if _path(c[0]) in shaped], False, refused)
    assert shaped - _dry_run.READ_ONLY - walked == set()
    assert {"account create", "login", "seed", "bulk import", "habil grant"} <= walked


def test_out3_listings_take_format_jsonl(cli):
    add_mails(cli, 3)
    result = cli("mail", "list", "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["subject"] for r in rows] == ["Sujet 2", "Sujet 1", "Sujet 0"]
    assert cli("mail", "list", "--format", "jsonl", "--to", "x@example.fr").stdout == ""


# --- OUT-4: --excel on CSV output ----------------------------------------------------


def test_out4_excel_writes_csv_french_excel_opens(cli):
    add_mails(cli, 3)
    result = cli("mail", "list", "--format", "csv", "--excel", "--fields", "id,subject")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("\ufeffid;subject\r\n")
    assert result.stdout.count("\r\n") == 4 and "\n" not in result.stdout.replace("\r\n", "")
    rows = csv_rows(result.stdout.removeprefix("\ufeff"), ";")
    assert [r["subject"] for r in rows] == ["Sujet 2", "Sujet 1", "Sujet 0"]
    # --excel alone is CSV for Excel; it does not go with JSON
    assert (
        cli("mail", "list", "--excel").stdout
        == cli("mail", "list", "--format", "csv", "--excel").stdout
    )
    refused = cli("mail", "list", "--json", "--excel")
    assert refused.exit_code == 2 and "OUT-4" in refused.stderr and refused.stdout == ""


def test_out3_a_declared_field_the_record_lacks_this_time_shows_null(cli):
    """`seed` declares `technical_accounts`, shown only with --technical-accounts: asked
    for without, it is null (as a listing's missing field), not refused once saved."""
    seeded = cli("seed", "--accounts", "1", "--structures", "1", "--json",
                 "--fields", "accounts,technical_accounts")  # fmt: skip
    assert seeded.exit_code == 0, seeded.stderr
    assert seeded.json() == {"accounts": 1, "technical_accounts": None}


def test_out3_a_field_of_another_shape_is_null_not_refused_once_sent(cli):
    """`notify weekly` shows JSON's record or a table's rows: a field of the record asked
    of the table passed the check before it ran (it is declared), so the table shows it
    empty rather than refuse it once the mails are sent."""
    sent = cli("notify", "weekly", "--format", "csv", "--fields", "to,mailed")
    assert sent.exit_code == 0, sent.stderr
    assert sent.stdout.splitlines()[0] == "to,mailed"
