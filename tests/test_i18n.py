"""SET-5: French and English everywhere, from gettext catalogues (issue 12): every key
the code names is in both catalogues with the same placeholders, every help text has
its French, help and usage errors speak the chosen language, plurals are real, and
nothing is ever shown as its raw key."""

from __future__ import annotations

import re
import string

import pytest

from chorus_cli import i18n
from chorus_cli.inprocess import invoke
from chorus_cli.kernel.clock import FrozenClock
from chorus_cli.store import engine as engine_module

LOCALE = i18n.LOCALE_DIR


def po(domain: str, lang: str):
    from babel.messages.pofile import read_po

    with open(LOCALE / lang / "LC_MESSAGES" / f"{domain}.po", "rb") as handle:
        return read_po(handle)


def forms(entry) -> list[str]:
    return list(entry.string) if isinstance(entry.string, tuple) else [entry.string]


def placeholders(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def run(tmp_path, *args: str, env: dict[str, str] | None = None, input: str | None = None):
    base = {
        "CHORUS_DATA_DIR": str(tmp_path / "data"),
        "CHORUS_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "PYTHON_KEYRING_BACKEND": "tests.memory_keyring.MemoryKeyring",
    }
    try:
        return invoke(list(args), env={**base, **(env or {})}, clock=FrozenClock(), input=input)
    finally:
        engine_module.dispose_all()


# --- the catalogues are whole ------------------------------------------------------------


def test_set5_every_key_the_code_names_is_in_both_catalogues():
    from chorus_cli.tools.catalogues import code_keys

    catalogues = {lang: po("messages", lang) for lang in i18n.LANGS}
    used = list(code_keys())
    assert len(used) > 300  # the extraction found the code's keys
    missing = [
        (key, where, line, lang)
        for key, where, line in used
        for lang, catalogue in catalogues.items()
        if key not in catalogue or not all(forms(catalogue[key]))
    ]
    assert missing == []


def test_set5_both_languages_have_the_same_keys_and_placeholders():
    fr, en = po("messages", "fr"), po("messages", "en")
    assert {e.id if isinstance(e.id, str) else e.id[0] for e in fr if e.id} == {
        e.id if isinstance(e.id, str) else e.id[0] for e in en if e.id
    }
    different = []
    for entry in fr:
        if not entry.id:
            continue
        other = en[entry.id]
        texts = forms(entry) + forms(other)
        assert all(texts), entry.id
        if len({frozenset(placeholders(t)) for t in texts}) != 1:
            different.append(entry.id)
    assert different == []


# Keys the code builds at run time from a prefix (``f"progress.{prefix}{phase}"``,
# ``f"weekly.{action}"``): a key under one of them counts as used.
BUILT = ("progress.", "weekly.")


def test_set5_every_key_of_the_catalogue_is_used_by_the_code():
    """No dead message: each key is named in the code, whole, or by the last part the
    code appends to a prefix (``demo.say("store")``, ``f"notice.{kind}"`` with
    ``kind="activation"``), or sits under a prefix built at run time."""
    from pathlib import Path

    package = Path(LOCALE).resolve().parent  # chorus_cli
    code = "\n".join(
        path.read_text(encoding="utf-8")
        for path in package.rglob("*.py")
        if "tools" not in path.relative_to(package).parts
    )
    unused = []
    for entry in po("messages", "fr"):
        key = entry.id if isinstance(entry.id, str) else entry.id[0]
        if not key or key in code or key.startswith(BUILT):
            continue
        last = key.rpartition(".")[2]
        if not re.search(rf"[\"']{re.escape(last)}[\"']", code):
            unused.append(key)
    assert unused == []


def test_set5_every_help_text_has_its_french_with_the_same_placeholders():
    import typer

    from chorus_cli.cli import app
    from chorus_cli.ui import helptext

    french = po("help", "fr")
    wanted = list(helptext.msgids(typer.main.get_command(app)))
    assert len(wanted) > 200
    untranslated = [m for m in wanted if m not in french or not all(forms(french[m]))]
    assert untranslated == []
    mismatched = [
        m
        for m in wanted
        for text in forms(french[m])
        if placeholders(m if isinstance(m, str) else m[0]) != placeholders(text)
    ]
    assert mismatched == []


@pytest.mark.parametrize(("domain", "lang"), [("messages", "fr"), ("messages", "en"),
                                              ("help", "fr")])  # fmt: skip
def test_set5_the_shipped_mo_files_are_compiled_from_the_po_sources(domain, lang):
    """`make messages` compiles them; a .po edited without it would not be what runs."""
    import gettext

    with open(LOCALE / lang / "LC_MESSAGES" / f"{domain}.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in po(domain, lang):
        if not entry.id:
            continue
        if isinstance(entry.id, tuple):
            assert compiled.ngettext(entry.id[0], entry.id[1], 1) == entry.string[0], entry.id
            assert compiled.ngettext(entry.id[0], entry.id[1], 5) == entry.string[1], entry.id
        else:
            assert compiled.gettext(entry.id) == entry.string, entry.id


# --- help and usage in the chosen language -------------------------------------------------

ENGLISH = re.compile(r"\b(the|and|with|from|this|your|only|show|when|which|of)\b", re.I)
FRENCH = re.compile(r"\b(les|des|une|pour|est|dans|vous|avec|sans|du|au)\b", re.I)
EXAMPLE = re.compile(r"^(Examples?:|Exemples?\s:)")
QUOTED = re.compile(r"`[^`]*`|«[^»]*»|“[^”]*”|'[^']*'|\([^)]*\)")


def help_paragraphs(lang: str) -> list[str]:
    import typer

    from chorus_cli.cli import app
    from chorus_cli.ui import helptext

    helptext.install()  # what the command line does before showing a help
    command = typer.main.get_command(app)
    i18n.set_lang(lang)
    try:
        texts = []

        def walk(node, ctx) -> None:
            node.get_help(ctx)  # as `--help` shows it: its texts put in the language
            for text in [node.help, *(getattr(p, "help", None) for p in node.params)]:
                texts.extend(  # an example is a command line, in no language
                    p for p in helptext.paragraphs(text or "") if not EXAMPLE.match(p)
                )
            for name, sub in getattr(node, "commands", {}).items():
                walk(sub, sub.context_class(sub, info_name=name, parent=ctx))

        walk(command, command.context_class(command, info_name="chorus"))
        return texts
    finally:
        i18n.set_lang("fr")


def test_set5_the_whole_command_tree_in_french_has_no_english_sentence():
    english = [p for p in help_paragraphs("fr") if ENGLISH.search(QUOTED.sub("", p))]
    assert english == []


def test_set5_the_whole_command_tree_in_english_has_no_french_sentence():
    french = [p for p in help_paragraphs("en") if FRENCH.search(QUOTED.sub("", p))]
    assert french == []


def test_set5_a_command_with_an_example_in_french_and_in_english(tmp_path):
    fr = run(tmp_path, "mail", "list", "--help")
    assert fr.exit_code == 0
    assert "Usage : chorus mail list" in fr.stdout
    assert "Exemple\u00a0: chorus mail list --to marie@example.fr --json" in fr.stdout
    assert "Afficher ce message et quitter." in fr.stdout
    assert "Show this message" not in fr.stdout and "Example:" not in fr.stdout
    en = run(tmp_path, "mail", "list", "--help", "--lang", "en")
    assert "Usage: chorus mail list" in en.stdout
    assert "Example: chorus mail list --to marie@example.fr --json" in en.stdout
    assert "Show this message and exit." in en.stdout
    assert "Exemple" not in en.stdout


def test_set5_the_root_help_follows_chorus_lang(tmp_path):
    fr = run(tmp_path, "--help")
    en = run(tmp_path, "--help", env={"CHORUS_LANG": "en"})
    assert "Commandes" in fr.stdout and "Commands" not in fr.stdout
    assert "Commands" in en.stdout and "Commandes" not in en.stdout


def test_set5_a_missing_option_is_a_french_usage_error(tmp_path):
    refused = run(tmp_path, "account", "create", "--last-name", "Curie", "--first-name", "M")
    assert refused.exit_code == 2
    assert "Usage : chorus account create" in refused.stderr
    assert "Erreur : Option manquante '--email'." in refused.stderr
    assert "Essayez « chorus account create -h » pour l'aide." in refused.stderr
    english = run(tmp_path, "account", "create", "--lang", "en")
    assert english.exit_code == 2
    assert "Error: Missing option '--email'." in english.stderr


def test_set5_usage_errors_in_json_are_french_too(tmp_path):
    refused = run(tmp_path, "mail", "list", "--limit", "0", "--json")
    assert refused.exit_code == 2
    error = __import__("json").loads(refused.stderr)["error"]
    assert error["kind"] == "usage"
    assert "Valeur invalide pour '--limit'" in error["message"]
    assert "n'est pas dans l'intervalle" in error["message"]


@pytest.mark.parametrize(
    ("args", "french"),
    [
        (("mail", "list", "--bogus"), "Option inconnue : --bogus"),
        (("mail", "lis"), "Vouliez-vous dire 'list' ?"),
        (("mail", "list", "--format", "xml"), "ne fait pas partie des valeurs possibles"),
        (("whoami", "extra"), "Argument supplémentaire inattendu (extra)"),
        (("whoami", "a", "b"), "Arguments supplémentaires inattendus (a b)"),
    ],
    ids=["unknown-option", "unknown-command", "bad-choice", "extra-argument", "extra-arguments"],
)
def test_set5_usage_errors_speak_french(tmp_path, args, french):
    refused = run(tmp_path, *args)
    assert refused.exit_code == 2
    assert french in refused.stderr, refused.stderr
    assert "Error" not in refused.stderr


# --- which language --------------------------------------------------------------------


def test_set5_an_unknown_lang_option_is_one_french_sentence_and_exit_2(tmp_path):
    refused = run(tmp_path, "whoami", "--lang", "de")
    assert refused.exit_code == 2
    assert refused.stderr.strip().count("\n") == 0
    assert "« de »" in refused.stderr and "fr" in refused.stderr and "en" in refused.stderr


def test_set5_an_unknown_chorus_lang_is_a_warning_and_french(tmp_path):
    answered = run(tmp_path, "whoami", env={"CHORUS_LANG": "de"})
    assert answered.exit_code == 5  # the command still runs, and speaks French
    assert "CHORUS_LANG=de" in answered.stderr and "français" in answered.stderr
    assert "Vous n'êtes pas connecté (AUTH-3)" in answered.stderr


# --- real plurals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "one", "three"),
    [
        ("fr", "1 demande approuvée (7) ; le demandeur", "3 demandes approuvées (7, 8, 9)"),
        ("en", "1 request approved (7); the requester", "3 requests approved (7, 8, 9)"),
    ],
)
def test_set5_a_plural_message_in_both_languages(lang, one, three):
    assert one in i18n.message("done.attach_approved", lang, count=1, ids="7")
    assert three in i18n.message("done.attach_approved", lang, count=3, ids="7, 8, 9")


def test_set5_french_plural_keeps_zero_singular_english_does_not():
    assert i18n.message("auth1.code_wrong", "fr", left=0).endswith("0 essai restant.")
    assert i18n.message("auth1.code_wrong", "en", left=0).endswith("0 tries left.")


# --- nothing shown as its key ------------------------------------------------------------


def test_set5_a_key_no_catalogue_has_is_bracketed_never_bare():
    assert i18n.message("no.such_key") == "[no.such_key]"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_set5_the_demo_prints_no_raw_key_in_either_language(tmp_path, lang):
    keys = {e.id if isinstance(e.id, str) else e.id[0] for e in po("messages", "fr") if e.id}
    shown = run(tmp_path, "demo", "--lang", lang)
    assert shown.exit_code == 0, shown.stderr
    words = set(re.findall(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+", shown.stdout + shown.stderr))
    assert words & keys == set()
    assert not re.search(r"\[[a-z0-9_]+\.[a-z0-9_.]+\]", shown.stdout + shown.stderr)


# --- table headings ------------------------------------------------------------------------


def test_set5_table_headings_speak_the_language_and_csv_keeps_the_field_names(cli):
    cli.active_account("marie.curie@example.fr")

    def first_line(result) -> str:
        return next(line for line in result.stdout.splitlines() if line.strip())

    french = first_line(cli("mail", "list"))
    assert french.split()[:3] == ["id", "destinataire", "objet"]
    english = first_line(cli("mail", "list", "--lang", "en"))
    assert english.split()[:3] == ["id", "to", "subject"] and "created at" in english
    header = cli("mail", "list", "--format", "csv").stdout.splitlines()[0]
    assert header.startswith("id,to,sender,subject,body,created_at,status")


def test_set5_every_mail_kind_has_subject_and_body_in_both_languages():
    """The catalogue is the list of mail kinds (mail/templates.py): one without its
    subject or body in a language would reach a mailbox as ``[mail.KIND.subject]``."""
    from chorus_cli.mail.templates import render

    kinds = {
        e.id.split(".")[1] for e in po("messages", "fr") if isinstance(e.id, str)
        and e.id.startswith("mail.") and e.id.endswith((".subject", ".body"))
    }  # fmt: skip
    assert {"activation", "reset", "login_code", "weekly_summary"} <= kinds
    for lang in i18n.LANGS:
        for kind in kinds:
            assert i18n.known(f"mail.{kind}.subject", lang), (kind, lang)
            assert i18n.known(f"mail.{kind}.body", lang), (kind, lang)
    with pytest.raises(KeyError):
        render("no_such_kind", "fr")


def test_set5_french_help_never_starts_a_line_with_its_punctuation(tmp_path):
    """French spaces before ``: ; ? ! »`` and after ``«`` are non-breaking in help, so at
    80 columns no line of ``structure show --help`` starts with a lone ``»`` or ``:``."""
    shown = run(tmp_path, "structure", "show", "--help", env={"COLUMNS": "80"})
    assert shown.exit_code == 0
    assert "«\u00a0Organisation" in shown.stdout
    lines = [line.strip() for line in shown.stdout.splitlines()]
    assert [line for line in lines if line[:1] in (":", ";", "?", "!", "»")] == []
    assert [line for line in lines if line.endswith("«")] == []
