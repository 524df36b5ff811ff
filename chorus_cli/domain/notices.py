"""Mails (SPEC: every mail goes to the outbox first; SET-3 lists the notices)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chorus_cli.store.models import Account
    from chorus_cli.store.uow import UnitOfWork


def send(uow: UnitOfWork, kind: str, to: str, lang: str = "fr", **params: str) -> None:
    """Write a mail to the outbox, in the recipient's language, in the current transaction."""
    from chorus_cli.mail.templates import render
    from chorus_cli.store.models import Mail

    subject, body, redacted = render(kind, lang, **params)
    uow.add(
        Mail(
            to=to,
            sender=uow.settings.sender,
            subject=subject,
            body=body,
            body_redacted=redacted,
            kind=kind,
            created_at=uow.clock.now(),
        )
    )


def notify(uow: UnitOfWork, account: Account, kind: str, **params: str) -> None:
    """A notice about the account, sent to its contact address (SET-3)."""
    send(
        uow,
        kind,
        account.contact_email,
        account.language,
        first_name=account.first_name,
        last_name=account.last_name,
        login_email=account.login_email,
        **params,
    )
