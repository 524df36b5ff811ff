"""The client side of a security key (MFA-4): the browser's part in WebAuthn.

Commands hand the options drawn by ``chorus_cli.domain.factors.security_key`` to a
``KeyClient`` and pass its answer back to the domain, which verifies it. The real client
talks to a USB key through python-fido2's ``CtapHidDevice``; tests (and anything else
with no key at hand) install their own with ``use_client``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from chorus_cli.kernel.errors import BadInput

if TYPE_CHECKING:
    from fido2.client import Fido2Client


class KeyClient(Protocol):
    def register(self, options: dict[str, Any], origin: str) -> dict[str, Any]:
        """Create a credential for ``options`` (WebAuthn creation options, as JSON);
        returns the registration response as JSON."""

    def authenticate(self, options: dict[str, Any], origin: str) -> dict[str, Any]:
        """Sign the challenge of ``options`` (request options, as JSON); returns the
        authentication response as JSON."""


_override: list[KeyClient] = []


def use_client(client: KeyClient | None) -> None:
    """Use this client in this process instead of a USB key (None: back to USB)."""
    _override[:] = [client] if client is not None else []


def client() -> KeyClient:
    return _override[0] if _override else HidKeyClient()


class _Terminal:
    """fido2's user interaction: say when to touch the key, ask its PIN if it wants one."""

    def prompt_up(self) -> None:
        from chorus_cli.ui.output import say

        say("done.key_touch")

    def request_pin(self, permissions: Any, rd_id: str | None) -> str | None:
        from chorus_cli.ui.prompts import ask

        return ask("prompt.key_pin", secret=True)

    def request_uv(self, permissions: Any, rd_id: str | None) -> bool:
        return True


class HidKeyClient:
    """A FIDO2 key plugged in by USB (the first one found)."""

    def _client(self, origin: str) -> Fido2Client:
        from fido2.client import DefaultClientDataCollector, Fido2Client, UserInteraction
        from fido2.hid import CtapHidDevice

        try:
            device = next(CtapHidDevice.list_devices(), None)
        except OSError:  # no hidraw access on this machine: as good as no key
            device = None
        if device is None:
            raise BadInput("mfa4.no_device")

        class Interaction(_Terminal, UserInteraction):
            pass

        return Fido2Client(
            device, DefaultClientDataCollector(origin), user_interaction=Interaction()
        )

    def register(self, options: dict[str, Any], origin: str) -> dict[str, Any]:
        from fido2.client import ClientError
        from fido2.webauthn import PublicKeyCredentialCreationOptions

        fido = self._client(origin)
        try:
            result = fido.make_credential(PublicKeyCredentialCreationOptions.from_dict(options))
        except ClientError as exc:
            raise BadInput("mfa4.key_error", reason=_reason(exc)) from None
        return dict(result)

    def authenticate(self, options: dict[str, Any], origin: str) -> dict[str, Any]:
        from fido2.client import ClientError
        from fido2.webauthn import PublicKeyCredentialRequestOptions

        fido = self._client(origin)
        try:
            selection = fido.get_assertion(PublicKeyCredentialRequestOptions.from_dict(options))
        except ClientError as exc:
            raise BadInput("mfa4.key_error", reason=_reason(exc)) from None
        return dict(selection.get_response(0))


def _reason(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    cause = exc.__cause__
    text = getattr(code, "name", "") or type(exc).__name__
    return f"{text} ({cause})" if cause else text
