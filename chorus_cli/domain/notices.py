"""The mails one act sends: an activation link, a reset, a code, SET-3's notices (SPEC:
every mail goes to the outbox first). What an account subscribes to, and the weekly
summary it is mailed, is ``subscriptions``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chorus_cli.store.models import Account
    from chorus_cli.store.uow import UnitOfWork


def sender(uow: UnitOfWork, public: bool = False) -> str:
    """The sender of a mail: the portal's, or for a public-entity account the DGFiP's
    (PUB-3, configurable with CHORUS_PUBLIC_MAIL_FROM); a malformed one is bad input
    (SEC-8) before anything is saved."""
    from chorus_cli.mail.outbox import check_sender, check_transport

    # SEC-8, SEC-12: a mistyped CHORUS_SMTP_URL is bad input here, before anything is
    # saved, rather than a failure after the commit.
    check_transport(uow.settings)
    if public:
        return check_sender(uow.settings.public_sender, "CHORUS_PUBLIC_MAIL_FROM")
    return check_sender(uow.settings.sender, "CHORUS_MAIL_FROM")


def send(
    uow: UnitOfWork,
    kind: str,
    to: str,
    lang: str = "fr",
    *,
    public: bool = False,
    **params: str | list[str],
) -> None:
    """Write a mail to the outbox, in the recipient's language, in the current transaction;
    ``public``: to a public-entity account, from the PUB-3 sender."""
    from chorus_cli.mail.templates import render

    mail_from = sender(uow, public)
    # Stored text goes into the mail escaped: no control character reaches a mail
    # client or, through `mail show`, a terminal (SEC-1).
    safe = {k: _displayed(v) for k, v in params.items()}
    subject, body, redacted = render(kind, lang, **safe)
    queue(uow, kind, to, mail_from, subject, body, redacted)


def queue(
    uow: UnitOfWork, kind: str, to: str, mail_from: str, subject: str, body: str, redacted: str
) -> None:
    """Write a rendered mail to the outbox, in the current transaction, with its
    Message-ID from now on (SEC-8)."""
    from chorus_cli.mail.outbox import new_message_id
    from chorus_cli.store.models import Mail

    uow.add(
        Mail(
            to=to,
            sender=mail_from,
            subject=subject,
            body=body,
            body_redacted=redacted,
            kind=kind,
            created_at=uow.clock.now(),
            message_id=new_message_id(mail_from),  # SEC-8: kept for every resend
        )
    )
    uow.queued_mail += 1


def _displayed(value: object) -> object:
    from chorus_cli.kernel.text import displayed

    if isinstance(value, str):
        return displayed(value)
    if isinstance(value, list):
        return [displayed(v) if isinstance(v, str) else v for v in value]
    return value


def is_public_entity(uow: UnitOfWork, account: Account) -> bool:
    """Whether the account is attached to a public structure: its mails then come from
    the PUB-3 sender. Plain SQL: the login code mail must not load the structure tables."""
    from sqlalchemy import text

    if account.id is None:
        return False
    row = (
        uow.session.connection()
        .execute(
            text(
                "SELECT 1 FROM attachment a JOIN structure s ON s.id = a.structure_id"
                " WHERE a.account_id = :account AND s.public LIMIT 1"
            ),
            {"account": account.id},
        )
        .first()
    )
    return row is not None


def notify(
    uow: UnitOfWork,
    account: Account,
    kind: str,
    *,
    to: str | None = None,
    public: bool | None = None,
    **params: str | list[str],
) -> None:
    """A mail about the account, to its contact address (SET-3) or to ``to`` (the login
    address for links and codes); from the PUB-3 sender when the account is a public
    entity's (``public``, else looked up)."""
    send(
        uow,
        kind,
        to or account.contact_email,
        account.language,
        public=is_public_entity(uow, account) if public is None else public,
        first_name=account.first_name,
        last_name=account.last_name,
        login_email=account.login_email,
        **params,
    )
