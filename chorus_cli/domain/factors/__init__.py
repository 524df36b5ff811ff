"""Second factors behind one small interface: login asks the registry, never a module.

Each factor is a module (allauth style): ``email_code`` (the default, AUTH-1), ``totp``
(MFA-2, MFA-3) and ``security_key`` (MFA-4); ``common`` holds what they share.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from chorus_cli.kernel.errors import BadInput, RuleRefused

if TYPE_CHECKING:
    from chorus_cli.store.models import Account, LoginChallenge
    from chorus_cli.store.uow import UnitOfWork


class Factor(Protocol):
    method: str
    # The message key of a refused response; it takes ``left``, the tries left.
    refusal: str
    # Whether the response is a code the user types (``--code``); a key's is not.
    typed: bool

    def available(self, uow: UnitOfWork, account: Account) -> bool:
        """Whether the account can use this factor."""

    def start(
        self, uow: UnitOfWork, account: Account, challenge: LoginChallenge, attempt: str
    ) -> dict[str, Any] | None:
        """Prepare the challenge (mail a code, draw a WebAuthn challenge); ``attempt`` is
        the attempt's secret. Returns what the client needs to answer, if anything."""

    def verify(
        self,
        uow: UnitOfWork,
        account: Account,
        challenge: LoginChallenge,
        attempt: str,
        response: str,
    ) -> bool:
        """Whether the response proves the factor."""


def registry() -> dict[str, Factor]:
    """Factors by method, strongest first: that order is the default choice (AUTH-1)."""
    from chorus_cli.domain.factors.email_code import EmailCode
    from chorus_cli.domain.factors.security_key import SecurityKey
    from chorus_cli.domain.factors.totp import Totp

    return {"key": SecurityKey(), "totp": Totp(), "email": EmailCode()}


METHODS = ("email", "totp", "key")


def choose(uow: UnitOfWork, account: Account, requested: str | None, typed: bool = False) -> Factor:
    """The requested factor, else the strongest the account has (mailed code last).

    With ``typed`` (a code was given on the command line), the default skips the
    factors that take no typed code: a security key.
    """
    factors = registry()
    if requested is not None:
        if requested not in METHODS:
            raise BadInput("auth1.method_unknown", method=requested, methods=", ".join(METHODS))
        factor = factors.get(requested)
        if factor is None or not factor.available(uow, account):
            raise RuleRefused("auth1.method_unavailable", method=requested)
        return factor
    return next(f for f in factors.values() if (f.typed or not typed) and f.available(uow, account))
