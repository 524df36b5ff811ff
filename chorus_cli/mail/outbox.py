"""Reading the outbox and delivering it by SMTP (SPEC: mail, trust boundary)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from chorus_cli.domain.clock import iso
from chorus_cli.domain.errors import BadInput

if TYPE_CHECKING:
    import smtplib

    from chorus_cli.store.models import Mail
    from chorus_cli.store.uow import UnitOfWork

SMTP_KEYRING_SERVICE = "chorus-smtp"


def view(mail: Mail) -> dict[str, Any]:
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


def get(uow: UnitOfWork, mail_id: int) -> Mail:
    """One mail of the outbox, or NotFound (exit 3)."""
    from chorus_cli.domain.errors import NotFound
    from chorus_cli.store.models import Mail

    found = uow.session.get(Mail, mail_id)
    if found is None:
        raise NotFound("mail.not_found", id=mail_id)
    return found


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

    @property
    def keyring_username(self) -> str:
        return f"{self.user}@{self.host}"

    def password(self) -> str | None:
        """The SMTP password lives in the keyring, never in the URL or the environment.

        A machine with no usable keyring has no password: delivery then fails as with a
        wrong password, and the mails stay in the outbox.
        """
        if not self.user:
            return None
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(SMTP_KEYRING_SERVICE, self.keyring_username)
        except KeyringError:
            return None

    def connect(self) -> smtplib.SMTP:
        import smtplib

        cls = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
        client = cls(self.host, self.port, timeout=15)
        try:
            if self.starttls:
                client.starttls()
            if self.user:
                password = self.password()
                if password is None:
                    # Never try an empty password; say what is missing instead.
                    raise smtplib.SMTPAuthenticationError(
                        535,
                        f"no password in keyring service {SMTP_KEYRING_SERVICE} "
                        f"for {self.keyring_username}",
                    )
                client.login(self.user, password)
        except BaseException:
            client.close()
            raise
        return client


def deliver_pending(uow: UnitOfWork, smtp_url: str) -> tuple[int, int]:
    """Send every pending (or failed) mail; blank links and codes once sent.

    Returns (sent, failed). The store is not held while the SMTP server is reached (a
    slow server must not stall other chorus processes); each mail is then re-read under
    a lock, sent, and its new state committed at once, so neither an interrupted run nor
    two processes delivering together send a mail twice.
    """
    import smtplib  # only here: mail list and every other command do without it (17 ms)
    from email.message import EmailMessage
    from email.utils import format_datetime, make_msgid

    from sqlmodel import col, select, update

    from chorus_cli.store.models import Mail

    target = SmtpTarget(smtp_url)
    waiting = ("pending", "failed")
    ids = list(
        uow.session.exec(
            select(Mail.id).where(col(Mail.status).in_(waiting)).order_by(col(Mail.id))
        ).all()
    )
    uow.commit()  # release the store (SQLite: the write lock) before the network
    if not ids:
        return 0, 0
    try:
        client = target.connect()
    except (OSError, smtplib.SMTPException) as exc:
        uow.session.exec(
            update(Mail)
            .where(col(Mail.id).in_(ids), col(Mail.status).in_(waiting))
            .values(status="failed", error=_reason(exc))
        )
        uow.commit()
        return 0, len(ids)
    sent = failed = 0
    with client:
        for mail_id in ids:
            mail = uow.session.exec(
                select(Mail)
                .where(col(Mail.id) == mail_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).first()
            if mail is None or mail.status not in waiting:
                uow.commit()  # another process delivered it meanwhile
                continue
            message = EmailMessage()
            message["From"] = mail.sender
            message["To"] = mail.to
            message["Subject"] = mail.subject
            message["Date"] = format_datetime(mail.created_at)
            message["Message-ID"] = make_msgid(domain=mail.sender.rpartition("@")[2] or None)
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


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _failed(uow: UnitOfWork, mail: Mail, exc: Exception) -> None:
    mail.status = "failed"
    mail.error = _reason(exc)
    uow.add(mail)
