"""What users read (issue 13, SET-5): at 80 columns a table never cuts an identifier (a
SIRET, an e-mail, a request id, a time, an action or a status), other columns wrap;
an empty listing says so on stderr at a terminal and keeps its CSV header. Rendering
only, so on SQLite alone, with test_listings' cast."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.conftest import PASSWORD
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
    assert re.search(rf"^{narrow.request} +{re.escape(PAUL)} ", pending, re.MULTILINE)
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
    into "d'authentificatio" / "n"; when even the longest words cannot fit, it folds,
    the identifiers still whole."""
    from chorus_cli.ui.tables import _widths

    keys = ["id", "subject", "comment", "created_at"]
    subject = "Chorus Pro : votre code d'authentification"
    comment = "une remarque assez longue faite de mots plutôt courts"
    row = ["16", subject, comment, "2026-12-02T06:37:58Z"]
    widths = _widths(keys, [row], 56)  # 17 each if both gave way alike
    assert widths[1] >= len("d'authentification") and sum(widths) <= 56
    assert widths[0] == 2 and widths[3] == 20
    tight = _widths(keys, [row], 40)
    assert tight[1] < len("d'authentification") and sum(tight) <= 40
    assert tight[0] == 2 and tight[3] == 20
