"""Reading the outbox and delivering it by SMTP (SPEC: mail, trust boundary)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from chorus_cli.domain.clock import iso
from chorus_cli.domain.errors import BadInput

if TYPE_CHECKING:
    from chorus_cli.store.models import Mail
    from chorus_cli.store.uow import UnitOfWork

SMTP_KEYRING_SERVICE = "chorus-smtp"


def public(mail: Mail) -> dict[str, Any]:
    return {
        "id": mail.id,
        "to": mail.to,
        "sender": mail.sender,
        "subject": mail.subject,
        "body": mail.body,
        "created_at": iso(mail.created_at),
        "status": mail.status,
    }


def list_mail(uow: UnitOfWork, to: str | None = None, limit: int | None = None) -> list[Mail]:
    """Newest first, optionally for one address (case-insensitive)."""
    from sqlmodel import col, func, select

    from chorus_cli.store.models import Mail

    query = select(Mail).order_by(col(Mail.id).desc())
    if to:
        query = query.where(func.lower(col(Mail.to)) == to.strip().lower())
    if limit:
        query = query.limit(limit)
    return list(uow.session.exec(query).all())


class SmtpTarget:
    """``smtp://[user@]host[:port]`` (``?starttls=1`` to upgrade) or ``smtps://...``."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise BadInput("mail.smtp_url_invalid", url=url)
        self.ssl = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.ssl else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.starttls = "starttls=1" in parts.query

    def password(self) -> str | None:
        """The SMTP password lives in the keyring, never in the URL or the environment."""
        if not self.user:
            return None
        import keyring

        return keyring.get_password(SMTP_KEYRING_SERVICE, f"{self.user}@{self.host}")

    def connect(self) -> smtplib.SMTP:
        cls = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
        client = cls(self.host, self.port, timeout=15)
        if self.starttls:
            client.starttls()
        if self.user:
            client.login(self.user, self.password() or "")
        return client


def deliver_pending(uow: UnitOfWork, smtp_url: str) -> tuple[int, int]:
    """Send every pending (or failed) mail; blank links and codes once sent.

    Returns (sent, failed). Each mail's new state is committed as soon as it is known,
    so an interrupted run never sends a mail twice.
    """
    from sqlmodel import col, select

    from chorus_cli.store.models import Mail

    target = SmtpTarget(smtp_url)
    mails = uow.session.exec(
        select(Mail).where(col(Mail.status).in_(("pending", "failed"))).order_by(col(Mail.id))
    ).all()
    if not mails:
        return 0, 0
    sent = failed = 0
    try:
        client = target.connect()
    except (OSError, smtplib.SMTPException) as exc:
        for mail in mails:
            _failed(uow, mail, exc)
        uow.commit()
        return 0, len(mails)
    with client:
        for mail in mails:
            message = EmailMessage()
            message["From"] = mail.sender
            message["To"] = mail.to
            message["Subject"] = mail.subject
            message.set_content(mail.body)
            try:
                client.send_message(message)
            except (OSError, smtplib.SMTPException) as exc:
                _failed(uow, mail, exc)
                failed += 1
            else:
                mail.status = "sent"
                mail.sent_at = uow.clock.now()
                mail.error = None
                mail.body = mail.body_redacted
                uow.add(mail)
                sent += 1
            uow.commit()
    return sent, failed


def _failed(uow: UnitOfWork, mail: Mail, exc: Exception) -> None:
    mail.status = "failed"
    mail.error = f"{type(exc).__name__}: {exc}"[:500]
    uow.add(mail)
