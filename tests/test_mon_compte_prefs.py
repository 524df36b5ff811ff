"""«Mon compte» (guide 2.2): the photo (SET-1) and the preferences (SET-5): accessible
output, survey consent, language. On SQLite and PostgreSQL, through the CLI."""

from __future__ import annotations

import csv
import io
import json
import os
import re

import pytest
from PIL import Image
from sqlalchemy import text

from chorus_cli.store import engine as engine_module
from tests.conftest import PASSWORD

MARIE = "marie.curie@example.fr"
ADA = "ada.lovelace@example.fr"
PIERRE = "pierre.curie@example.fr"
MAX = 1_000_000
BOX_DRAWING = re.compile("[\u2500-\u257f]")
ANSI = re.compile("\x1b\\[")


def rows(cli, sql: str, **params) -> list[dict]:
    with engine_module.get_engine(cli.url).begin() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql), params)]


def account_row(cli, email: str = MARIE) -> dict:
    return rows(cli, "SELECT * FROM account WHERE login_email = :e", e=email)[0]


def audit_rows(cli, action: str) -> list[dict]:
    found = rows(cli, "SELECT details FROM audit_entry WHERE action = :a ORDER BY id", a=action)
    return [
        r["details"] if isinstance(r["details"], dict) else json.loads(r["details"]) for r in found
    ]


def image(path, kind: str, size: tuple[int, int] = (200, 200), noisy: bool = False) -> bytes:
    """A real image made with Pillow; ``noisy`` pixels do not compress (a PNG of ~120 kB)."""
    if noisy:
        picture = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        picture = Image.new("RGB", size, (200, 30, 60))
    buffer = io.BytesIO()
    picture.save(buffer, kind)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def refused(result, *words: str) -> None:
    """Bad input (exit 2): one sentence naming the rule, nothing on stdout."""
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for word in words:
        assert word in result.stderr


# --- SET-1: the photo ------------------------------------------------------------------


def test_set1_a_png_is_stored_and_show_gives_type_size_and_dimensions(cli, tmp_path):
    cli.logged_in()
    data = image(tmp_path / "portrait.png", "PNG", (200, 200), noisy=True)
    assert 100_000 < len(data) < MAX

    stored = cli("account", "photo", str(tmp_path / "portrait.png"))
    assert stored.exit_code == 0, stored.stderr
    kb = f"{len(data) / 1000:.1f}"
    assert f"image/png, {kb.replace('.', ',')} ko, 200×200" in stored.stderr

    row = account_row(cli)
    assert bytes(row["photo"]) == data
    assert (row["photo_type"], row["photo_width"], row["photo_height"]) == ("image/png", 200, 200)
    shown = cli("account", "show", "--json")
    assert shown.exit_code == 0, shown.stderr
    photo = {"type": "image/png", "size": len(data), "width": 200, "height": 200}
    assert shown.json()["photo"] == photo
    assert shown.json()["login_email"] == MARIE  # fields added, none renamed
    table = cli("--lang", "en", "account", "show")
    assert re.search(rf"^photo +image/png, {re.escape(kb)} kB, 200×200$", table.stdout, re.M)
    assert audit_rows(cli, "account.photo") == [photo]


def test_set1_a_jpeg_is_stored_its_type_read_from_the_bytes_not_the_name(cli, tmp_path):
    cli.logged_in()
    data = image(tmp_path / "photo.png", "JPEG", (64, 48))  # a JPEG named .png
    stored = cli("account", "photo", str(tmp_path / "photo.png"), "--json")
    assert stored.exit_code == 0, stored.stderr
    assert stored.json()["photo"] == {
        "type": "image/jpeg",
        "size": len(data),
        "width": 64,
        "height": 48,
    }
    assert f"image/jpeg, {len(data)} o, 64×48" in cli("account", "show").stdout
    # A second photo replaces the first.
    png = image(tmp_path / "next.jpg", "PNG", (10, 20))
    assert cli("account", "photo", str(tmp_path / "next.jpg")).exit_code == 0
    row = account_row(cli)
    assert (bytes(row["photo"]), row["photo_type"], row["photo_height"]) == (png, "image/png", 20)


def test_set1_a_photo_of_exactly_1_mb_is_accepted(cli, tmp_path):
    cli.logged_in()
    data = image(tmp_path / "big.png", "PNG", noisy=True)
    (tmp_path / "big.png").write_bytes(data + b"\0" * (MAX - len(data)))  # after IEND
    stored = cli("account", "photo", str(tmp_path / "big.png"), "--json")
    assert stored.exit_code == 0, stored.stderr
    assert stored.json()["photo"]["size"] == MAX


@pytest.mark.parametrize(
    "make, words",
    [
        pytest.param(
            lambda p: image(p, "GIF"), ("SET-1", "ni une image PNG ni une image JPEG"), id="gif"
        ),
        pytest.param(
            lambda p: p.write_text("ceci n'est pas une image\n"),
            ("SET-1", "ni une image PNG ni une image JPEG"),
            id="text-named-png",
        ),
        pytest.param(
            lambda p: p.write_bytes(image(p, "PNG", noisy=True) + b"\0" * MAX),
            ("SET-1", "dépasse 1 Mo"),
            id="1mb-plus-one",
        ),
        pytest.param(
            lambda p: p.write_bytes(image(p, "PNG", noisy=True)[:5000]),
            ("SET-1", "tronqué"),
            id="truncated-png",
        ),
        pytest.param(lambda p: p.mkdir(), ("SET-1", "est un dossier"), id="directory"),
        pytest.param(lambda p: None, ("SET-1", "n'existe pas"), id="missing"),
    ],
)
def test_set1_a_bad_photo_is_refused_and_nothing_changes(cli, tmp_path, unchanged, make, words):
    cli.logged_in()
    path = tmp_path / "x.png"
    make(path)
    if path.is_file() and path.stat().st_size > MAX:
        path.write_bytes(path.read_bytes()[: MAX + 1])  # exactly one byte too many
        assert path.stat().st_size == MAX + 1
    with unchanged():
        result = cli("account", "photo", str(path))
    refused(result, *words)
    assert str(path) in result.stderr
    assert account_row(cli)["photo"] is None


def test_set1_an_unreadable_file_is_refused(cli, tmp_path, unchanged, monkeypatch):
    cli.logged_in()
    path = tmp_path / "locked.png"
    image(path, "PNG")
    path.chmod(0)
    if os.geteuid() == 0:  # root reads every file: the system says no in its stead
        from pathlib import Path

        def denied(self, *args, **kwargs):
            raise PermissionError(13, "Permission denied", str(self))

        monkeypatch.setattr(Path, "open", denied)
    with unchanged():
        refused(cli("account", "photo", str(path)), "SET-1", "lecture impossible")


def test_set1_a_file_name_with_control_characters_is_escaped_in_the_error(cli, tmp_path):
    cli.logged_in()
    result = cli("account", "photo", str(tmp_path / "a\x1b[31mb.png"))
    refused(result, "SET-1", "a\\x1b[31mb.png")
    assert "\x1b" not in result.stderr


def test_set1_remove_the_photo(cli, tmp_path, unchanged):
    cli.logged_in()
    image(tmp_path / "p.png", "PNG")
    assert cli("account", "photo", str(tmp_path / "p.png")).exit_code == 0
    removed = cli("account", "photo", "--remove", "--json")
    assert removed.exit_code == 0, removed.stderr
    assert removed.json()["photo"] is None
    assert "Photo de marie.curie@example.fr retirée" in removed.stderr
    row = account_row(cli)
    assert [row[k] for k in ("photo", "photo_type", "photo_width", "photo_height")] == [None] * 4
    assert cli("account", "show", "--json").json()["photo"] is None
    assert re.search("^photo$", cli("account", "show").stdout, re.M)
    assert len(audit_rows(cli, "account.photo_remove")) == 1
    with unchanged():  # nothing left to remove: said, and no audit row
        again = cli("account", "photo", "--remove")
    assert again.exit_code == 0 and "rien à retirer" in again.stderr


def test_set1_photo_needs_a_file_or_remove_but_not_both(cli, tmp_path, unchanged):
    cli.logged_in()
    image(tmp_path / "p.png", "PNG")
    with unchanged():
        refused(cli("account", "photo"), "SET-1", "--remove")
        refused(cli("account", "photo", str(tmp_path / "p.png"), "--remove"), "SET-1")


def test_set1_photo_needs_a_session(cli, tmp_path, unchanged):
    cli.active_account()
    image(tmp_path / "p.png", "PNG")
    with unchanged():
        assert cli("account", "photo", str(tmp_path / "p.png")).exit_code == 5
        assert cli("account", "preferences", "--language", "en").exit_code == 5


def test_set1_help_does_not_import_pillow():
    """Start-up stays lazy: Pillow is imported by the photo's use case only."""
    import subprocess
    import sys

    probe = (
        "import sys\nfrom chorus_cli.cli import main\n"
        "try:\n    main(['account', 'photo', '--help'])\nexcept SystemExit:\n    pass\n"
        "print('PIL' in sys.modules, 'chorus_cli.domain.photo' in sys.modules, file=sys.stderr)"
    )
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "SET-1" in ran.stdout and ran.stderr.split() == ["False", "False"]


def admin(cli, email: str = ADA) -> str:
    booted = cli(
        "admin", "bootstrap", "--email", email, "--last-name", "Lovelace", "--first-name", "Ada"
    )
    assert booted.exit_code == 0, booted.stderr
    link = cli.last_link(email)
    assert (
        cli("account", "activate", link, "--password-stdin", input=PASSWORD + "\n").exit_code == 0
    )
    assert cli.login(email).exit_code == 0
    return email


def test_set1_listings_and_exports_give_the_photo_as_show_does(cli, tmp_path):
    admin(cli)
    data = image(tmp_path / "p.jpg", "JPEG", (30, 40))
    assert cli("account", "photo", str(tmp_path / "p.jpg")).exit_code == 0
    photo = {"type": "image/jpeg", "size": len(data), "width": 30, "height": 40}
    assert cli("account", "show", "--json").json()["photo"] == photo
    [listed] = cli("account", "list", "--json").json()
    assert listed["photo"] == photo
    exported = cli("bulk", "export", "accounts", "--format", "jsonl")
    assert exported.exit_code == 0, exported.stderr
    assert json.loads(exported.stdout)["photo"] == photo
    as_csv = cli("bulk", "export", "accounts").stdout
    shown_csv = cli("account", "show", "--format", "csv").stdout
    assert as_csv.splitlines()[0].endswith(",photo")
    [exported_row] = csv.DictReader(io.StringIO(as_csv))
    [shown_row] = csv.DictReader(io.StringIO(shown_csv))
    assert json.loads(exported_row["photo"]) == photo
    assert {k: shown_row[k] for k in exported_row} == exported_row


# --- SET-1: workplace address and biography (SEC-1) -------------------------------------


def test_set1_workplace_address_and_biography_have_length_limits(cli, unchanged):
    cli.logged_in()
    ok = cli("account", "update", "--workplace-address", "a" * 500, "--biography", "b" * 2000)
    assert ok.exit_code == 0, ok.stderr
    assert (account_row(cli)["workplace_address"], account_row(cli)["biography"]) == (
        "a" * 500,
        "b" * 2000,
    )
    with unchanged():
        refused(cli("account", "update", "--workplace-address", "a" * 501), "500")
        refused(cli("account", "update", "--biography", "b" * 2001), "2000")


@pytest.mark.parametrize(
    "option, value, code",
    [
        ("--biography", "Physicienne\x1b[2J", "U+001B"),
        ("--biography", "Chimiste\u202egnirts", "U+202E"),
        ("--workplace-address", "11 rue Curie\x00", "U+0000"),
        ("--workplace-address", "11 rue Curie\r\nParis", "U+000D"),
    ],
)
def test_set1_address_and_biography_refuse_control_characters(cli, unchanged, option, value, code):
    cli.logged_in()
    with unchanged():
        refused(cli("account", "update", option, value), "SEC-1", code)


def test_set1_a_biography_may_hold_several_lines(cli):
    cli.logged_in()
    updated = cli("account", "update", "--biography", "Physicienne\nChimiste", "--json")
    assert updated.exit_code == 0, updated.stderr
    assert updated.json()["biography"] == "Physicienne\nChimiste"


# --- SET-5: preferences ----------------------------------------------------------------


def test_set5_preferences_round_trip(cli):
    cli.logged_in()
    shown = cli("account", "preferences", "--json")
    assert shown.exit_code == 0, shown.stderr
    assert shown.json() == {"accessibility": False, "survey_consent": False, "language": "fr"}
    table = cli("account", "preferences").stdout.split()
    assert table == ["accessibility", "off", "survey_consent", "off", "language", "fr"]

    changed = cli(
        "account", "preferences", "--accessibility", "on", "--surveys", "on", "--language", "en",
        "--json",
    )  # fmt: skip
    assert changed.exit_code == 0, changed.stderr
    expected = {"accessibility": True, "survey_consent": True, "language": "en"}
    assert changed.json() == expected
    assert changed.stderr.startswith("Preferences of marie.curie@example.fr saved")  # at once
    assert cli("account", "preferences", "--json").json() == expected
    row = account_row(cli)
    assert (bool(row["accessibility"]), bool(row["survey_consent"]), row["language"]) == (
        True,
        True,
        "en",
    )
    assert audit_rows(cli, "account.preferences") == [expected]

    back = cli("account", "preferences", "--surveys", "OFF", "--json")
    assert back.json() == {**expected, "survey_consent": False}
    assert audit_rows(cli, "account.preferences")[1:] == [{"survey_consent": False}]


def test_set5_choosing_the_same_preference_again_changes_nothing(cli, unchanged):
    cli.logged_in()
    with unchanged():
        same = cli("account", "preferences", "--language", "fr", "--accessibility", "off")
    assert same.exit_code == 0


@pytest.mark.parametrize(
    "args, words",
    [
        (("--language", "de"), ("SET-5", "« de »", "fr|en")),
        (("--accessibility", "yes"), ("SET-5", "--accessibility", "on ou off")),
        (("--surveys", ""), ("SET-5", "--surveys")),
        # One bad value and nothing changes, not even the good ones.
        (("--accessibility", "on", "--language", "de"), ("SET-5", "« de »")),
    ],
)
def test_set5_bad_values_are_refused_and_nothing_changes(cli, unchanged, args, words):
    cli.logged_in()
    with unchanged():
        refused(cli("account", "preferences", *args), *words)


def test_set5_an_unknown_language_is_refused_in_json_too(cli, unchanged):
    cli.logged_in()
    with unchanged():
        result = cli("account", "preferences", "--language", "de", "--json")
    assert result.exit_code == 2
    error = json.loads(result.stderr)["error"]
    assert error["code"] == 2 and "SET-5" in error["message"]


def test_set5_the_language_preference_applies_to_the_next_commands(cli, monkeypatch):
    cli.logged_in()
    bad_phone = ("account", "update", "--phone", "0123")
    assert cli(*bad_phone).stderr.startswith("Numéro de téléphone invalide (ACC-1)")
    assert cli("account", "preferences", "--language", "en").exit_code == 0

    assert cli(*bad_phone).stderr.startswith("Invalid phone number (ACC-1)")
    assert cli("account", "show").exit_code == 0
    assert "Preferences of" in cli("account", "preferences", "--surveys", "on").stderr
    # --lang and CHORUS_LANG win over the preference (SPEC's order).
    assert cli("--lang", "fr", *bad_phone).stderr.startswith("Numéro de téléphone invalide")
    monkeypatch.setitem(cli.env, "CHORUS_LANG", "fr")
    assert cli(*bad_phone).stderr.startswith("Numéro de téléphone invalide")
    # With CHORUS_LANG set, a new preference is stored but the message keeps fr.
    switched = cli("account", "preferences", "--language", "fr")
    assert switched.stderr.startswith("Préférences de")
    monkeypatch.delitem(cli.env, "CHORUS_LANG")
    assert cli(*bad_phone).stderr.startswith("Numéro de téléphone invalide")


# --- SET-5: accessible (plain) output --------------------------------------------------

# Commands whose table has rows for a freshly bootstrapped admin.
TABLES = (
    ("account", "list"),
    ("admin", "roles"),
    ("audit", "list"),
    ("habil", "catalogue"),
)


@pytest.fixture
def colours(cli, monkeypatch):
    """A terminal that takes colours (Rich honours FORCE_COLOR), so a table would have
    them: each test below first shows that it does, then that it does not."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setitem(cli.env, "FORCE_COLOR", "1")
    monkeypatch.setitem(cli.env, "TERM", "xterm-256color")
    return cli


def drawn(result) -> tuple[bool, bool]:
    """(box drawing, ANSI escapes) in a command's output."""
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip(), "the table has rows"
    output = result.stdout + result.stderr
    return bool(BOX_DRAWING.search(output)), bool(ANSI.search(output))


def test_set5_accessible_output_has_no_box_drawing_and_no_colour(colours):
    cli = colours
    admin(cli)
    for args in TABLES:
        assert drawn(cli(*args)) == (True, True), args  # the test can fail
    assert cli("account", "preferences", "--accessibility", "on").exit_code == 0
    for args in TABLES:
        result = cli(*args)
        assert drawn(result) == (False, False), args
        assert (  # headings in the message language (SET-5)
            "adresse de connexion" in result.stdout
            or "domaine" in result.stdout
            or "rôle" in result.stdout
            or "auteur" in result.stdout
        )
    listed = cli("account", "list").stdout.splitlines()
    assert listed[0].split() == ["adresse", "de", "connexion", "nom", "prénom", "statut"]
    assert listed[1].split() == [ADA, "Lovelace", "Ada", "active"]
    assert drawn(cli("account", "show")) == (False, False)


def test_set5_accessibility_is_per_account(colours):
    cli = colours
    admin(cli)
    assert cli("account", "preferences", "--accessibility", "on").exit_code == 0
    assert drawn(cli("habil", "catalogue")) == (False, False)
    cli("logout")
    cli.logged_in(PIERRE)  # another account, in the same process
    assert drawn(cli("habil", "catalogue")) == (True, True)
    cli("logout")
    assert cli.login(ADA).exit_code == 0
    assert drawn(cli("habil", "catalogue")) == (False, False)
    assert cli("account", "preferences", "--accessibility", "off").exit_code == 0
    assert drawn(cli("habil", "catalogue")) == (True, True)


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}], ids=["NO_COLOR", "dumb"])
def test_set5_no_color_and_a_dumb_terminal_give_plain_tables(colours, env):
    cli = colours
    admin(cli)
    assert drawn(cli("habil", "catalogue")) == (True, True)
    cli.env.update(env)
    for args in TABLES:
        assert drawn(cli(*args)) == (False, False), args


def test_set5_accessible_mode_shows_the_qr_code_also_as_text(cli):
    cli.logged_in()
    before = cli("mfa", "totp", "add", input=PASSWORD + "\n")
    assert before.exit_code == 0, before.stderr
    assert not any(line.startswith("otpauth://") for line in before.stdout.splitlines())
    assert cli("account", "preferences", "--accessibility", "on").exit_code == 0
    shown = cli("mfa", "totp", "add", input=PASSWORD + "\n")
    assert shown.exit_code == 0, shown.stderr
    assert any(line.startswith("otpauth://totp/") for line in shown.stdout.splitlines())
    assert "\x1b" not in shown.stdout + shown.stderr


def test_set5_accessible_mode_draws_no_progress_bar(colours, tmp_path):
    cli = colours
    admin(cli)

    def flow(name: str) -> str:
        path = tmp_path / f"{name}.csv"
        lines = [f"Nom{i};Prénom;{name}{i}@example.fr" for i in range(20)]
        path.write_text("Nom;Prénom;Adresse e-mail\n" + "\n".join(lines) + "\n", encoding="utf-8")
        return str(path)

    drawn = cli("bulk", "import", flow("first"), "--kind", "accounts")
    assert drawn.exit_code == 0, drawn.stderr
    assert "Lignes du flux" in drawn.stderr  # a terminal that takes them gets a bar
    assert cli("account", "preferences", "--accessibility", "on").exit_code == 0
    plain = cli("bulk", "import", flow("second"), "--kind", "accounts")
    assert plain.exit_code == 0, plain.stderr
    assert "Lignes du flux" not in plain.stderr and "créés 20" in plain.stderr
    assert not ANSI.search(plain.stderr)
