"""Every sentence the CLI says, in French (default) and English, from gettext catalogues.

Two domains under ``chorus_cli/locale`` (README, "Messages and languages"):

- ``messages``: what chorus says, by **stable key** (``acc1.email_invalid``), in
  ``fr`` and ``en``. Domain errors carry a key and parameters, never a sentence; the
  key is the msgid and each language's ``.po`` holds the sentence. A plural message
  has a plural entry (``ngettext``) whose form follows its number (``PLURAL_BY``).
- ``help``: the command line's help and usage text, whose msgid is the English source
  (docstrings, option help, Click's own headings and errors); ``fr`` translates it.

The compiled ``.mo`` files are read with the standard library's ``gettext`` on first
use (about 1 ms); Babel only builds them (``make messages``), never at run time.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gettext import NullTranslations

LANGS = ("fr", "en")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
# The language of this process's messages and help, set by ``set_lang``, read by
# ``current``: the root sets it for each command (SET-5).
_lang = "fr"
# The parameter whose number chooses a plural message's form: the first one it has.
PLURAL_BY = ("count", "left", "sent", "lines", "failed")


def set_lang(lang: str | None) -> None:
    """Speak ``lang`` from now on; an unknown language (or None) changes nothing."""
    global _lang
    if lang in LANGS:
        _lang = lang  # type: ignore[assignment]


def current() -> str:
    """The language spoken now: ``fr`` or ``en``."""
    return _lang


@cache
def catalogue(domain: str, lang: str) -> NullTranslations:
    """The compiled catalogue of ``domain`` in ``lang``; an empty one if there is none
    (English help: its msgids are the English text)."""
    import gettext

    try:
        with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.mo", "rb") as handle:
            return gettext.GNUTranslations(handle)
    except FileNotFoundError:
        return gettext.NullTranslations()


def _entries(lang: str) -> dict[Any, str]:
    return getattr(catalogue("messages", lang), "_catalog", {})


def known(key: str, lang: str | None = None) -> bool:
    """Whether ``key`` has a sentence (singular or plural) in ``lang``."""
    entries = _entries(lang or current())
    return key in entries or (key, 0) in entries


def sentence(key: str, lang: str | None = None, count: int | None = None) -> str:
    """The raw sentence of ``key`` (placeholders unfilled); French if ``lang`` lacks it.
    A key no catalogue has is shown as ``[key]``: the completeness tests keep it rare."""
    for chosen in dict.fromkeys((lang or current(), "fr")):
        entries = _entries(chosen)
        if (key, 0) in entries:
            return catalogue("messages", chosen).ngettext(key, key, 1 if count is None else count)
        if key in entries:
            return entries[key]
    return f"[{key}]"


def field_name(field: str, lang: str | None = None) -> str:
    """A field's name in a sentence (``login_email`` → « adresse de connexion »)."""
    key = f"fieldname.{field}"
    return sentence(key, lang) if known(key, "fr") else field


def message(key: str, lang: str | None = None, **params: Any) -> str:
    """The sentence for ``key`` in ``lang`` (default: the current language)."""
    lang = lang or current()
    if isinstance(params.get("field"), str):
        params["field"] = field_name(params["field"], lang)
    if "fields" in params and isinstance(params["fields"], list):
        names = ", ".join(field_name(f, lang) for f in params["fields"])
        params["fields"] = message("fieldname.missing_list", lang, names=names) if names else ""
    if "rules" in params and isinstance(params["rules"], list):
        params["rules"] = ", ".join(sentence(f"password_rule.{r}", lang) for r in params["rules"])
    # What a user typed or a store holds reaches the terminal escaped (SEC-1).
    from chorus_cli.kernel.text import displayed

    params = {k: displayed(v) if isinstance(v, str) else v for k, v in params.items()}
    counts = (params.get(name) for name in PLURAL_BY)
    count = next((n for n in counts if isinstance(n, int) and not isinstance(n, bool)), None)
    template = sentence(key, lang, count)
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


def help_text(text: str, lang: str | None = None) -> str:
    """The command line's help or usage text ``text`` (English) in ``lang``."""
    return catalogue("help", lang or current()).gettext(text)


def help_plural(singular: str, plural: str, n: int, lang: str | None = None) -> str:
    return catalogue("help", lang or current()).ngettext(singular, plural, n)
