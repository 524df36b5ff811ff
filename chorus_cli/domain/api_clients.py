"""API clients and their bearer tokens (API-2): what ``POST /api/oauth/token`` and every
API call of ``chorus serve`` check, without HTTP.

A client is registered by an admin (`chorus api client add NAME`): a public
``client_id`` and a ``client_secret`` of 256 random bits, printed once. The secret is
stored as its SHA-256, not an Argon2 hash: Argon2 protects *guessable* secrets
(passwords people choose) by making each guess slow; a 256-bit random secret cannot be
guessed, so its hash only has to be one-way, and the token endpoint, called by every
integration, does not pay 35 ms and 19 MiB of Argon2 per request (a cheap way to tie up
the server). Comparisons are constant-time (``secrets.same``), and an unknown
``client_id`` is compared against a dummy hash so that it costs the same.

Tokens are not stored (API-3: the API writes nothing but its audit rows and the
technical accounts' last-use time): :class:`Tokens` signs ``<client number>.<expiry>``
with HMAC-SHA-256 under a 256-bit key held in the server's memory for its lifetime, so
a token is valid ``EXPIRES_IN`` seconds (3600, as PISTE) or until the server stops,
whichever comes first (an integration then asks for another, as on PISTE when a token
expires). :meth:`Tokens.check` also finds the client in the table: removing a client
revokes its tokens at once. The client a token names, once its signature is checked, is
what the rate of API-3 is counted by (:meth:`Tokens.client_of`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as random
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from chorus_cli.domain import authz
from chorus_cli.domain.secrets import new_token, same, token_hash
from chorus_cli.kernel import text
from chorus_cli.kernel.clock import iso
from chorus_cli.kernel.errors import BadInput, NotAuthenticated, NotFound, RuleRefused
from chorus_cli.store.listing import WINDOW, Page, Window, fetch

if TYPE_CHECKING:
    from chorus_cli.store.models import Account, ApiClient
    from chorus_cli.store.uow import UnitOfWork

EXPIRES_IN = 3600  # seconds a bearer token lives (API-2, as PISTE's)
SCOPE = "openid"
NAME_MAX = 100
# Compared against when the client id is unknown: the same work as a known one.
_DUMMY = token_hash("chorus: no such client")

FIELDS = ("id", "name", "client_id", "created_at", "created_by", "last_used_at")
REGISTERED_FIELDS = ("id", "name", "client_id", "client_secret")  # ``Registered.view``'s


class ClientRefused(NotAuthenticated):
    """Unknown client id or wrong secret: one error for both. Exit 5 (the API's 401)."""

    def __init__(self) -> None:
        super().__init__("api2.client_refused")


class TokenRefused(NotAuthenticated):
    """A bearer token unknown, expired or of a removed client. Exit 5 (the API's 401)."""

    def __init__(self) -> None:
        super().__init__("api2.token_refused")


@dataclass
class Registered:
    """A client just registered, with its secret: shown once, never stored."""

    client: ApiClient
    secret: str

    def view(self) -> dict[str, Any]:
        return {
            "id": self.client.id,
            "name": self.client.name,
            "client_id": self.client.client_id,
            "client_secret": self.secret,
        }


@dataclass
class Token:
    """A bearer token just issued, as ``POST /api/oauth/token`` answers it."""

    access_token: str
    expires_at: datetime
    expires_in: int = EXPIRES_IN

    def view(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": SCOPE,
        }


def _name(name: str) -> str:
    """A client's name: typed text (SEC-1), spaces tidied, 1 to ``NAME_MAX`` characters."""
    name = " ".join(text.check(unicodedata.normalize("NFKC", name), "name").split())
    if not name or len(name) > NAME_MAX:
        raise BadInput("api2.client_name", max=NAME_MAX)
    return name


def view(client: ApiClient, last_used_at: datetime | None = None) -> dict[str, Any]:
    return {
        "id": client.id,
        "name": client.name,
        "client_id": client.client_id,
        "created_at": iso(client.created_at),
        "created_by": client.created_by,
        "last_used_at": iso(last_used_at) if last_used_at else None,
    }


def add(uow: UnitOfWork, actor: Account, name: str) -> Registered:
    """API-2: register a client (admins); its secret is returned once."""
    from sqlmodel import col, func, select

    from chorus_cli.store.models import ApiClient

    authz.require_role(uow, actor, *authz.ADMIN)
    name = _name(name)
    taken = select(ApiClient.id).where(func.lower(col(ApiClient.name)) == name.lower())
    if uow.session.exec(taken).first() is not None:
        raise RuleRefused("api2.client_exists", name=name)
    secret = new_token()
    client = ApiClient(
        name=name,
        client_id=random.token_hex(16),
        secret_hash=token_hash(secret),
        created_at=uow.clock.now(),
        created_by=actor.login_email,
    )
    uow.session.add(client)
    uow.session.flush()
    uow.audit(actor.login_email, "api.client_add", name, client_id=client.client_id)
    return Registered(client, secret)


def listing(uow: UnitOfWork, actor: Account, *, shown: Window = WINDOW) -> Page:
    """API-2: the registered clients, by name (admins). A client's last use is its last
    token, read from the audit (API-3: the API writes nothing else)."""
    from sqlmodel import col, func, select

    from chorus_cli.store.models import ApiClient, AuditEntry

    authz.require_role(uow, actor, *authz.ADMIN)
    page = fetch(uow, select(ApiClient).order_by(col(ApiClient.name)), shown)
    ids = [c.client_id for c in page.rows]
    tokens = (
        select(AuditEntry.target, func.max(AuditEntry.at))
        .where(col(AuditEntry.action) == "api.token", col(AuditEntry.target).in_(ids))
        .group_by(col(AuditEntry.target))
    )
    last = dict(uow.session.exec(tokens).all())
    return Page([view(c, last.get(c.client_id)) for c in page.rows], page.total)


def find(uow: UnitOfWork, name_or_id: str) -> ApiClient | None:
    """The client named so (any case), or with this number or ``client_id``."""
    from sqlmodel import col, func, or_, select

    from chorus_cli.store.models import ApiClient

    text = name_or_id.strip()
    matches = [
        func.lower(col(ApiClient.name)) == text.lower(),
        col(ApiClient.client_id) == text,
    ]
    if text.isdigit() and len(text) < 10:
        matches.append(col(ApiClient.id) == int(text))
    return uow.session.exec(
        select(ApiClient).where(or_(*matches)).order_by(col(ApiClient.id))
    ).first()


def remove(uow: UnitOfWork, actor: Account, name_or_id: str) -> ApiClient:
    """API-2: remove a client (admins); its tokens stop working at once (they name it)."""
    authz.require_role(uow, actor, *authz.ADMIN)
    client = find(uow, name_or_id)
    if client is None:
        raise NotFound("api2.client_not_found", client=name_or_id.strip())
    uow.session.delete(client)
    uow.audit(actor.login_email, "api.client_remove", client.name, client_id=client.client_id)
    return client


# --- for the API server --------------------------------------------------------------


def verify(uow: UnitOfWork, client_id: str, secret: str) -> ApiClient:
    """The client whose credentials these are, or :class:`ClientRefused` (the same for
    an unknown id and a wrong secret, after the same work; constant-time compare)."""
    from sqlmodel import col, select

    from chorus_cli.store.models import ApiClient

    client = None
    if client_id and len(client_id) <= 64:
        client = uow.session.exec(
            select(ApiClient).where(col(ApiClient.client_id) == client_id)
        ).first()
    ok = same(client.secret_hash if client else _DUMMY, token_hash(secret or ""))
    if client is None or not ok or not secret:
        raise ClientRefused()
    return client


class Tokens:
    """The bearer tokens of one server (API-2): signed, not stored (API-3)."""

    def __init__(self) -> None:
        self._key = random.token_bytes(32)

    def _signature(self, payload: str) -> str:
        """HMAC-SHA-256 cut to 128 bits (RFC 2104 §5), URL-safe: a token short enough to
        read in a terminal."""
        mac = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def issue(self, uow: UnitOfWork, client: ApiClient) -> Token:
        """A new bearer token for the client (``grant_type=client_credentials``), valid
        ``EXPIRES_IN`` seconds: ``<client number>.<expiry>.<signature>``; only its audit
        row is written."""
        expires_at = uow.clock.now() + timedelta(seconds=EXPIRES_IN)
        payload = f"{client.id}.{int(expires_at.timestamp())}"
        uow.audit(f"api-client:{client.name}", "api.token", client.client_id)
        return Token(f"{payload}.{self._signature(payload)}", expires_at)

    def _claims(self, token: str) -> tuple[int, int] | None:
        """What a token signed by this server says (client number, expiry), or None: not
        one of ours."""
        if not token or len(token) > 100:
            return None
        payload, _, signature = token.rpartition(".")
        number, _, expiry = payload.partition(".")
        if not (number.isdigit() and expiry.isdigit()):
            return None
        if not same(signature, self._signature(payload)):
            return None
        return int(number), int(expiry)

    def client_of(self, token: str) -> str | None:
        """The client (its number) a token was signed for, expired or not, else None:
        what a client's requests are counted by (API-3), whichever token it presents."""
        claims = self._claims(token)
        return str(claims[0]) if claims else None

    def check(self, uow: UnitOfWork, token: str) -> Any:
        """The client (a row of ``api_client``, read as the model's object) of a bearer token still
        valid, still registered, and registered before the token was issued (a client
        added later under a number set free by a removed one does not inherit its
        tokens), or :class:`TokenRefused`."""
        claims = self.claimed(token, uow.clock.now())
        client = uow.first(_client_by_id(), {"id": claims[0]})  # a row: no ORM object
        admitted(claims, client.created_at if client is not None else None)
        return client

    def claimed(self, token: str, now: datetime) -> tuple[int, int]:
        """What a bearer token says (client number, expiry) if this server signed it and
        it has not expired; else :class:`TokenRefused`. The client is still to be read
        (``admitted``)."""
        claims = self._claims(token)
        if claims is None or claims[1] <= now.timestamp():
            raise TokenRefused()
        return claims


def admitted(claims: tuple[int, int], registered_at: datetime | None) -> None:
    """Whether the client a token's ``claims`` name, registered at ``registered_at`` (None:
    no longer there), may call: still registered, and registered before the token was
    issued; else :class:`TokenRefused`."""
    issued = claims[1] - EXPIRES_IN
    if registered_at is None or registered_at.timestamp() > issued:
        raise TokenRefused()


@cache
def _client_by_id() -> Any:
    """The statement of ``Tokens.check``, built once (every API call runs it)."""
    from sqlalchemy import bindparam, select

    from chorus_cli.store.models import ApiClient

    table = ApiClient.__table__  # type: ignore[attr-defined]
    return select(table).where(table.c.id == bindparam("id"))
