"""Who may do what: the one place habilitations and roles are checked (HAB-2, HAB-4, HAB-6).

**Profiles.** A profile is an application + a level (HAB-2), held on a whole structure
or on one of its services. ``modification`` includes ``consultation``. A profile on the
whole structure counts on every service of it; a profile on a service counts on that
service only (``require(..., service=...)``), never on the whole structure. Only the
profiles of an account attached to the structure count.

**Platform roles** (PUB-1) add to that, and only this much:

- support and admin **read** every structure, its services, its pending attachment
  requests and its members' profiles: a *reading* check lets them through;
- a correspondent reads the public structures of their department(s) the same way;
- support and admin **decide** on public structures awaiting approval (STR-6), but a
  support agent never decides on a structure they requested themselves;
- nobody changes a structure (its data, services, primary manager, attachment requests,
  other users' profiles) without «Organisation modification» on it, support and admin
  included: the portal's data belongs to the structure's managers (HAB-4, guide 1.7.1);
- anyone may give up one of their own profiles (HAB-5, guide 2.4.3).

Every use case calls one of the ``require*`` functions before it changes or shows
anything; a refusal is ``NotAllowed`` (exit 4) naming the missing profile or role. The
rules that are not about rights (the last «Organisation modification», STR-8's primary
manager) live with their use cases, in ``habilitations`` and ``attachments``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from chorus_cli.domain.catalogue import LEVELS, profile_label
from chorus_cli.domain.departments import department
from chorus_cli.kernel.errors import NotAllowed, NotFound

if TYPE_CHECKING:
    from chorus_cli.store.models import Account, Service, Structure, TechnicalAccount
    from chorus_cli.store.shown import ShownAccount
    from chorus_cli.store.uow import UnitOfWork

# Re-exported: the applications and levels a habilitation names, read with the rights
# that grant it (``APPLICATIONS`` too, through ``__getattr__``: read on first use).
__all__ = ["LEVELS", "profile_label"]


def __getattr__(name: str) -> object:
    """``APPLICATIONS``, as the catalogue reads it on first use."""
    if name == "APPLICATIONS":
        from chorus_cli.domain import catalogue

        return catalogue.APPLICATIONS
    raise AttributeError(name)


ORGANISATION = "organisation"
CONSULTATION, MODIFICATION = LEVELS
READERS = ("support", "admin")
DECIDERS = ("support", "admin")
# Who runs the platform's operator tasks; the order is the one refusals name them in.
SUPPORT = ("support", "admin")  # unlock an account, another's login address, the audit log
OPERATORS = ("admin", "support")  # the SIRENE index and API key, the list of roles
ADMIN = ("admin",)  # platform roles, the seed key


# --- platform roles (PUB-1) -------------------------------------------------------------


def role_grants(uow: UnitOfWork, account: ShownAccount, *, lock: bool = False) -> list[Any]:
    """The platform roles the account holds (rows with ``role`` and ``department``), by
    role then department; ``lock``: read ``FOR SHARE`` (PostgreSQL), so that none is
    revoked before this transaction ends.

    A plain SQL read, as ``membership.memberships``: every command that checks a right
    asks it, and defining the grant table's class would cost it more than the query
    itself. What the session has not written yet is flushed first, as the ORM's own
    query would."""
    from sqlalchemy import text

    uow.session.flush()
    sql = (
        "SELECT role, department FROM role_grant WHERE account_id = :account"
        " ORDER BY role, department"
    )
    if lock and uow.session.connection().dialect.name == "postgresql":
        sql += " FOR SHARE"
    return list(uow.session.connection().execute(text(sql), {"account": account.id}).all())


def has_role(uow: UnitOfWork, account: ShownAccount, *role_names: str) -> bool:
    """Whether the account holds one of the platform roles."""
    return any(g.role in role_names for g in role_grants(uow, account))


def require_role(uow: UnitOfWork, actor: Account, *role_names: str) -> None:
    """Raise NotAllowed (exit 4) naming the platform roles that would do (PUB-1)."""
    if not has_role(uow, actor, *role_names):
        raise NotAllowed("role.required", roles=" | ".join(role_names))


def reads_whole_audit(uow: UnitOfWork, viewer: Account) -> bool:
    """Support and admins read the whole audit log; anyone else, their own activity
    (OPS-4)."""
    return has_role(uow, viewer, *SUPPORT)


def require_helios_creator(uow: UnitOfWork, actor: Account, postal_code: str | None) -> None:
    """PUB-1: Hélios structures arrive through flows (PUB-2); from the command line, only
    an admin or a correspondent of the structure's department may create one."""
    where = department(postal_code)
    for g in role_grants(uow, actor):
        if g.role == "admin" or (g.role == "correspondent" and g.department == where):
            return
    raise NotAllowed("str6.helios_reserved", department=where or "?")


# --- profiles on structures (HAB-2, HAB-4, HAB-6) -----------------------------------------


def attached_profiles(column: Any) -> Any:
    """``SELECT column`` over habilitations whose holder is still attached to the
    structure: a profile left behind by a detachment gives no right. ``column``: of the
    ``Habilitation`` model, or of ``store.plain.habilitation()`` (no model defined): the
    query's further conditions name the same table."""
    from sqlmodel import select

    from chorus_cli.store import plain

    held, link = column.table, plain.attachment()
    return select(column).join(
        link,
        (link.c.account_id == held.c.account_id) & (link.c.structure_id == held.c.structure_id),
    )


def levels_meeting(level: str) -> tuple[str, ...]:
    """The levels that satisfy ``level``: modification includes consultation."""
    return LEVELS[LEVELS.index(level) :]


def holds(
    uow: UnitOfWork,
    account: Account,
    application: str,
    level: str,
    structure: Structure,
    service: Service | None = None,
) -> bool:
    """Whether the account, attached to the structure, holds the profile on the whole
    structure or, when ``service`` is given, on that service."""
    from sqlmodel import col, or_

    from chorus_cli.store.models import Habilitation

    scope = col(Habilitation.service_id).is_(None)
    if service is not None:
        scope = or_(scope, col(Habilitation.service_id) == service.id)
    query = attached_profiles(Habilitation.id).where(
        col(Habilitation.account_id) == account.id,
        col(Habilitation.structure_id) == structure.id,
        scope,
        col(Habilitation.application) == application,
        col(Habilitation.level).in_(levels_meeting(level)),
    )
    return uow.session.exec(query).first() is not None


def is_reader(uow: UnitOfWork, account: ShownAccount, structure: Structure | None = None) -> bool:
    """Support and admin read every structure; a correspondent reads the public
    structures of their department(s) (PUB-1)."""
    grants = role_grants(uow, account)
    if any(g.role in READERS for g in grants):
        return True
    if structure is None or not structure.public:
        return False
    where = department(structure.postal_code)
    return where is not None and any(
        g.role == "correspondent" and g.department == where for g in grants
    )


def is_member(uow: UnitOfWork, account: Account, structure: Structure) -> bool:
    """Whether the account is attached to the structure (ATT-4)."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Attachment

    query = select(Attachment.id).where(
        col(Attachment.account_id) == account.id, col(Attachment.structure_id) == structure.id
    )
    return uow.session.exec(query).first() is not None


def allowed(
    uow: UnitOfWork,
    actor: Account,
    application: str,
    level: str,
    structure: Structure,
    service: Service | None = None,
    *,
    reading: bool | None = None,
) -> bool:
    """``require`` without the error, for lists that show only what the actor may see."""
    if reading is None:
        reading = level == CONSULTATION
    if reading and is_reader(uow, actor, structure):
        return True
    return holds(uow, actor, application, level, structure, service)


def require(
    uow: UnitOfWork,
    actor: Account,
    application: str,
    level: str,
    structure: Structure,
    service: Service | None = None,
    *,
    reading: bool | None = None,
) -> None:
    """Raise NotAllowed (exit 4) unless the actor holds the profile on the structure (or
    on ``service``). A *reading* check (by default, a ``consultation`` one) lets platform
    readers through: support, admin, the department's correspondent."""
    if allowed(uow, actor, application, level, structure, service, reading=reading):
        return
    profile = profile_label(application, level)
    if service is not None:
        raise NotAllowed(
            "hab6.profile_required_service",
            profile=profile,
            structure=structure.identifier,
            service=service.code,
        )
    raise NotAllowed("hab6.profile_required", profile=profile, structure=structure.identifier)


def require_manager(
    uow: UnitOfWork, actor: Account, structure: Structure, service: Service | None = None
) -> None:
    """«Organisation modification» on the structure, or on ``service`` for what concerns
    that service only (HAB-4)."""
    require(uow, actor, ORGANISATION, MODIFICATION, structure, service)


def require_manager_or_self(
    uow: UnitOfWork,
    actor: Account,
    email: str,
    structure: Structure,
    service: Service | None = None,
) -> bool:
    """Managing someone's profiles needs «Organisation modification»; giving up one's
    own does not (HAB-5). True when ``email`` is the actor's own login."""
    yourself = email.strip().lower() == actor.login_email
    if not yourself:
        require_manager(uow, actor, structure, service)
    return yourself


def managed_structure_ids(uow: UnitOfWork, actor: ShownAccount) -> list[int]:
    """The structures where the actor holds «Organisation modification» on the whole
    structure (HAB-4): those whose attachment requests they handle. (Read on plain
    tables: shell completion asks it, through ``seen_accounts``.)"""
    from chorus_cli.store import plain

    held = plain.habilitation().c
    query = attached_profiles(held.structure_id).where(
        held.account_id == actor.id,
        held.service_id.is_(None),
        held.application == ORGANISATION,
        held.level == MODIFICATION,
    )
    uow.session.flush()  # what the session holds, as the ORM's own query would
    return list(uow.session.execute(query).scalars())


def require_decider(uow: UnitOfWork, actor: Account, structure: Structure) -> None:
    """Support or admin decide on a pending public structure, never on their own (STR-6)."""
    require_role(uow, actor, *DECIDERS)
    if structure.created_by_id == actor.id:
        raise NotAllowed("str6.own_request", structure=structure.identifier)


# --- a structure's people (MEM-1, MEM-2) ---------------------------------------------


def sees_members(account_id: Any, structure: Any) -> Any:
    """MEM-1, the one definition, as a SQL condition: whether the account ``account_id``
    (a column or a value) may see the members of ``structure`` (the ``Structure`` table,
    correlated from the enclosing query): a holder of «Organisation modification» on
    the whole structure (attached: a profile left behind gives no right), support or
    admin, or a correspondent of its département when it is public. ``members_visible``
    asks it for one structure; the weekly summary (SET-2) for every subscriber at once."""
    from sqlalchemy import literal_column
    from sqlalchemy.orm import aliased
    from sqlmodel import and_, col, exists, or_

    from chorus_cli.domain.departments import department_sql
    from chorus_cli.store.models import Attachment, Habilitation, RoleGrant

    # Aliases of their own: an enclosing query's attachment row is not this one.
    held, link, grant_row = aliased(Habilitation), aliased(Attachment), aliased(RoleGrant)
    manager = exists().where(
        held.account_id == account_id,
        held.structure_id == structure.id,
        col(held.service_id).is_(None),
        held.application == ORGANISATION,
        held.level == MODIFICATION,
        link.account_id == held.account_id,
        link.structure_id == held.structure_id,
    )
    reader = exists().where(grant_row.account_id == account_id, col(grant_row.role).in_(READERS))
    area = literal_column(department_sql(f"{structure.__tablename__}.postal_code"))
    correspondent = and_(
        col(structure.public).is_(True),
        exists().where(
            grant_row.account_id == account_id,
            grant_row.role == "correspondent",
            grant_row.department == area,
        ),
    )
    return or_(manager, reader, correspondent)


def members_visible(uow: UnitOfWork, actor: ShownAccount, structure: Structure) -> bool:
    """MEM-1: whether the actor may list the structure's members (``sees_members``)."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Structure as Table

    query = select(col(Table.id)).where(
        col(Table.id) == structure.id, sees_members(actor.id, Table)
    )
    return uow.session.exec(query).first() is not None


def require_members_reader(uow: UnitOfWork, actor: ShownAccount, structure: Structure) -> None:
    """NotAllowed (exit 4) unless the actor may list the structure's members (MEM-1)."""
    if not members_visible(uow, actor, structure):
        raise NotAllowed("mem1.not_allowed", structure=structure.identifier)


def require_services_reader(uow: UnitOfWork, actor: Account, structure: Structure) -> None:
    """A structure's services: for its members with «Organisation consultation» and the
    platform readers (STR-7); an active public structure's, for anyone logged in, so that
    a requester can choose them (MEM-6, the portal's ``rechercherServicesStructure``)."""
    if structure.public and structure.status == "active":
        return
    require(uow, actor, ORGANISATION, CONSULTATION, structure)


def require_member_remover(
    uow: UnitOfWork, actor: Account, structure: Structure, services: list[Service]
) -> None:
    """MEM-2: «Organisation modification» on the structure (on each named service, for a
    removal from those services only), or support or admin. A correspondent reads the
    members of a public structure of their département but removes none (HAB-4)."""
    if has_role(uow, actor, *SUPPORT):
        return
    if not services:
        require_manager(uow, actor, structure)
    for service in services:
        require_manager(uow, actor, structure, service)


# --- public-entity provisioning (PUB-1) and bulk flows (OPS-1, OPS-2) -------------------

FLOW_OPERATORS = ("admin", "support")


class Scope(NamedTuple):
    """Where an actor may provision or read in bulk: every structure (``departments`` is
    None), or the public structures of some departments (a correspondent, PUB-1). (A
    named tuple: a dataclass costs every command that checks a right about a millisecond
    to define.)"""

    departments: frozenset[str] | None

    @property
    def everywhere(self) -> bool:
        return self.departments is None

    def covers(self, public: bool, postal_code: str | None) -> bool:
        """Whether a structure (public or not, at this postal code) is in the scope."""
        if self.departments is None:
            return True
        return public and department(postal_code) in self.departments


def _scope(
    uow: UnitOfWork, actor: ShownAccount, everywhere: tuple[str, ...], *, lock: bool = False
) -> Scope | None:
    grants = role_grants(uow, actor, lock=lock)
    if any(g.role in everywhere for g in grants):
        return Scope(None)
    mine = frozenset(g.department for g in grants if g.role == "correspondent" and g.department)
    return Scope(mine) if mine else None


def provisioning_scope(uow: UnitOfWork, actor: Account) -> Scope:
    """PUB-1: an admin provisions every public structure; a correspondent, those of their
    departments; anyone else gets NotAllowed (exit 4) before anything is looked up."""
    scope = _scope(uow, actor, ("admin",))
    if scope is None:
        raise NotAllowed("pub1.role_required")
    return scope


def require_provisioner(uow: UnitOfWork, actor: Account, structure: Structure) -> None:
    """PUB-1: only a correspondent of the structure's department (or an admin) creates an
    account attached to a public structure."""
    if not provisioning_scope(uow, actor).covers(structure.public, structure.postal_code):
        raise NotAllowed("pub1.out_of_scope", structure=structure.identifier)


def require_account_keeper(
    uow: UnitOfWork, actor: Account, target: Account, attached: list[Structure]
) -> None:
    """PUB-1: deleting an account is for an admin, or for a correspondent when the
    account is within their scope (SEC-11, ``outside_scope``). An account holding a
    platform role is an admin's to delete."""
    scope = provisioning_scope(uow, actor)
    if within_scope(uow, scope, target):
        return
    if role_grants(uow, target):
        raise NotAllowed("pub1.delete_role_holder", email=target.login_email)
    outside = [s.identifier for s in attached if not scope.covers(s.public, s.postal_code)]
    raise NotAllowed(
        "pub1.delete_out_of_scope", email=target.login_email, structures=", ".join(outside) or "-"
    )


def oversight_scope(uow: UnitOfWork, actor: Account) -> Scope:
    """Flows and listings (OPS-1, OPS-2, `account list`, `structure list`): admin and
    support see and load anything; a correspondent, the public structures of their
    departments and their accounts; anyone else gets NotAllowed (exit 4)."""
    scope = _scope(uow, actor, FLOW_OPERATORS)
    if scope is None:
        raise NotAllowed("ops1.role_required")
    return scope


# --- SEC-11: the existing accounts a correspondent manages ---------------------------------

# Ids per query: well under every engine's limit on bound parameters.
IDS_PER_QUERY = 900


def outside_scope(scope: Scope, account: Any) -> Any:
    """SEC-11, the one definition, as a SQL condition on ``account`` (the enclosing
    query's table, ``store.plain.account()``): true for an existing account that an
    actor of ``scope`` may not rename, re-address, attach, make a primary manager or
    delete. For a correspondent, an account is within scope
    only when it is attached to at least one structure, every structure it is attached
    to is a public structure of their departments, and it holds no platform role (an
    admin's, a support agent's or another correspondent's account is an admin's to
    manage, PUB-1). Everything is within the scope of an admin or support (false).

    Any other account must ask to be attached itself (ATT-1). Single commands ask
    ``within_scope`` / ``require_within_scope``; flows ``accounts_outside_scope`` once
    per chunk of rows: both run this condition."""
    from sqlalchemy import bindparam, false, text
    from sqlmodel import exists, or_

    from chorus_cli.domain.departments import department_sql
    from chorus_cli.store import plain

    if scope.departments is None:
        return false()
    structure = plain.structure().c
    area = department_sql("structure.postal_code")
    mine = text(f"coalesce({area}, '') IN :scope_departments").bindparams(
        bindparam("scope_departments", value=sorted(scope.departments), expanding=True)
    )
    link, grant = plain.attachment().c, plain.role_grant().c
    attached = exists().where(link.account_id == account.c.id)
    elsewhere = (
        exists()
        .where(link.account_id == account.c.id)
        .where(structure.id == link.structure_id)
        .where(~(structure.public.is_(True) & mine))
    )
    role = exists().where(grant.account_id == account.c.id)
    return or_(~attached, elsewhere, role)


def accounts_outside_scope(uow: UnitOfWork, scope: Scope, account_ids: Any) -> set[int]:
    """Which of these existing accounts are outside the scope (SEC-11): one query per
    900 ids, for a flow's chunk of rows as for one account."""
    from sqlalchemy import bindparam, select

    from chorus_cli.store import plain

    ids = sorted(set(account_ids))
    if scope.everywhere or not ids:
        return set()
    account = plain.account()
    query = select(account.c.id).where(
        account.c.id.in_(bindparam("scope_ids", expanding=True)), outside_scope(scope, account)
    )
    connection = uow.session.connection()
    found: set[int] = set()
    for start in range(0, len(ids), IDS_PER_QUERY):
        part = ids[start : start + IDS_PER_QUERY]
        found.update(connection.execute(query, {"scope_ids": part}).scalars())
    return found


def within_scope(uow: UnitOfWork, scope: Scope, account: Account) -> bool:
    """Whether an actor of ``scope`` may manage this existing account (SEC-11)."""
    return not accounts_outside_scope(uow, scope, [account.id])


def require_within_scope(uow: UnitOfWork, scope: Scope, account: Account) -> None:
    """NotAllowed (exit 4, SEC-11) unless the account is within the scope."""
    if not within_scope(uow, scope, account):
        raise NotAllowed("sec11.out_of_scope", email=account.login_email)


# --- MEM-3, MEM-4: another account, whole ---------------------------------------------


def correspondent_scope(uow: UnitOfWork, actor: ShownAccount) -> Scope | None:
    """The departments the actor is a correspondent of, or None (PUB-1): her scope as
    a correspondent, whatever other role she holds."""
    return _scope(uow, actor, ())


def seen_accounts(uow: UnitOfWork, actor: ShownAccount, account: Any) -> Any:
    """MEM-3, the one definition, as a SQL condition on ``account`` (the enclosing
    query's table, ``store.plain.account()``): the accounts the actor sees whole.
    Support and admins see every account; a correspondent the accounts within her scope
    (SEC-11, ``outside_scope``); a manager the accounts attached to a structure she
    manages (``managed_structure_ids``); everyone their own. ``sees_account`` asks it
    for one account; shell completion (OUT-6) for the logins that begin with what was
    typed, with no model defined."""
    from sqlalchemy import true
    from sqlmodel import exists, or_

    from chorus_cli.store import plain

    if has_role(uow, actor, *SUPPORT):
        return true()
    seen = [account.c.id == actor.id]
    scope = correspondent_scope(uow, actor)
    if scope is not None:
        seen.append(~outside_scope(scope, account))
    managed = managed_structure_ids(uow, actor)
    if managed:
        link = plain.attachment().c
        seen.append(exists().where(link.account_id == account.c.id, link.structure_id.in_(managed)))
    return or_(*seen)


def sees_account(uow: UnitOfWork, actor: ShownAccount, target: Account) -> bool:
    """MEM-3: whether the actor sees the target account whole (``seen_accounts``)."""
    from sqlalchemy import select

    from chorus_cli.store import plain

    if target.id == actor.id:
        return True
    account = plain.account()
    query = select(account.c.id).where(
        account.c.id == target.id, seen_accounts(uow, actor, account)
    )
    uow.session.flush()  # what the session holds, as the ORM's own query would
    return uow.session.execute(query).first() is not None


def findable_structures(uow: UnitOfWork, actor: ShownAccount, structure: Any) -> Any:
    """STR-9, the one definition, as a SQL condition on ``structure`` (the enclosing
    query's table: the ``Structure`` model's, or ``store.plain.structure()``): the
    structures the actor finds by searching (and completes, OUT-6). Platform readers
    (``is_reader``) find every one; anyone else logged in the active ones (to request
    an attachment, ATT-1), and the pending or refused ones they are attached to."""
    from sqlalchemy import true
    from sqlmodel import exists, or_

    from chorus_cli.store import plain

    if is_reader(uow, actor):
        return true()
    link = plain.attachment().c
    mine = exists().where(link.structure_id == structure.c.id, link.account_id == actor.id)
    return or_(_found_by_anyone(structure), mine)


def _found_by_anyone(structure: Any) -> Any:
    """STR-9: what anyone logged in, or a technical account (API-1), finds of
    ``structure``: the active ones."""
    return structure.c.status == "active"


def require_access_keeper(uow: UnitOfWork, actor: Account, target: Account, refusal: str) -> None:
    """Who may act on another account's access: suspend or restore it (MEM-4), change its
    login address (LA-4), lift its lockout (AUTH-2). Support and admins; but an account
    that holds a platform role (PUB-1), only an admin: support must not take over an
    admin's or a correspondent's login and with it rights support does not have, nor
    unlock one again and again to guess its password. Refused: NotAllowed (exit 4) with
    ``refusal``, a key that names the target's ``email``. An admin may act on anyone's."""
    require_role(uow, actor, *SUPPORT)
    if target.id == actor.id:
        return  # one's own: the use case's rule, not a right
    if role_grants(uow, target) and not has_role(uow, actor, "admin"):
        raise NotAllowed(refusal, email=target.login_email)


def require_suspender(uow: UnitOfWork, actor: Account, target: Account | None, email: str) -> None:
    """MEM-4: support or admin suspend and restore any account, but only an admin the
    account of a platform role holder (``require_access_keeper``); a correspondent the
    accounts within her scope (SEC-11: public-entity accounts holding no role).
    ``target`` None: no such account, which is said only to support and admins (exit 3);
    to anyone else it is the same refusal (exit 4)."""
    if has_role(uow, actor, *SUPPORT):
        if target is None:
            raise NotFound("account.not_found", email=email)
        require_access_keeper(uow, actor, target, "mem4.admin_only")
        return
    scope = correspondent_scope(uow, actor)
    if scope is None or target is None or not within_scope(uow, scope, target):
        raise NotAllowed("mem4.not_allowed", email=email.strip().lower())


def confirm_scope(uow: UnitOfWork, actor: Account, scope: Scope) -> None:
    """Read the actor's platform roles again in the transaction that is about to commit
    (SEC-11): a flow that took minutes must not commit with the rights of a role revoked
    meanwhile. On PostgreSQL the rows are read ``FOR SHARE``: a revocation that
    committed is seen (READ COMMITTED), one under way is waited for and then seen, and
    one that comes later waits for this commit. On SQLite the flow's transaction holds
    the write lock from its start: no revocation lands in between. NotAllowed (exit 4)
    when the actor no longer holds every right ``scope`` (``oversight_scope``'s) gave."""
    now = _scope(uow, actor, FLOW_OPERATORS, lock=True)
    if now is not None and (
        now.departments is None
        or (scope.departments is not None and scope.departments <= now.departments)
    ):
        return
    if scope.departments is None:
        lost = " | ".join(FLOW_OPERATORS)
    else:
        kept = now.departments if now is not None and now.departments else frozenset()
        lost = ", ".join(f"correspondent {d}" for d in sorted(scope.departments - kept))
    raise NotAllowed("sec11.rights_changed", roles=lost)


# --- technical accounts (TECH-1, TECH-2) ------------------------------------------------


def require_technical_keeper(uow: UnitOfWork, actor: Account, structure: Structure) -> None:
    """TECH-1, TECH-2: a structure's technical accounts are created, reset and deleted by
    its primary manager (STR-8) or an admin; NotAllowed (exit 4) for anyone else."""
    if structure.primary_manager_id == actor.id and is_member(uow, actor, structure):
        return
    if has_role(uow, actor, *ADMIN):
        return
    raise NotAllowed("tech1.keeper_required", structure=structure.identifier)


def technical_visible_structures(uow: UnitOfWork, actor: ShownAccount) -> list[int] | None:
    """The structures whose technical accounts ``account technical list`` shows the
    actor without ``--structure``: every one (None) for support and admins, else those
    whose members they see (MEM-1)."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Structure as Table

    if has_role(uow, actor, *READERS):
        return None
    return list(uow.session.exec(select(col(Table.id)).where(sees_members(actor.id, Table))).all())


def technical_acts_as(
    uow: UnitOfWork, technical: TechnicalAccount, structure: Structure
) -> Account | None:
    """TECH-1: a technical account has the rights of its structure's primary manager on
    that structure, and none elsewhere: the account whose profiles count for it on
    ``structure`` (None outside its structure, or with no primary manager)."""
    from chorus_cli.store.models import Account

    if technical.structure_id != structure.id or structure.primary_manager_id is None:
        return None
    return uow.session.get(Account, structure.primary_manager_id)


def technical_allowed(
    uow: UnitOfWork,
    technical: TechnicalAccount,
    application: str,
    level: str,
    structure: Structure,
    service: Service | None = None,
) -> bool:
    """Whether the technical account may act with this profile on the structure (or its
    ``service``): its primary manager holds it there (``holds``). Platform roles never
    pass to it, nor any other structure."""
    manager = technical_acts_as(uow, technical, structure)
    return manager is not None and holds(uow, manager, application, level, structure, service)


def require_technical(
    uow: UnitOfWork,
    technical: TechnicalAccount,
    application: str,
    level: str,
    structure: Structure,
    service: Service | None = None,
) -> None:
    """``technical_allowed`` or NotAllowed (exit 4; the API's 403) naming the profile."""
    if technical_allowed(uow, technical, application, level, structure, service):
        return
    raise NotAllowed(
        "tech1.outside_rights",
        login=technical.login,
        profile=profile_label(application, level),
        structure=structure.identifier,
    )


def technical_findable_structures() -> Any:
    """API-1, STR-9: the structures a technical account finds by searching
    (``rechercherStructure``), as a SQL condition on ``structure`` holding no value (a
    statement built once serves every call): the active ones, as anyone logged in
    finds them (``findable_structures``)."""
    from chorus_cli.store.models import Structure

    return _found_by_anyone(Structure.__table__)  # type: ignore[attr-defined]


def require_technical_reader(
    uow: UnitOfWork, technical: TechnicalAccount, structure: Structure
) -> None:
    """API-1: what ``consulterStructure`` and the services calls show a technical
    account: an active public structure (a recipient any integration looks up, as
    MEM-6 lets anyone logged in), or its own structure with «Organisation
    consultation» (its primary manager's); NotAllowed (403) elsewhere."""
    if structure.public and structure.status == "active":
        return
    require_technical(uow, technical, ORGANISATION, CONSULTATION, structure)
