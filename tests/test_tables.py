"""What users read (issue 13, SET-5): at 80 columns a table never cuts an identifier (a
SIRET, an e-mail, a request id, a time, an action or a status), other columns wrap;
an empty listing says so on stderr at a terminal and keeps its CSV header. Rendering
only, so on SQLite alone, with test_listings' cast."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from tests.conftest import PASSWORD
from tests.test_habilitations import table_world as table_world  # the OUT-1 walk's
from tests.test_listings import HUGO, LEA, world  # noqa: F401  (the fixture)
from tests.test_provisioning import ADA, BAKERY, COMMUNE, CORINNE, MARIE, PAUL, SAM

pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)

ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
COMMENT = "Je tiens la comptabilité de la boulangerie depuis 2019, pour le cabinet Durand"


def whole_on_one_line(table: str, *values: str) -> None:
    lines = table.splitlines()
    for value in values:
        assert any(value in line for line in lines), f"{value!r} cut in:\n{table}"


def fits(table: str, width: int = 80) -> None:
    assert max(len(line.rstrip()) for line in table.splitlines()) <= width, table


@pytest.fixture
def narrow(world):  # noqa: F811
    """test_listings' world at 80 columns, with Paul's request to join Marie's bakery."""
    world.cli.env["COLUMNS"] = "80"
    asked = world(PAUL, "attach", "request", "--structure", BAKERY, "--comment", COMMENT, "--json")
    assert asked.exit_code == 0, asked.stderr
    world.request = str(asked.json()["id"])
    return world


def run(world, who: str, *args: str) -> str:  # noqa: F811
    result = world(who, *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_set5_account_list_structure_list_and_roles_fit_80_columns_whole(narrow):
    accounts = run(narrow, ADA, "account", "list")
    whole_on_one_line(accounts, LEA, HUGO, CORINNE, "pending")
    fits(accounts)
    structures = run(narrow, ADA, "structure", "list")
    whole_on_one_line(structures, COMMUNE, BAKERY, LEA, MARIE)
    fits(structures)
    roles = run(narrow, ADA, "admin", "roles")
    whole_on_one_line(roles, "correspondent", CORINNE, *ISO_TIME.findall(roles))
    assert ISO_TIME.search(roles)
    fits(roles)


def test_set5_attachment_tables_keep_request_ids_emails_times_and_statuses(narrow):
    pending = run(narrow, MARIE, "attach", "pending")
    whole_on_one_line(pending, PAUL, BAKERY)
    # A row of the table, or at 80 columns the record layout (OUT-1): its words whole.
    row = rf"^{narrow.request} +{re.escape(PAUL)} |^id +{narrow.request}\n\S+ +{re.escape(PAUL)}$"
    assert re.search(row, pending, re.MULTILINE), pending
    assert ISO_TIME.search(pending)
    assert "comptabilité" in pending  # the comment wraps, by words
    approved = run(narrow, MARIE, "attach", "approve", narrow.request)
    whole_on_one_line(approved, PAUL, BAKERY, MARIE, "approved")
    mine = run(narrow, PAUL, "attach", "list")
    whole_on_one_line(mine, BAKERY, "structure", "active", *ISO_TIME.findall(mine))
    assert ISO_TIME.search(mine)
    history = run(narrow, PAUL, "account", "history")
    whole_on_one_line(history, BAKERY, MARIE, "approved", "structure")
    assert ISO_TIME.search(history)
    profiles = run(narrow, PAUL, "habil", "list")
    whole_on_one_line(profiles, BAKERY)
    fits(profiles)


def test_set5_audit_list_keeps_times_and_actions_whole_with_details_as_key_value(narrow):
    table = run(narrow, ADA, "audit", "list", "--limit", "5")
    # The audit time was folded ("2026-1" / "3Z") when only *_at names were kept whole.
    assert len(ISO_TIME.findall(table)) == 5
    whole_on_one_line(table, "attachment.request", PAUL, BAKERY, "account.create", HUGO)
    assert f"request={narrow.request}" in table and "type=structure" in table
    assert "{" not in table and '"request"' not in table  # no JSON blob
    as_json = narrow(ADA, "audit", "list", "--limit", "1", "--json").json()
    assert as_json[0]["details"]["type"] == "structure"  # JSON unchanged
    as_csv = run(narrow, ADA, "audit", "list", "--limit", "1", "--format", "csv")
    assert '"{""request"": ' in as_csv  # CSV unchanged: the JSON object


def test_set5_mail_structure_and_sirene_searches_fit_80_columns_whole(narrow):
    mails = run(narrow, ADA, "mail", "list", "--limit", "4")
    whole_on_one_line(mails, MARIE, LEA, HUGO, "pending")
    assert len(ISO_TIME.findall(mails)) == 4
    fits(mails)
    found = run(narrow, ADA, "structure", "search", "val de briane")
    whole_on_one_line(found, COMMUNE, "SIRET", "active")
    fits(found)
    sirene = run(narrow, ADA, "sirene", "search", "val de briane")
    whole_on_one_line(sirene, COMMUNE, "21389999000021", "25389999100017", "38350")
    fits(sirene)
    assert run(
        narrow, MARIE, "structure", "service", "add", BAKERY, "--code", "ACHATS", "--label",
        "Achats et approvisionnements",
    )  # fmt: skip
    services = run(narrow, MARIE, "structure", "service", "list", BAKERY)
    whole_on_one_line(services, BAKERY, "ACHATS", *ISO_TIME.findall(services))
    fits(services)


def test_set5_notify_and_mfa_tables_fit_80_columns_whole(narrow):
    import pyotp

    from tests.test_seed_key import new_key

    run(narrow, MARIE, "account", "notifications", "--on", "Facturation CPRO", "--weekly")
    run(narrow, MARIE, "attach", "approve", narrow.request)  # a movement for the summary
    weekly = run(narrow, MARIE, "notify", "weekly", "--dry-run")
    whole_on_one_line(weekly, MARIE, BAKERY)
    fits(weekly)
    narrow.cli.env["CHORUS_SEED_KEY"] = new_key()  # the world swaps keyrings per user
    added = narrow(MARIE, "mfa", "totp", "add", "--name", "Téléphone pro", "--json",
                   input=PASSWORD + "\n")  # fmt: skip
    code = pyotp.TOTP(added.json()["secret"]).at(narrow.cli.clock.now())
    assert narrow(MARIE, "mfa", "totp", "confirm", code).exit_code == 0
    factors = run(narrow, MARIE, "mfa", "list")
    whole_on_one_line(factors, "totp", *ISO_TIME.findall(factors))
    assert ISO_TIME.search(factors)
    fits(factors)


def test_set5_english_headings_set_the_widths_too(narrow):
    narrow.cli.env["CHORUS_LANG"] = "en"
    structures = run(narrow, ADA, "structure", "list")
    assert "primary manager" in structures
    whole_on_one_line(structures, COMMUNE, BAKERY, LEA, MARIE)
    fits(structures)


# --- empty results -----------------------------------------------------------------

# Every listing, with arguments that find nothing for Sam (support, in no structure).
EMPTY = {
    ("account", "list", "--search", "zzzq"): "account list",
    ("account", "history"): "account history",
    ("attach", "pending", "--structure", COMMUNE): "attach pending",
    ("attach", "list"): "attach list",
    ("habil", "list"): "habil list",
    ("audit", "list", "--actor", "nobody@example.fr"): "audit list",
    ("mail", "list", "--to", "nobody@example.fr"): "mail list",
    ("structure", "list", "--department", "01"): "structure list",
    ("structure", "search", "zzzq"): "structure search",
    ("structure", "pending"): "structure pending",
    ("sirene", "search", "zzzq"): "sirene search",
    ("mfa", "list"): "mfa list",
    ("mfa", "key", "list"): "mfa key list",
}


def test_set5_an_empty_listing_keeps_its_csv_header(narrow):
    """The header of an empty CSV is the one the same listing has with rows in it."""
    full = {
        "account list": (ADA, "account", "list"),
        "account history": (PAUL, "account", "history"),
        "attach pending": (MARIE, "attach", "pending"),
        "attach list": (MARIE, "attach", "list"),
        "habil list": (MARIE, "habil", "list"),
        "audit list": (ADA, "audit", "list"),
        "mail list": (ADA, "mail", "list"),
        "structure list": (ADA, "structure", "list"),
        "structure search": (ADA, "structure", "search", "val de briane"),
        "sirene search": (ADA, "sirene", "search", "val de briane"),
    }
    headers = {}
    for name, (who, *args) in full.items():
        shown = run(narrow, who, *args, "--format", "csv")
        headers[name] = next(csv.reader(io.StringIO(shown)))
    for args, name in EMPTY.items():
        result = narrow(SAM, *args, "--format", "csv")
        assert result.exit_code == 0, (args, result.stderr)
        rows = list(csv.reader(io.StringIO(result.stdout)))
        assert len(rows) == 1, (args, result.stdout)  # the header alone
        if name in headers:
            assert rows[0] == headers[name], args
    assert rows[0] == ["id", "type", "name", "created_at", "last_used_at"]  # mfa key list
    pending = narrow(SAM, "structure", "pending", "--format", "csv").stdout
    assert pending.splitlines() == [
        "identifier,id_type,raison_sociale,label,status,requester,created_at"
    ]


class _Terminal:
    """``sys`` as output.py sees it when stderr is a terminal (in process, it is not)."""

    class _Tty:
        def __init__(self, stream) -> None:  # noqa: ANN001
            self._stream = stream

        def isatty(self) -> bool:
            return True

        def __getattr__(self, name: str):  # noqa: ANN204
            return getattr(self._stream, name)

    def __getattr__(self, name: str):  # noqa: ANN204
        import sys

        return self._Tty(sys.stderr) if name == "stderr" else getattr(sys, name)


def test_set5_an_empty_listing_says_nothing_found_at_a_terminal_only(narrow, monkeypatch):
    for args in EMPTY:
        piped = narrow(SAM, *args)
        assert piped.exit_code == 0 and piped.stdout == "", args
        assert "Aucun résultat" not in piped.stderr, args
    monkeypatch.setattr("chorus_cli.ui.output.sys", _Terminal())
    for args in EMPTY:
        shown = narrow(SAM, *args)
        assert shown.exit_code == 0 and shown.stdout == "", args
        # "Nothing found", or a hint that says as much and what to do.
        assert re.search(r"Aucun|aucune", shown.stderr), (args, shown.stderr)


# --- help -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_set5_command_summaries_in_help_are_never_cut_at_80_columns(cli, lang):
    """Click cuts a long summary with "..."; chorus wraps the first sentence whole."""
    from chorus_cli.cli import GROUPS

    cli.env["COLUMNS"] = "80"
    nodes = [[], *([name] for name in GROUPS), ["mfa", "totp"], ["mfa", "key"],
             ["structure", "service"]]  # fmt: skip
    for node in nodes:
        shown = cli("--lang", lang, *node, "--help")
        assert shown.exit_code == 0, shown.stderr
        listed = shown.stdout.split("\n\n")[-1]  # the commands, last
        assert listed.strip() and "..." not in listed, (node, listed)
        assert max(map(len, shown.stdout.splitlines())) <= 80, node


def test_mfa5_key_list_with_only_a_totp_app_says_there_is_no_key(cli):
    import pyotp

    cli.logged_in(MARIE)
    added = cli("mfa", "totp", "add", "--json", input=PASSWORD + "\n").json()
    assert cli("mfa", "totp", "confirm", pyotp.TOTP(added["secret"]).at(cli.clock.now()))
    keys = cli("mfa", "key", "list")
    assert keys.exit_code == 0 and keys.stdout == ""
    assert "Aucune clé de sécurité" in keys.stderr and "chorus mfa key add" in keys.stderr
    assert "ni clé" not in keys.stderr  # not "neither an app nor a key": there is an app
    assert "totp" in cli("mfa", "list").stdout


def test_set5_a_wrapping_column_keeps_its_words_whole_when_the_table_can(store_url):  # noqa: ARG001
    """Of two columns that wrap, the one with a long word ("d'authentification") keeps it
    whole and the other gives way, rather than both shrinking alike and the word folding
    into "d'authentificatio" / "n"; when even the longest words cannot fit, no table
    (OUT-1: the rows are printed as records)."""
    from chorus_cli.ui.tables import _widths

    keys = ["id", "subject", "comment", "created_at"]
    subject = "Chorus Pro : votre code d'authentification"
    comment = "une remarque assez longue faite de mots plutôt courts"
    row = ["16", subject, comment, "2026-12-02T06:37:58Z"]
    widths = _widths(keys, [row], 56)  # 17 each if both gave way alike
    assert widths[1] >= len("d'authentification") and sum(widths) <= 56
    assert widths[0] == 2 and widths[3] == 20
    assert _widths(keys, [row], 40) is None


# --- OUT-1: every listing of the tree fits, in both languages ---------------------------

# Commands outside the authorisation tables that show data, with arguments to run them.
OPEN_RUNS = [("notify", "weekly", "--dry-run"), ("mail", "show", "1")]
# Commands that take --json and that the walk does not run here, each with why it is
# not a listing; a command the walk can neither run nor find here is reported.
NOT_LISTINGS = {
    "login": "a session's summary, one record",
    "seed": "its summary, one record (an empty store only)",
    "account reactivate": "one account, one record",
    "mfa totp add": "the secret and its link, one record",
    "mfa key add": "the new key, one record",
    "db copy": "the copy's counts, one record",
    "bulk import": "its summary: JSON or CSV, never a table",
    "login-address confirm": "the change, one record",
    "login-address change": "the change under way, one record",
    "mfa totp confirm": "the confirmed app, one record",
    "sirene import": "its summary: JSON or CSV, never a table",
    "sirene lookup": "one establishment, one record",
    "sirene update": "its summary, one record (it needs the INSEE API: test_sirene_update)",
    "account technical reset-password": "the new password, one record",
}
# Listings the walk runs without a row to draw, each with why.
EMPTY_HERE = {
    "mfa key list": "a security key cannot be added without one at hand (MFA-4); the same "
    "table code draws mfa list",
}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
SIRET = re.compile(r"(?<!\d)\d{14}(?!\d)")


def _identifiers(data: object) -> set[str]:
    """The e-mails and SIRETs anywhere in a command's JSON output."""
    if isinstance(data, dict):
        return _identifiers(list(data.values()))
    if isinstance(data, list | tuple):
        return set().union(*map(_identifiers, data))
    text = "" if data is None else str(data)
    return set(EMAIL.findall(text)) | set(SIRET.findall(text))


def _as(built, url: str, who: str, *args: str, env: dict | None = None, input=None):  # noqa: A002, ANN001
    """``chorus ARGS`` as ``who`` on the clone at ``url`` (their session moved there)."""
    from chorus_cli.store.keychain import store_id
    from tests.conftest import Runner
    from tests.memory_keyring import MemoryKeyring

    old, new = store_id(built.url), store_id(url)
    MemoryKeyring.entries = {
        (service, user.replace(old, new)): secret
        for (service, user), secret in built.sessions[who].items()
    }
    runner = Runner(url, built.home, built.clock)
    runner.env.update(env or {})
    return runner(*args, input=input)


def _sirene_index(built, url: str, who: str) -> None:  # noqa: ANN001
    """The bundled SIRENE sample, for `sirene search` to find rows."""
    from chorus_cli.sirene import sample_files

    establishments, units = sample_files()
    imported = _as(built, url, who, "sirene", "import", str(establishments),
                   "--unites-legales", str(units))  # fmt: skip
    assert imported.exit_code == 0, imported.stderr


def _a_totp_app(built, url: str, who: str) -> None:  # noqa: ANN001
    """An authentication app, for `mfa list` to show a row."""
    import pyotp

    from tests.test_seed_key import new_key

    env = {"CHORUS_SEED_KEY": new_key()}
    added = _as(built, url, who, "mfa", "totp", "add", "--json", env=env, input=PASSWORD + "\n")
    code = pyotp.TOTP(added.json()["secret"]).at(built.clock.now())
    assert _as(built, url, who, "mfa", "totp", "confirm", code, env=env).exit_code == 0


def _a_technical_account(built, url: str, who: str) -> None:  # noqa: ANN001
    """A technical account (TECH-1), for `account technical list` to show a row."""
    from tests.test_structures import RIDET

    made = _as(built, url, who, "account", "technical", "create", "--structure", RIDET)
    assert made.exit_code == 0, made.stderr


def _an_api_client(built, url: str, who: str) -> None:  # noqa: ANN001
    """A registered API client (API-2), for `api client list` to show a row."""
    assert _as(built, url, who, "api", "client", "add", "ERP de la mairie").exit_code == 0


# What a listing needs in the built before it has rows to show.
PREPARE = {
    "sirene search": _sirene_index,
    "mfa list": _a_totp_app,
    "account technical list": _a_technical_account,
    "api client list": _an_api_client,
}


def _tree_runs(built) -> dict[str, list[tuple[tuple[str, ...], list[str]]]]:  # noqa: ANN001
    """Every command of the tree that takes --json, with the argument lists the
    authorisation tables (and OPEN_RUNS) run it with, each with the actors who may
    run it there, admin first."""
    import typer

    from chorus_cli.cli import app
    from tests import test_authz_table as authz
    from tests import test_habilitations as profiles
    from tests import test_structures as structures

    def leaves(group, path=()):  # noqa: ANN001, ANN202
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from leaves(command, (*path, name))
            else:
                yield " ".join((*path, name)), command

    def who(actors: dict, codes: tuple) -> list[str]:
        allowed = [
            actors[kind] or profiles.ADA
            for kind, code in zip(actors, codes, strict=True)
            if code == 0
        ]
        return sorted(set(allowed) & set(built.sessions), key=lambda e: e != profiles.ADA)

    commands = dict(leaves(typer.main.get_command(app)))
    candidates = [
        *((a, who(authz.ACTORS, c)) for (a, stdin), c in authz.AUTHORISATION.items() if not stdin),
        *((a, who(profiles.ACTORS, c)) for a, c in profiles.AUTHORISATION.items()),
        *(
            (("structure", *a), who(structures.ACTORS, c))
            for a, c in structures.AUTHORISATION.items()
        ),
        *((a, [profiles.ADA]) for a in OPEN_RUNS),
    ]
    runs: dict[str, list] = {
        path: [] for path, command in commands.items()
        if any("--json" in param.opts for param in command.params)
    }  # fmt: skip
    for args, actors in candidates:
        path = max(
            (" ".join(args[:n]) for n in range(1, len(args) + 1)),
            key=lambda p: (p in commands, len(p)),
        )
        if path in runs:
            typed = tuple(
                a.replace(authz.NEW, "new.out1@example.fr").replace(
                    profiles.REQUEST, str(built.request))
                for a in args
            )  # fmt: skip
            runs[path].append((typed, actors))
    return runs


@pytest.mark.parametrize("table_world", ["sqlite"], indirect=True)
def test_out1_every_listing_of_the_tree_fits_60_80_and_120_columns_in_french_and_english(
    table_world,  # noqa: F811
    store_url,  # noqa: ARG001
):
    """Walks the command tree: every command whose --json output is a list of rows (run
    on a clone of the authorisation tables' world, with those tables' arguments, by an
    actor they let run it) is drawn at 60, 80 and 120 columns in French and English; no
    line is wider than the terminal and every e-mail and SIRET of its JSON that the
    table shows (at 1000 columns) shows whole on one line. A command taking --json that
    is neither run here nor in NOT_LISTINGS, or a listing with no row here and not in
    EMPTY_HERE, fails the test: a new listing cannot skip it. Rendering does not depend
    on the store, so SQLite alone."""
    from tests.conftest import snapshot
    from tests.test_habilitations import ME

    built = table_world
    listings: dict[str, int] = {}
    unclassified, failures = [], []
    for path, runs in _tree_runs(built).items():
        ran = False
        for args, actors in runs:
            for who in actors:
                url = built.clone()
                try:
                    mine = tuple(a.replace(ME, who) for a in args)
                    if path in PREPARE:
                        PREPARE[path](built, url, who)
                    before = snapshot(url)
                    result = _as(built, url, who, *mine, "--json")
                    if result.exit_code != 0:
                        continue
                    ran = True
                    data = json.loads(result.stdout)
                    if isinstance(data, list):
                        listings[path] = max(listings.get(path, 0), len(data))
                        if not data:
                            continue
                    fresh = path in PREPARE or snapshot(url) != before
                    # Records too (`show`, `whoami`, notify's rows), when they change
                    # nothing (the same drawing code: no need for a clone per width).
                    if isinstance(data, list) or not fresh:
                        failures += _drawn_at_every_width(built, url, who, path, mine, data, fresh)
                    break
                finally:
                    built.drop(url)
            if listings.get(path) or (ran and path not in listings):
                break
        if not ran and path not in NOT_LISTINGS:
            unclassified.append(path)
    assert failures == [], failures
    assert unclassified == [], f"run them (OPEN_RUNS) or say why in NOT_LISTINGS: {unclassified}"
    empty = {path for path, rows in listings.items() if not rows}
    assert empty == set(EMPTY_HERE), listings
    # The walk saw the listings issue 20 names.
    assert {"audit list", "mail list", "attach pending", "structure list"} <= set(listings)


def _drawn_at_every_width(built, url, who, path, args, data, fresh) -> list:  # noqa: ANN001
    """``chorus ARGS`` drawn at 60, 80 and 120 columns in French and English, on a fresh
    clone each time when the command changes the store: what is wrong with each."""

    def draw(lang: str, width: int):  # noqa: ANN202
        if not fresh:
            return _as(built, url, who, "--lang", lang, *args, env={"COLUMNS": str(width)})
        clone = built.clone()  # the built as it was before the command
        try:
            if path in PREPARE:
                PREPARE[path](built, clone, who)
            return _as(built, clone, who, "--lang", lang, *args, env={"COLUMNS": str(width)})
        finally:
            built.drop(clone)

    # The identifiers the table shows: all whole at a width nothing folds at.
    wanted = {i for i in _identifiers(data) if i in draw("fr", 1000).stdout}
    failures = []
    for lang in ("fr", "en"):
        for width in (60, 80, 120):
            drawn = draw(lang, width)
            lines = drawn.stdout.splitlines()
            wide = [line for line in lines if len(line) > width]
            cut = sorted(i for i in wanted if not any(i in line for line in lines))
            if drawn.exit_code or wide or cut or (isinstance(data, list) and not lines):
                failures.append((args, lang, width, drawn.exit_code, wide, cut, drawn.stderr))
    return failures


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_out1_whoami_shows_the_photo_as_account_show_does(cli, tmp_path, lang):
    """`whoami` printed the photo as a JSON object; it reads it as `account show` does,
    one phrase (SET-1), and its JSON keeps the object."""
    from tests.test_mon_compte_prefs import image

    cli.logged_in(MARIE)
    image(tmp_path / "portrait.png", "PNG", (200, 120))
    assert cli("account", "photo", str(tmp_path / "portrait.png")).exit_code == 0
    cli.env["CHORUS_LANG"] = lang
    shown = re.search(r"^photo +(.+)$", run_as(cli, "account", "show"), re.MULTILINE)
    assert shown and "200×120" in shown.group(1), shown
    whoami = run_as(cli, "whoami")
    assert re.search(rf"^photo +{re.escape(shown.group(1))}$", whoami, re.MULTILINE), whoami
    assert "{" not in whoami
    assert cli("whoami", "--json").json()["photo"]["width"] == 200


def run_as(cli, *args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_out1_too_wide_rows_print_as_records_with_values_wrapped_at_words(narrow, lang):
    """At 60 columns Paul's request cannot be a table without cutting an e-mail or a
    word: it prints as a record (``psql \\x auto``), headings translated, the comment
    wrapped at its words under its column; the audit details stay key=value pairs."""
    narrow.cli.env.update({"COLUMNS": "60", "CHORUS_LANG": lang})
    pending = run(narrow, MARIE, "attach", "pending")
    fits(pending, 60)
    lines = pending.splitlines()
    record = "ENREGISTREMENT 1" if lang == "fr" else "RECORD 1"
    assert lines[0].startswith(f"─[ {record} ]─"), pending
    name = "commentaire" if lang == "fr" else "comment"
    at = next(i for i, line in enumerate(lines) if line.startswith(name + " "))
    column = lines[at].index("Je tiens")
    block = [lines[at][column:]]
    for line in lines[at + 1 :]:
        if line[:column].strip():  # the next field
            break
        block.append(line[column:])
    assert len(block) > 1 and " ".join(block) == COMMENT, block  # whole words, in order
    whole_on_one_line(pending, PAUL, BAKERY, *ISO_TIME.findall(pending))
    audit = run(narrow, ADA, "audit", "list", "--limit", "3")
    fits(audit, 60)
    assert f"request={narrow.request}" in audit and "{" not in audit
    whole_on_one_line(audit, *ISO_TIME.findall(audit))


def test_out1_plain_records_draw_no_line_and_identifiers_wider_than_the_terminal_stay_whole(
    narrow,
):
    """Plain output (SET-5) draws its records with ASCII separators; an e-mail longer
    than the record's value column goes whole on its own line."""
    narrow.cli.env.update({"COLUMNS": "60", "NO_COLOR": "1"})
    pending = run(narrow, MARIE, "attach", "pending")
    assert pending.startswith("-[ ENREGISTREMENT 1 ]-") and "─" not in pending
    narrow.cli.env["COLUMNS"] = "30"  # narrower than OUT-1 asks: still never cut
    tight = run(narrow, MARIE, "attach", "pending")
    assert PAUL in tight.splitlines()
