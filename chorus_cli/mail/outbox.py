"""Reading the outbox and delivering it by SMTP (SPEC: mail, trust boundary; SEC-8).

Delivery never holds the store while a server answers: each mail is *claimed* in a
short transaction (status ``sending``, one more attempt, committed), sent with no
transaction open, and its outcome recorded in another short transaction. A claim older
than ``CLAIM_TIMEOUT`` (the process died meanwhile) may be taken again; the mail keeps
the Message-ID it got when it was queued, so a resend is recognisable.

A permanent refusal (5xx, or a mail that cannot be written) marks the mail ``failed``;
a temporary one (4xx, a timeout, a refused connection, a certificate that does not
verify, a missing password) leaves it ``pending`` until its next attempt (``BACKOFF``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chorus_cli.kernel.clock import iso
from chorus_cli.kernel.errors import BadInput
from chorus_cli.store.listing import WINDOW, Page, Window, mapped, stream

if TYPE_CHECKING:
    import smtplib
    import ssl
    from collections.abc import Collection
    from email.message import EmailMessage

    from chorus_cli.config import Settings
    from chorus_cli.store.models import Mail
    from chorus_cli.store.uow import UnitOfWork

# Before chorus kept the SMTP password in its own keychain (`chorus mail password`),
# the README had it set with `keyring set chorus-smtp user@host`: still read.
LEGACY_KEYRING_SERVICE = "chorus-smtp"
SMTP_TIMEOUT = 15  # seconds, for each exchange with the server (SEC-10)
CLAIM_TIMEOUT = timedelta(minutes=10)
# SEC-8 (chosen): the wait after the 1st, 2nd, 3rd, 4th failed attempt; then 6 hours.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
BACKOFF_LAST = timedelta(hours=6)
# URL parameters, each with its accepted values (SEC-8: read strictly).
PARAMETERS = {"starttls": "0 | 1", "timeout": "1..300"}
TIMEOUT_MAX = 300


# The fields of ``view``, in its order (`mail list`, `mail show`, OUT-3): SPEC's contract for
# `mail list --format json`, then SEC-8's fields; an empty CSV's header.
MAIL_FIELDS = (
    "id",
    "to",
    "sender",
    "subject",
    "body",
    "created_at",
    "status",
    "attempts",
    "last_error",
    "message_id",
    "next_attempt_at",
)
# What `mail list`'s terminal table shows of them: the body is in --json and --format csv.
# The delivery's attempts and last error join it once SMTP delivery has tried a listed mail.
MAIL_TABLE = ("id", "to", "subject", "created_at", "status")


def view(mail: Mail) -> dict[str, Any]:
    return {
        "id": mail.id,
        "to": mail.to,
        "sender": mail.sender,
        "subject": mail.subject,
        "body": mail.body,
        "created_at": iso(mail.created_at),
        "status": mail.status,
        "attempts": mail.attempts,
        "last_error": mail.error,
        "message_id": mail.message_id,
        "next_attempt_at": iso(mail.next_attempt_at) if mail.status == "pending" else None,
    }


def listing(uow: UnitOfWork, to: str | None = None, shown: Window = WINDOW) -> Page:
    """The outbox as ``chorus mail list`` shows it, newest first, optionally for one
    address (case-insensitive): the rows of ``shown`` (OUT-2);
    with ``--all`` they stream, each as ``view`` gives it, while the unit of work is open.
    Read by plain SQL (``store.plain.mail``): rows read by attribute as ``Mail`` objects
    are, and no model class defined."""
    from sqlalchemy import func, select

    from chorus_cli.store import plain

    mail = plain.mail()
    query = select(*mail.c).order_by(mail.c.id.desc())
    if to:
        query = query.where(func.lower(mail.c.to) == to.strip().lower())
    return mapped(stream(uow, query, shown), view)


def get(uow: UnitOfWork, mail_id: int) -> Mail:
    """One mail of the outbox, or NotFound (exit 3)."""
    from chorus_cli.kernel.errors import NotFound
    from chorus_cli.store.models import Mail

    found = uow.session.get(Mail, mail_id)
    if found is None:
        raise NotFound("mail.not_found", id=mail_id)
    return found


# --- what the environment configures ----------------------------------------------------


def _shown(url: str) -> str:
    """The URL as an error may show it: a password in it is masked (SEC-3)."""
    return _PASSWORD.sub(r"\1:***@", url.strip())


# ``scheme://user:password@``, the password up to the last @ (it may hold a / or a :).
_PASSWORD = re.compile(r"^([^:/]*://[^:@/]*):.*@")


class SmtpTarget:
    """``smtp://[user@]host[:port][?starttls=1][&timeout=S]`` or ``smtps://...``.

    Read strictly (SEC-8): an unknown parameter or value, a bad port, a password in the
    URL, or a user (a password to send) without TLS is bad input, before any connection.
    (A plain class: a dataclass costs a millisecond more to every command that mails.)
    """

    def __init__(
        self,
        host: str,
        port: int,
        user: str | None = None,
        ssl: bool = False,
        starttls: bool = False,
        timeout: int = SMTP_TIMEOUT,
        shown: str = "",
    ) -> None:
        self.host, self.port, self.user = host, port, user
        self.ssl, self.starttls, self.timeout, self.shown = ssl, starttls, timeout, shown

    @property
    def tls(self) -> bool:
        return self.ssl or self.starttls

    @property
    def keyring_username(self) -> str:
        return f"{self.user}@{self.host}"

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        from urllib.parse import unquote, urlsplit

        shown = _shown(url)
        if shown != url.strip():  # before anything else reads a part of the password
            raise BadInput("sec8.smtp_password_in_url", url=shown)
        try:
            parts = urlsplit(url.strip())
            hostname = parts.hostname
        except ValueError:
            raise BadInput("mail.smtp_url_invalid", url=shown) from None
        if (
            parts.scheme not in ("smtp", "smtps")
            or not hostname
            or parts.path not in ("", "/")
            or parts.fragment
            or parts.username == ""
        ):
            raise BadInput("mail.smtp_url_invalid", url=shown)
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0 or (port is None and parts.netloc.endswith(":")):
            given = parts.netloc.rpartition("@")[2].rpartition(":")[2]
            raise BadInput("sec8.smtp_port_invalid", url=shown, port=given)
        if parts.password is not None:
            raise BadInput("sec8.smtp_password_in_url", url=shown)
        params = _parameters(parts.query, shown)
        ssl = parts.scheme == "smtps"
        starttls = params.get("starttls") == "1"
        if ssl and "starttls" in params:
            raise BadInput("sec8.smtps_starttls", url=shown)
        user = unquote(parts.username) if parts.username else None
        if user and not (ssl or starttls):
            raise BadInput("sec8.smtp_password_in_clear", url=shown)
        return cls(
            host=hostname,
            port=port or (465 if ssl else 25),
            user=user,
            ssl=ssl,
            starttls=starttls,
            timeout=int(params.get("timeout", SMTP_TIMEOUT)),
            shown=shown,
        )

    def password(self) -> str | None:
        """The SMTP password, from chorus' keychain (`chorus mail password`): the system
        keyring, or the 0600 file when there is none. Never from the URL or the
        environment."""
        if not self.user:
            return None
        from keyring.errors import KeyringError

        from chorus_cli.store import keychain

        try:
            found = keychain.get_entry(keychain.smtp_entry(self.user, self.host))
            if found is None:
                found = keychain.backend().get_password(
                    LEGACY_KEYRING_SERVICE, self.keyring_username
                )
        except KeyringError:
            return None
        return found

    def connect(self, context: ssl.SSLContext | None, password: str | None) -> smtplib.SMTP:
        """A connection ready to send: TLS verified with ``context`` (certificate and host
        name), logged in when the URL names a user."""
        import smtplib

        if self.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                client.starttls(context=context)
            if self.user:
                client.login(self.user, password or "")
        except BaseException:
            client.close()
            raise
        return client


def _parameters(query: str, shown: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in query.split("&") if query else ():
        name, equals, value = item.partition("=")
        if name not in PARAMETERS:
            raise BadInput(
                "sec8.smtp_parameter_unknown", url=shown, name=name, known=", ".join(PARAMETERS)
            )
        if name in found:
            raise BadInput("sec8.smtp_parameter_repeated", url=shown, name=name)
        if name == "starttls":
            good = value in ("0", "1")
        else:
            good = value.isascii() and value.isdigit() and 1 <= int(value) <= TIMEOUT_MAX
        if not equals or not good:
            raise BadInput(
                "sec8.smtp_parameter_value",
                url=shown,
                name=name,
                value=value,
                expected=PARAMETERS[name],
            )
        found[name] = value
    return found


@lru_cache(maxsize=8)
def target(url: str) -> SmtpTarget:
    """``CHORUS_SMTP_URL`` read strictly, once per process."""
    return SmtpTarget.parse(url)


def check_transport(settings: Settings) -> SmtpTarget | None:
    """SEC-8, SEC-12: the SMTP settings, checked when a mail is queued, so a mistake is
    bad input (exit 2) before anything is saved, not a failure after the commit."""
    if not settings.smtp_url:
        return None
    found = target(settings.smtp_url)
    if settings.smtp_ca_file:
        _ca_file_readable(settings.smtp_ca_file)
    return found


@lru_cache(maxsize=4)
def _ca_file_readable(path: str) -> None:
    import os

    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        raise BadInput("sec8.ca_file_invalid", path=path, reason="not a readable file")


def tls_context(settings: Settings) -> ssl.SSLContext:
    """What a TLS connection verifies against (SEC-8): the system's trust store, or the
    PEM file named by CHORUS_SMTP_CA_FILE; the host name is checked too."""
    import ssl

    try:
        return ssl.create_default_context(cafile=settings.smtp_ca_file or None)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
        raise BadInput("sec8.ca_file_invalid", path=settings.smtp_ca_file, reason=reason) from None


# A plain address: no display name, no space, no control character (SEC-8: a CR or LF in
# CHORUS_MAIL_FROM once made every later delivery fail).
_ADDRESS = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+"


@lru_cache(maxsize=8)
def check_sender(value: str, variable: str) -> str:
    """The sender a variable configures, or bad input (exit 2) naming the variable."""
    if len(value) > 254 or not re.fullmatch(_ADDRESS, value):
        import json

        # On one line: a CR or LF is shown as \r or \n, as the mistake it is.
        shown = json.dumps(value, ensure_ascii=False)[1:-1]
        raise BadInput("sec8.mail_from_invalid", variable=variable, value=shown)
    return value


# The columns of a mail queued set-based (a flow, the seed), in order; every mail has
# its one Message-ID from the moment it is queued (SEC-8).
MAIL_COLUMNS = (
    "to", "sender", "subject", "body", "body_redacted", "kind", "created_at", "status",
    "message_id",
)  # fmt: skip


def new_message_id(sender: str) -> str:
    """A Message-ID of the sender's domain, given once when the mail is queued."""
    import secrets

    return f"<{secrets.token_hex(16)}@{sender.rpartition('@')[2] or 'chorus.invalid'}>"


def next_attempt(now: datetime, attempts: int) -> datetime:
    """When a mail that failed ``attempts`` times is tried again (SEC-8)."""
    return now + (BACKOFF[attempts - 1] if 0 < attempts <= len(BACKOFF) else BACKOFF_LAST)


# --- delivery ------------------------------------------------------------------------------


class Delivery:
    """What a delivery run did: mails sent, and those that failed (id, reason)."""

    def __init__(self) -> None:
        self.sent = 0
        self.retrying: list[tuple[int, str]] = []  # temporary: left pending
        self.refused: list[tuple[int, str]] = []  # permanent: failed
        self.waiting = 0  # pending mails not due yet (their back-off runs)
        self.next_at: datetime | None = None  # the earliest next attempt of a pending mail

    @property
    def failed(self) -> int:
        return len(self.retrying) + len(self.refused)


class _Claimed:
    """A claimed mail, as read in its claim's transaction."""

    def __init__(self, mail: Mail) -> None:
        self.id: int = mail.id or 0
        self.attempts = mail.attempts
        self.sender, self.to, self.subject = mail.sender, mail.to, mail.subject
        self.body, self.created_at = mail.body, mail.created_at
        self.message_id = mail.message_id or ""


def deliver(uow: UnitOfWork, smtp: SmtpTarget, only: Collection[int] | None = None) -> Delivery:
    """Send the mails due now, oldest first (with ``only``, those of them alone). No
    transaction is open while the server answers (SEC-8); links and codes are blanked
    once a mail is sent (SPEC)."""
    context = tls_context(uow.settings) if smtp.tls else None
    done = Delivery()
    ordered = _due(uow, done)
    if only is not None:
        ordered = [i for i in ordered if i in only]
    if not ordered:
        return done
    if uow.rehearsal is not None:  # a dry run names what would go, sends nothing (OUT-5)
        _rehearsed(uow, ordered)
        return done
    password: str | None = None
    broken: str | None = None  # why no connection can be had in this run
    if smtp.user:
        password = smtp.password()
        if password is None:
            broken = (
                f"no SMTP password for {smtp.keyring_username}: set it with `chorus mail password`"
            )
    client: smtplib.SMTP | None = None
    try:
        for mail_id in ordered:
            claimed = _claim(uow, mail_id)
            if claimed is None:  # another process took it, or an operator discarded it
                continue
            if broken is not None:
                _failed(uow, claimed, broken, permanent=False, done=done)
                continue
            try:
                message = _message(claimed)
            except Exception as exc:  # a mail that cannot be written is refused for good
                _failed(uow, claimed, _reason(exc), permanent=True, done=done)
                continue
            if client is None:
                try:
                    client = smtp.connect(context, password)
                except Exception as exc:  # noqa: BLE001 - every failure to connect is temporary
                    broken = _reason(exc)
                    _failed(uow, claimed, broken, permanent=False, done=done)
                    continue
            permanent, reason, after = _send(client, message)
            if reason is None:
                _sent(uow, claimed)
                done.sent += 1
                continue
            _failed(uow, claimed, reason, permanent=permanent, done=done)
            if after != "keep":
                _close(client)
                client = None
            if after == "stop":  # the rest waits for the next run: a silent server costs
                broken = reason  # one timeout, not one per mail
    finally:
        if client is not None:
            _close(client)
    return done


def _send(client: smtplib.SMTP, message: EmailMessage) -> tuple[bool, str | None, str]:
    """(permanent, the reason or None when sent, what becomes of the connection: "keep",
    "reconnect" for the next mail, or "stop" this run)."""
    import smtplib

    try:
        client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()), (0, b""))
        return _permanent(code), _reply(code, text), "keep"
    except smtplib.SMTPResponseException as exc:  # sender refused, data refused, ...
        after = "stop" if exc.smtp_code == 421 else "keep"  # 421: the server closes
        return _permanent(exc.smtp_code), _reply(exc.smtp_code, exc.smtp_error), after
    except smtplib.SMTPNotSupportedError as exc:  # e.g. an address that needs SMTPUTF8
        return True, _reason(exc), "reconnect"
    except (OSError, smtplib.SMTPException) as exc:  # disconnected, timed out
        return False, _reason(exc), "stop"
    except Exception as exc:  # what the message itself could not be turned into
        return True, _reason(exc), "reconnect"
    return False, None, "keep"


def _permanent(code: int) -> bool:
    return 500 <= code < 600


def _reply(code: int, text: object) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {said}"[:500]


def _close(client: smtplib.SMTP) -> None:
    import contextlib

    with contextlib.suppress(Exception):
        client.quit()
    with contextlib.suppress(Exception):
        client.close()


def _reason(exc: BaseException) -> str:
    import smtplib
    import ssl

    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not verified: {exc.verify_message or exc}"[:500]
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]


def _due(uow: UnitOfWork, done: Delivery) -> list[int]:
    """The ids of the mails to try now, oldest first; counts those waiting for later.
    Read in a transaction that takes no write lock, ended at once."""
    from sqlmodel import col, func, select

    from chorus_cli.store.models import Mail

    now = uow.clock.now()
    uow.reading()
    ids = list(uow.session.exec(select(Mail.id).where(_is_due(now)).order_by(col(Mail.id))).all())
    later = uow.session.exec(
        select(func.count(), func.min(Mail.next_attempt_at)).where(
            col(Mail.status) == "pending", col(Mail.next_attempt_at) > now
        )
    ).one()
    done.waiting, done.next_at = later[0], later[1]
    uow.release()
    return [i for i in ids if i is not None]


def _rehearsed(uow: UnitOfWork, ids: list[int]) -> None:
    from sqlmodel import col, select

    from chorus_cli.store.models import Mail

    assert uow.rehearsal is not None
    rows = uow.session.exec(
        select(Mail.to, Mail.subject).where(col(Mail.id).in_(ids)).order_by(col(Mail.id))
    )
    uow.rehearsal.delivered.extend((to, subject) for to, subject in rows)


def _is_due(now: datetime) -> Any:
    """The mails to try now: pending and past their back-off, or claimed by a process
    that has not answered for CLAIM_TIMEOUT (SEC-8). One clause for listing and claiming."""
    from sqlmodel import and_, col, or_

    from chorus_cli.store.models import Mail

    return or_(
        and_(
            col(Mail.status) == "pending",
            or_(col(Mail.next_attempt_at).is_(None), col(Mail.next_attempt_at) <= now),
        ),
        and_(col(Mail.status) == "sending", col(Mail.claimed_at) <= now - CLAIM_TIMEOUT),
    )


def _claim(uow: UnitOfWork, mail_id: int) -> _Claimed | None:
    """Take one due mail for this process (status ``sending``, one more attempt), in a
    transaction of its own, committed before the server is reached."""
    from sqlmodel import col, select, update

    from chorus_cli.store.models import Mail

    now = uow.clock.now()
    taken = uow.session.exec(
        update(Mail)
        .where(col(Mail.id) == mail_id, _is_due(now))
        .values(status="sending", claimed_at=now, attempts=col(Mail.attempts) + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        uow.commit()
        return None
    mail = uow.session.exec(
        select(Mail).where(col(Mail.id) == mail_id).execution_options(populate_existing=True)
    ).one()
    if mail.message_id is None:  # queued before SEC-8: it gets its one Message-ID now
        mail.message_id = new_message_id(mail.sender)
        uow.add(mail)
    claimed = _Claimed(mail)
    uow.commit()
    return claimed


def _message(mail: _Claimed) -> EmailMessage:
    from email.message import EmailMessage
    from email.utils import format_datetime

    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = mail.message_id
    message.set_content(mail.body)
    return message


def _outcome(uow: UnitOfWork, mail: _Claimed, **values: Any) -> None:
    """Record a claimed mail's outcome, if the claim is still this process's."""
    from sqlmodel import col, update

    from chorus_cli.store.models import Mail

    uow.session.exec(
        update(Mail)
        .where(
            col(Mail.id) == mail.id,
            col(Mail.status) == "sending",
            col(Mail.attempts) == mail.attempts,
        )
        .values(claimed_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    uow.commit()


def _sent(uow: UnitOfWork, mail: _Claimed) -> None:
    from sqlmodel import col

    from chorus_cli.store.models import Mail

    _outcome(
        uow,
        mail,
        status="sent",
        sent_at=uow.clock.now(),
        error=None,
        next_attempt_at=None,
        body=col(Mail.body_redacted),
    )


def _failed(
    uow: UnitOfWork, mail: _Claimed, reason: str, *, permanent: bool, done: Delivery
) -> None:
    if permanent:
        _outcome(uow, mail, status="failed", error=reason, next_attempt_at=None)
        done.refused.append((mail.id, reason))
        return
    when = next_attempt(uow.clock.now(), mail.attempts)
    _outcome(uow, mail, status="pending", error=reason, next_attempt_at=when)
    done.retrying.append((mail.id, reason))
    done.next_at = when if done.next_at is None else min(done.next_at, when)
