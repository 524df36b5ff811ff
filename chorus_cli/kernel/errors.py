"""Domain errors: each class carries the exit code of SPEC's contract.

An error holds a message key and its parameters, never a finished sentence, so the
CLI can say it in the user's language (``chorus_cli.i18n``).
"""

from __future__ import annotations

from typing import Any


class ChorusError(Exception):
    """Base of every error a user can cause; never shown with a traceback."""

    exit_code = 1
    kind = "error"

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class RuleRefused(ChorusError):
    """A business rule refused the action."""

    exit_code = 1
    kind = "rule_refused"


class SeedKeyMissing(RuleRefused):
    """A TOTP seed is sealed with a key this machine does not hold (SEC-2): exit 1, like
    any refusal; the message says to set CHORUS_SEED_KEY or run where the key is."""

    kind = "seed_key_missing"


class BadInput(ChorusError):
    """The input is malformed or incomplete."""

    exit_code = 2
    kind = "bad_input"


class NotFound(ChorusError):
    exit_code = 3
    kind = "not_found"


class NotAllowed(ChorusError):
    """The actor lacks a role or habilitation."""

    exit_code = 4
    kind = "not_allowed"


class NotAuthenticated(ChorusError):
    """No session, an expired session, or credentials refused."""

    exit_code = 5
    kind = "not_authenticated"


class WrongCode(NotAuthenticated):
    """A second-factor code refused at login (AUTH-1, MFA-3): counted toward the lockout
    (AUTH-2); ``tries_left`` more may be typed for the same attempt. Its message takes
    ``left``, the same number."""

    def __init__(self, key: str, tries_left: int, **params: Any) -> None:
        super().__init__(key, left=tries_left, **params)
        self.tries_left = tries_left


class WrongEnrolmentCode(BadInput):
    """The first code of a TOTP app being added is wrong (MFA-2): exit 2, and another may
    be typed while the enrolment waits."""


class LinkExpired(ChorusError):
    """An expired or already-used link or code."""

    exit_code = 6
    kind = "link_expired"


EXIT_CODES: dict[int, str] = {
    0: "ok",
    1: "a business rule refused the action",
    2: "bad input or usage",
    3: "not found",
    4: "not allowed (habilitation or role)",
    5: "not authenticated or session expired",
    6: "expired or already-used link or code",
}
