"""Notification choices and the weekly summary of «Mon compte» (SET-2, guide 2.2.3).

An account chooses the applications that may notify it (none by default) and whether it
receives the weekly summary of the movements on its structures. ``chorus notify weekly``
is a scheduled job: each subscriber gets one mail covering the 7 days before the run,
from the audit trail (OPS-4), never the same movement twice: the period mailed ends at
``account.weekly_until`` and the next one starts there. A structure's movements go only
to the subscribers attached to it who may see its members (MEM-1, ``authz.sees_members``:
«Organisation modification» there, or a platform role that reads them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chorus_cli.domain import authz, catalogue, notices
from chorus_cli.kernel.errors import BadInput

if TYPE_CHECKING:
    from chorus_cli.store.models import Account
    from chorus_cli.store.uow import UnitOfWork

WEEK = timedelta(days=7)
WEEKLY = "weekly_summary"  # the summary's row in a listing of choices

# SET-2's movements, as the audit trail names them. The first ones name the structure
# as their target; the others (their target is the account concerned) in their details.
ON_STRUCTURE = (
    "attachment.detach",
    "service.add",
    "service.update",
    "service.deactivate",
    "structure.transfer_primary",
)
ABOUT_A_MEMBER = (
    "attachment.approve",
    "attachment.reject",
    "attachment.provision",
    "habilitation.grant",
    "habilitation.revoke",
    "structure.remove_member",
    "subscription.approve",
    "subscription.reject",
)
MOVEMENTS = ON_STRUCTURE + ABOUT_A_MEMBER


def _chosen(uow: UnitOfWork, account: Account) -> set[str]:
    from sqlmodel import col, select

    from chorus_cli.store.models import NotificationChoice

    return set(
        uow.session.exec(
            select(NotificationChoice.application).where(
                col(NotificationChoice.account_id) == account.id
            )
        ).all()
    )


# ``choices``' fields (JSON), and those of one application's choice (a table's row).
CHOICES_FIELDS = ("applications", WEEKLY)
ROW_FIELDS = ("application", "name", "notify")
SHOWN_FIELDS = (*CHOICES_FIELDS, *ROW_FIELDS)  # what `account notifications` may show


def choices(uow: UnitOfWork, account: Account) -> dict[str, Any]:
    """Every notifying application with the account's choice, and the weekly summary's."""
    chosen = _chosen(uow, account)
    applications = [
        dict(zip(ROW_FIELDS, (app.code, app.name, app.code in chosen), strict=True))
        for app in catalogue.NOTIFYING
    ]
    return dict(zip(CHOICES_FIELDS, (applications, account.weekly_summary), strict=True))


def choose(
    uow: UnitOfWork,
    account: Account,
    on: list[str] | None = None,
    off: list[str] | None = None,
    weekly: bool | None = None,
) -> dict[str, Any]:
    """Turn applications on and off (names matched as `habil --profile` matches them)
    and the weekly summary; every name is checked before anything changes (SET-2)."""
    from sqlmodel import col, delete

    from chorus_cli.store.models import NotificationChoice

    wanted_on = [catalogue.notifier(name) for name in on or ()]
    wanted_off = [catalogue.notifier(name) for name in off or ()]
    both = sorted(set(wanted_on) & set(wanted_off))
    if both:
        raise BadInput("set2.on_and_off", app=both[0])
    chosen = _chosen(uow, account)
    added = sorted(set(wanted_on) - chosen)
    removed = sorted(set(wanted_off) & chosen)
    for code in added:
        uow.add(NotificationChoice(account_id=account.id, application=code))
    if removed:
        uow.session.exec(
            delete(NotificationChoice)
            .where(col(NotificationChoice.account_id) == account.id)
            .where(col(NotificationChoice.application).in_(removed))
        )
    changes: dict[str, Any] = {}
    if added:
        changes["on"] = added
    if removed:
        changes["off"] = removed
    if weekly is not None and weekly != account.weekly_summary:
        account.weekly_summary = weekly
        uow.add(account)
        changes["weekly"] = weekly
    if changes:
        uow.session.flush()
        uow.audit(account.login_email, "account.notifications", account.login_email, **changes)
    return choices(uow, account)


# --- the weekly summary --------------------------------------------------------------


@dataclass
class Summary:
    """What one subscriber is mailed: the movements on each of their structures."""

    account_id: int
    login_email: str
    to: str
    structures: dict[str, dict[str, Any]] = field(default_factory=dict)

    def count(self) -> int:
        return sum(len(s["movements"]) for s in self.structures.values())

    def view(self) -> dict[str, Any]:
        return {
            "login_email": self.login_email,
            "to": self.to,
            "structures": [
                {
                    "identifier": identifier,
                    "raison_sociale": s["raison_sociale"],
                    "movements": len(s["movements"]),
                }
                for identifier, s in self.structures.items()
            ],
        }


def _movements(uow: UnitOfWork, now: datetime) -> list[Any]:
    """Every movement of the last 7 days on a subscriber's structure, after the end of
    the period last mailed to that subscriber: one query for every subscriber."""
    from sqlalchemy import and_, case, exists, or_
    from sqlalchemy.orm import aliased
    from sqlmodel import col, select

    from chorus_cli.store.models import Account, Attachment, AuditEntry, Structure

    PublicLink = aliased(Attachment)
    PublicStructure = aliased(Structure)

    public_member = (
        exists()
        .where(col(PublicLink.account_id) == col(Account.id))
        .where(col(PublicLink.structure_id) == col(PublicStructure.id))
        .where(col(PublicStructure.public).is_(True))
        .correlate(Account)
    )
    on_structure = case(
        (col(AuditEntry.action).in_(ON_STRUCTURE), col(AuditEntry.target)),
        else_=AuditEntry.__table__.c.details["structure"].as_string(),
    )
    query = (
        select(
            Account.id,
            Account.login_email,
            Account.contact_email,
            Account.language,
            Account.first_name,
            Account.last_name,
            public_member.label("public"),
            Structure.identifier,
            Structure.raison_sociale,
            AuditEntry.action,
            AuditEntry.actor,
            AuditEntry.target,
            AuditEntry.at,
            AuditEntry.details,
        )
        .join(Attachment, col(Attachment.account_id) == col(Account.id))
        .join(Structure, col(Structure.id) == col(Attachment.structure_id))
        .join(
            AuditEntry,
            and_(
                on_structure == col(Structure.identifier),
                col(AuditEntry.action).in_(MOVEMENTS),
                col(AuditEntry.at) > now - WEEK,
                col(AuditEntry.at) <= now,
                or_(
                    col(Account.weekly_until).is_(None),
                    col(AuditEntry.at) > col(Account.weekly_until),
                ),
            ),
        )
        .where(col(Account.weekly_summary).is_(True))
        .where(col(Account.status) == "active")
        # A structure's movements name its members and their profiles: they go to the
        # subscribers who may see its members (MEM-1), no one else.
        .where(authz.sees_members(col(Account.id), Structure))
        .order_by(col(Account.id), col(Structure.identifier), col(AuditEntry.id))
    )
    return list(uow.session.exec(query).all())


def weekly(uow: UnitOfWork, dry_run: bool = False) -> list[Summary]:
    """Mail each subscriber one summary of the movements on their structures (SET-2);
    subscribers with nothing new get nothing. ``dry_run``: say who would get what and
    change nothing (the caller rolls back)."""
    from sqlmodel import col, update

    from chorus_cli.domain import catalogue
    from chorus_cli.mail.templates import weekly_movements
    from chorus_cli.store.models import Account

    now = uow.clock.now()
    summaries: dict[int, Summary] = {}
    people: dict[int, tuple[str, str, str, bool]] = {}
    for row in _movements(uow, now):
        summary = summaries.setdefault(row[0], Summary(row[0], row[1], row[2]))
        people[row[0]] = (row[3], row[4], row[5], bool(row[6]))
        structure = summary.structures.setdefault(
            row[7], {"raison_sociale": row[8], "movements": []}
        )
        details = row[13] or {}
        structure["movements"].append(
            {
                "action": row[9],
                "actor": row[10],
                "target": row[11],
                "at": row[12],
                "details": details,
                # the portal's name of the profile granted or revoked: the template
                # prints the label, the catalogue that names it is the domain's
                "profile": catalogue.profile_label(
                    details.get("application", ""), details.get("level", "")
                ),
            }
        )
    if dry_run:
        return list(summaries.values())
    for account_id, summary in summaries.items():
        lang, first_name, last_name, public = people[account_id]
        notices.send(
            uow,
            "weekly_summary",
            summary.to,
            lang,
            public=public,  # PUB-3
            first_name=first_name,
            last_name=last_name,
            login_email=summary.login_email,
            since=_day(now - WEEK),
            until=_day(now),
            movements=weekly_movements(lang, summary.structures),
        )
    if summaries:
        uow.session.exec(
            update(Account).where(col(Account.id).in_(list(summaries))).values(weekly_until=now)
        )
    uow.audit(
        "system",
        "notify.weekly",
        "weekly",
        mailed=len(summaries),
        movements=sum(s.count() for s in summaries.values()),
    )
    return list(summaries.values())


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")
