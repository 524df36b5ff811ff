"""Mailed single-use links: ``<base-url>/<purpose>?token=<token>`` (SPEC, ACC-3, ACC-6)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from chorus_cli.domain.secrets import new_token, token_hash
from chorus_cli.kernel.errors import BadInput, LinkExpired

if TYPE_CHECKING:
    from chorus_cli.store.models import Account, LinkToken
    from chorus_cli.store.uow import UnitOfWork

LINK_TTL = timedelta(minutes=60)
PATHS = {
    "activate": "activate",
    "reset": "reset-password",
    "login_address": "confirm-login-address",
}


def issue(
    uow: UnitOfWork,
    account: Account,
    purpose: str,
    ttl: timedelta = LINK_TTL,
    payload: str | None = None,
) -> str:
    """Create a link for the account; earlier unused links of the same purpose die.
    ``payload``: what the link carries (the new address of a login-address change)."""
    token = new_token()
    record(uow, account, purpose, token_hash(token), ttl, payload)
    return f"{uow.settings.base_url}/{PATHS.get(purpose, purpose)}?token={token}"


def record(
    uow: UnitOfWork,
    account: Account,
    purpose: str,
    digest: str,
    ttl: timedelta = LINK_TTL,
    payload: str | None = None,
) -> None:
    """Store a link by its token's hash (ACC-8), valid ``ttl`` from now; earlier unused
    links of the same purpose die."""
    from chorus_cli.store.models import LinkToken

    now = uow.clock.now()
    void(uow, account, (purpose,))
    uow.add(
        LinkToken(
            token_hash=digest,
            purpose=purpose,
            account_id=account.id,
            created_at=now,
            expires_at=now + ttl,
            payload=payload,
        )
    )


def void(uow: UnitOfWork, account: Account, purposes: tuple[str, ...]) -> None:
    """Mark the account's unused links of these purposes as used: they no longer work."""
    from sqlmodel import col, update

    from chorus_cli.store.models import LinkToken

    uow.session.exec(
        update(LinkToken)
        .where(col(LinkToken.account_id) == account.id)
        .where(col(LinkToken.purpose).in_(purposes))
        .where(col(LinkToken.used_at).is_(None))
        .values(used_at=uow.clock.now())
    )


def token_from(link: str) -> str:
    """Accept the whole link or the bare token."""
    link = link.strip()
    if "?" in link or "/" in link:
        tokens = parse_qs(urlsplit(link).query).get("token")
        if not tokens:
            raise BadInput("link.malformed")
        return tokens[0]
    if not link:
        raise BadInput("link.malformed")
    return link


def consume(uow: UnitOfWork, link: str, purposes: tuple[str, ...]) -> LinkToken:
    """Mark the link used and return it; unknown, used or expired links raise LinkExpired,
    in the words of the purpose asked for: an activation or reset link names ACC-4's 60
    minutes and the forgotten-password procedure, a login-address link LA-2's 24 hours
    and `login-address change`."""
    from sqlmodel import col, select

    from chorus_cli.store.models import LinkToken

    row = uow.session.exec(
        select(LinkToken)
        .where(col(LinkToken.token_hash) == token_hash(token_from(link)))
        .with_for_update()
    ).first()
    address = purposes[0] == "login_address"  # LA-1, LA-2's words, not ACC-4's
    if row is None or row.purpose not in purposes:
        raise LinkExpired("la2.link_unknown") if address else LinkExpired("link.unknown")
    if row.used_at is not None:
        raise LinkExpired("la2.link_used") if address else LinkExpired("link.used")
    if uow.clock.now() >= row.expires_at:
        raise LinkExpired("la2.link_expired") if address else LinkExpired("link.expired")
    row.used_at = uow.clock.now()
    uow.add(row)
    return row
