"""Security keys (MFA-4): FIDO2/WebAuthn, verified on the server side by python-fido2's
``Fido2Server`` (the relying party is the portal: its id is the base URL's host).

``Fido2Server`` checks the challenge, origin, RP-ID hash and flags, but neither the sign
counter nor the reuse of a state (SECURITY.md). So each state is a row of the store,
deleted at its first use whatever the outcome, and a sign counter that does not
increase is refused (a cloned key), unless the key keeps no counter (both 0).

The client side, the USB key itself, is not here: commands hand the options to
``chorus_cli.ui.security_keys`` and pass its answer back, so tests drive this real
verification with a software authenticator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from chorus_cli.domain.factors import common
from chorus_cli.kernel.errors import LinkExpired, NotFound, RuleRefused

if TYPE_CHECKING:
    from fido2.server import Fido2Server
    from fido2.webauthn import AttestedCredentialData

    from chorus_cli.config import Settings
    from chorus_cli.store.models import Account, Authenticator, FactorState, LoginChallenge
    from chorus_cli.store.uow import UnitOfWork

RP_NAME = "Chorus Pro"
REGISTER_TTL = timedelta(minutes=5)


def rp_id(settings: Settings) -> str:
    """The relying party id: the portal's host, e.g. ``portail.chorus-pro.gouv.fr``."""
    return urlsplit(settings.base_url).hostname or ""


def origin(settings: Settings) -> str:
    """The origin a client must claim: the portal's scheme and host."""
    parts = urlsplit(settings.base_url)
    return f"{parts.scheme}://{parts.netloc}"


def server(settings: Settings) -> Fido2Server:
    from fido2.server import Fido2Server
    from fido2.webauthn import PublicKeyCredentialRpEntity

    return Fido2Server(PublicKeyCredentialRpEntity(id=rp_id(settings), name=RP_NAME))


def credential(row: Authenticator) -> AttestedCredentialData:
    """The stored key as fido2 wants it for an assertion."""
    from fido2 import cbor
    from fido2.cose import CoseKey
    from fido2.utils import websafe_decode
    from fido2.webauthn import Aaguid, AttestedCredentialData

    return AttestedCredentialData.create(
        Aaguid.parse(row.data["aaguid"]),
        websafe_decode(row.data["credential_id"]),
        CoseKey.parse(cbor.decode(websafe_decode(row.data["public_key"]))),
    )


def keys(uow: UnitOfWork, account: Account, lock: bool = False) -> list[Authenticator]:
    return common.authenticators(uow, account, "key", lock=lock)


def get(uow: UnitOfWork, account: Account, key_id: int) -> Authenticator:
    """One of the account's keys, by the id `mfa key list` shows."""
    for row in keys(uow, account):
        if row.id == key_id:
            return row
    raise NotFound("mfa4.key_not_found", id=key_id)


def _consume(
    uow: UnitOfWork,
    account: Account,
    purpose: str,
    state_id: int | None = None,
    challenge_id: int | None = None,
) -> FactorState | None:
    """Take a state out of the store under a row lock: a second use finds nothing."""
    from sqlmodel import col, select

    from chorus_cli.store.models import FactorState

    query = (
        select(FactorState)
        .where(col(FactorState.account_id) == account.id)
        .where(col(FactorState.purpose) == purpose)
    )
    if state_id is not None:
        query = query.where(col(FactorState.id) == state_id)
    if challenge_id is not None:
        query = query.where(col(FactorState.challenge_id) == challenge_id)
    state = uow.session.exec(query.with_for_update()).first()
    if state is not None:
        uow.session.delete(state)
        uow.session.flush()
    return state


@dataclass
class Registration:
    """A registration under way: the options for the key, and the state's id."""

    state_id: int
    options: dict[str, Any]


def register_begin(
    uow: UnitOfWork, account: Account, name: str | None, password: str
) -> Registration:
    """Draw a registration challenge for a new key (MFA-4), after the current password
    (SEC-5, ASVS 5 7.5.1); it lives 5 minutes.

    The account's keys are excluded, so a key already registered says so itself.
    """
    from fido2.webauthn import (
        PublicKeyCredentialUserEntity,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    from chorus_cli.store.models import FactorState

    existing = keys(uow, account)
    name = common.clean_name(name, f"key-{len(existing) + 1}")
    common.reauthenticate(uow, account, password, "sec5.password_wrong_factor")
    common.purge_states(uow)
    user = PublicKeyCredentialUserEntity(
        # An opaque, stable handle: no personal data goes to the key (WebAuthn §14.6.1).
        id=f"chorus:{account.id}".encode(),
        name=account.login_email,
        display_name=f"{account.first_name} {account.last_name}",
    )
    options, state = server(uow.settings).register_begin(
        user,
        credentials=[credential(row) for row in existing],
        resident_key_requirement=ResidentKeyRequirement.DISCOURAGED,
        # A second factor after the password: presence is enough, no PIN asked.
        user_verification=UserVerificationRequirement.DISCOURAGED,
    )
    now = uow.clock.now()
    row = uow.add(
        FactorState(
            account_id=account.id,
            purpose="key_register",
            data={"state": dict(state), "name": name},
            created_at=now,
            expires_at=now + REGISTER_TTL,
        )
    )
    return Registration(row.id, dict(options)["publicKey"])


def abandon(uow: UnitOfWork, account: Account, state_id: int) -> None:
    """Drop a registration the key never answered (none plugged in, refused, Ctrl-C)."""
    uow.session.rollback()
    uow.session.begin()
    _consume(uow, account, "key_register", state_id=state_id)
    uow.commit()


def register_complete(
    uow: UnitOfWork, account: Account, state_id: int, response: dict[str, Any]
) -> Authenticator:
    """Verify the key's answer and save it (MFA-4); a notice is mailed (MFA-5).

    The state is used up first and for good (committed), whatever the verdict.
    """
    from fido2 import cbor
    from fido2.utils import websafe_encode

    from chorus_cli.store.models import Authenticator

    state = _consume(uow, account, "key_register", state_id=state_id)
    uow.commit()
    now = uow.clock.now()
    if state is None or state.expires_at <= now:
        raise LinkExpired("mfa4.expired")
    try:
        auth_data = server(uow.settings).register_complete(state.data["state"], response)
    except Exception as exc:  # fido2's checks raise ValueError; a malformed answer, others
        raise RuleRefused("mfa4.registration_refused", reason=_reason(exc)) from None
    found = auth_data.credential_data
    if found is None:
        raise RuleRefused("mfa4.registration_refused", reason="no credential")
    credential_id = websafe_encode(found.credential_id)
    if any(row.data["credential_id"] == credential_id for row in keys(uow, account)):
        raise RuleRefused("mfa4.key_exists")
    row = uow.add(
        Authenticator(
            account_id=account.id,
            type="key",
            name=state.data["name"],
            data={
                "credential_id": credential_id,
                "public_key": websafe_encode(cbor.encode(found.public_key)),
                "sign_count": auth_data.counter,
                "aaguid": str(found.aaguid),
            },
            created_at=now,
        )
    )
    common.added(uow, account, row)
    return row


def _reason(exc: Exception) -> str:
    """fido2's refusal, for the message: its sentences hold no secret."""
    return (str(exc) or type(exc).__name__).strip().rstrip(".")


def remove(uow: UnitOfWork, account: Account, key_id: int, password: str) -> Authenticator:
    """Remove a key after the current password (ASVS 5 7.5.1); a notice is mailed (MFA-5)."""
    row = get(uow, account, key_id)
    common.reauthenticate(uow, account, password)
    common.removed(uow, account, row)
    return row


def counter_ok(stored: int, received: int) -> bool:
    """A key's sign counter must grow; a key that keeps none sends 0 every time."""
    return received > stored or received == stored == 0


class SecurityKey:
    """A FIDO2 security key as a login factor (AUTH-1, MFA-4)."""

    method = "key"
    refusal = "mfa4.key_refused"
    typed = False

    def available(self, uow: UnitOfWork, account: Account) -> bool:
        return bool(keys(uow, account))

    def start(
        self, uow: UnitOfWork, account: Account, challenge: LoginChallenge, attempt: str
    ) -> dict[str, Any]:
        """Draw the assertion challenge for the account's keys; the state lives as long
        as the login attempt (10 minutes) and serves once."""
        from fido2.webauthn import UserVerificationRequirement

        from chorus_cli.store.models import FactorState

        common.purge_states(uow)
        options, state = server(uow.settings).authenticate_begin(
            [credential(row) for row in keys(uow, account)],
            user_verification=UserVerificationRequirement.DISCOURAGED,
        )
        uow.add(
            FactorState(
                account_id=account.id,
                purpose="key_login",
                challenge_id=challenge.id,
                data={"state": dict(state)},
                created_at=uow.clock.now(),
                expires_at=challenge.expires_at,
            )
        )
        return dict(options)["publicKey"]

    def verify(
        self,
        uow: UnitOfWork,
        account: Account,
        challenge: LoginChallenge,
        attempt: str,
        response: str,
    ) -> bool:
        from fido2.utils import websafe_encode
        from fido2.webauthn import AuthenticationResponse

        state = _consume(uow, account, "key_login", challenge_id=challenge.id)
        if state is None:
            return False  # used already: the same state never serves twice
        rows = keys(uow, account, lock=True)
        try:
            answer = json.loads(response)
            used = server(uow.settings).authenticate_complete(
                state.data["state"], [credential(row) for row in rows], answer
            )
            received = AuthenticationResponse.from_dict(answer).response.authenticator_data.counter
        except Exception:  # whatever fails to verify is refused (fail closed)
            return False
        row = next(r for r in rows if r.data["credential_id"] == websafe_encode(used.credential_id))
        stored = row.data["sign_count"]
        if not counter_ok(stored, received):
            # A clone of the key, or a replayed answer: refused, and worth an audit line.
            uow.audit(
                "system",
                "mfa.key.counter_regression",
                account.login_email,
                id=row.id,
                stored=stored,
                received=received,
            )
            return False
        row.data = {**row.data, "sign_count": received}
        row.last_used_at = uow.clock.now()
        uow.add(row)
        return True
