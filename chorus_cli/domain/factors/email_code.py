"""The default second factor: a 6-digit code mailed to the login address (AUTH-1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus_cli.domain import notices, throttle
from chorus_cli.domain.secrets import new_code, same, token_hash

if TYPE_CHECKING:
    from chorus_cli.store.models import Account, LoginChallenge
    from chorus_cli.store.uow import UnitOfWork


def _code_hash(attempt: str, code: str) -> str:
    # Bound to the attempt's secret, which the store never sees: a stolen row cannot be
    # brute-forced over the million codes.
    return token_hash(f"{attempt}:{code}")


class EmailCode:
    method = "email"
    refusal = "auth1.code_wrong"
    typed = True

    def available(self, uow: UnitOfWork, account: Account) -> bool:
        return True

    def start(
        self, uow: UnitOfWork, account: Account, challenge: LoginChallenge, attempt: str
    ) -> None:
        throttle.spend(uow, account.login_email, kind="code", limit=throttle.CODE_LIMIT)
        code = new_code()
        challenge.code_hash = _code_hash(attempt, code)
        notices.notify(uow, account, "login_code", to=account.login_email, code=code)

    def verify(
        self,
        uow: UnitOfWork,
        account: Account,
        challenge: LoginChallenge,
        attempt: str,
        response: str,
    ) -> bool:
        code = "".join(response.split())
        return challenge.code_hash is not None and same(
            challenge.code_hash, _code_hash(attempt, code)
        )
