"""Anti-automation in place of the captcha (ACC-7): 3 requests per address per 15 minutes.

Events are recorded whether or not the address has an account, so the limit itself
reveals nothing about which addresses exist; and each kind of request (an account
created, a reset asked for, a login code) has its own count, so a reset request meets
the same limit whether or not the address was mailed for another reason lately.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from chorus_cli.kernel.errors import RuleRefused

if TYPE_CHECKING:
    from chorus_cli.store.uow import UnitOfWork

LIMIT = 3
# Login codes go to someone who knows the password; they get more room, but not a
# mail bomb (SECURITY.md: out-of-band codes are rate-limited). Chosen: 5 per 15 minutes.
CODE_LIMIT = 5
WINDOW = timedelta(minutes=15)


def spend(uow: UnitOfWork, address: str, kind: str = "mail", limit: int = LIMIT) -> None:
    """Count one mail-sending request for this address, or refuse it past the limit."""
    from sqlmodel import col, func, select

    from chorus_cli.store.models import ThrottleEvent

    now = uow.clock.now()
    key = f"{kind}:{address}"
    recent = uow.session.exec(
        select(func.count())
        .select_from(ThrottleEvent)
        .where(col(ThrottleEvent.key) == key)
        .where(col(ThrottleEvent.at) > now - WINDOW)
    ).one()
    if recent >= limit:
        raise RuleRefused(
            "acc7.rate_limited", limit=limit, minutes=int(WINDOW.total_seconds() // 60)
        )
    uow.add(ThrottleEvent(key=key, at=now))
