"""An operator's hand on the outbox (SEC-8): make a mail due again, or never deliver
it. Delivery itself (claims, back-off, SMTP) is ``mail.outbox``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus_cli.kernel.errors import RuleRefused
from chorus_cli.mail import outbox

if TYPE_CHECKING:
    from chorus_cli.store.models import Mail
    from chorus_cli.store.uow import UnitOfWork


def retry(
    uow: UnitOfWork, actor: str, mail_id: int | None = None, all_failed: bool = False
) -> list[int]:
    """Make a pending or failed mail due now (or every failed one); audited. Returns the
    ids made due. A sent or discarded mail, or one being delivered, is refused (exit 1)."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Mail

    if all_failed:
        mails = list(uow.session.exec(select(Mail).where(col(Mail.status) == "failed")).all())
    else:
        mails = [_actionable(uow, mail_id, "sec8.mail_not_retryable")]
    for mail in mails:
        mail.status = "pending"
        mail.next_attempt_at = None
        mail.claimed_at = None
        uow.add(mail)
    ids = [m.id for m in mails if m.id is not None]
    if ids:
        target = f"mail {ids[0]}" if not all_failed else "mail"
        uow.audit(actor, "mail.retry", target, ids=ids[:100], count=len(ids))
    return ids


def discard(uow: UnitOfWork, actor: str, mail_id: int) -> Mail:
    """Take a pending or failed mail out of delivery for good (status ``discarded``);
    audited. Its body stays readable in the outbox (`mail show`)."""
    mail = _actionable(uow, mail_id, "sec8.mail_not_discardable")
    previous = mail.status
    mail.status = "discarded"
    mail.next_attempt_at = None
    mail.claimed_at = None
    uow.add(mail)
    uow.audit(actor, "mail.discard", f"mail {mail.id}", to=mail.to, status=previous)
    return mail


def _actionable(uow: UnitOfWork, mail_id: int | None, refusal: str) -> Mail:
    mail = outbox.get(uow, mail_id or 0)
    stale = (
        mail.status == "sending"
        and mail.claimed_at is not None
        and mail.claimed_at <= uow.clock.now() - outbox.CLAIM_TIMEOUT
    )
    if mail.status not in ("pending", "failed") and not stale:
        raise RuleRefused(refusal, id=mail.id, status=mail.status)
    return mail
