"""The preferences of «Mon compte» (SET-5): accessible output, survey consent, language."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chorus_cli.kernel import text
from chorus_cli.kernel.errors import BadInput

if TYPE_CHECKING:
    from chorus_cli.store.models import Account
    from chorus_cli.store.uow import UnitOfWork

LANGUAGES = ("fr", "en")
SWITCH = {"on": True, "off": False}


FIELDS = ("accessibility", "survey_consent", "language")  # the account's own names


def view(account: Account) -> dict[str, Any]:
    """The three preferences as scripts see them, in ``FIELDS``' order."""
    return {name: getattr(account, name) for name in FIELDS}


def switch(value: str, option: str, key: str = "set5.switch") -> bool:
    """``on|off`` as typed for ``option`` (any case, spaces around); anything else is bad
    input ``key`` naming the option and the value."""
    try:
        return SWITCH[value.strip().lower()]
    except KeyError:
        raise BadInput(key, option=option, value=text.shown(value)) from None


def update(
    uow: UnitOfWork,
    account: Account,
    *,
    accessibility: str | None = None,
    surveys: str | None = None,
    language: str | None = None,
) -> dict[str, Any]:
    """Show the preferences, after changing those given (``on|off``, ``fr|en``) (SET-5).

    Every value is checked before any is changed; a new language applies at once to this
    command's messages unless ``--lang`` or CHORUS_LANG chose one (SPEC's order)."""
    wanted: dict[str, Any] = {}
    if accessibility is not None:
        wanted["accessibility"] = switch(accessibility, "--accessibility")
    if surveys is not None:
        wanted["survey_consent"] = switch(surveys, "--surveys")
    if language is not None:
        lang = language.strip().lower()
        if lang not in LANGUAGES:
            shown = text.shown(language)
            raise BadInput("set5.language", value=shown, languages="|".join(LANGUAGES))
        wanted["language"] = lang
    changed = {k: v for k, v in wanted.items() if getattr(account, k) != v}
    if changed:
        for field, value in changed.items():
            setattr(account, field, value)
        uow.add(account)
        uow.audit(account.login_email, "account.preferences", account.login_email, **changed)
    if uow.settings.lang is None:
        uow.lang = account.language
    return view(account)
