"""Second factors behind one small interface: login asks the registry, never a module.

Later factors (TOTP, security keys) add a module and an entry in ``FACTORS``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from chorus_cli.domain.errors import BadInput, RuleRefused

if TYPE_CHECKING:
    from chorus_cli.store.models import Account, LoginChallenge
    from chorus_cli.store.uow import UnitOfWork


class Factor(Protocol):
    method: str

    def available(self, uow: UnitOfWork, account: Account) -> bool:
        """Whether the account can use this factor."""

    def start(
        self, uow: UnitOfWork, account: Account, challenge: LoginChallenge, attempt: str
    ) -> None:
        """Prepare the challenge (e.g. mail a code); ``attempt`` is the attempt's secret."""

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

    return {"email": EmailCode()}


METHODS = ("email", "totp", "key")


def choose(uow: UnitOfWork, account: Account, requested: str | None) -> Factor:
    """The requested factor, else the strongest the account has (mailed code last)."""
    factors = registry()
    if requested is not None:
        if requested not in METHODS:
            raise BadInput("auth1.method_unknown", method=requested, methods=", ".join(METHODS))
        factor = factors.get(requested)
        if factor is None or not factor.available(uow, account):
            raise RuleRefused("auth1.method_unavailable", method=requested)
        return factor
    return next(f for f in factors.values() if f.available(uow, account))
