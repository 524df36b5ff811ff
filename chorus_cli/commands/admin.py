"""chorus admin: the first admin, and platform roles."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from chorus_cli.commands._common import (
    FormatOpt,
    JsonOpt,
    as_account,
    data_fields,
    new_group,
    output_format,
    unit_of_work,
)

if TYPE_CHECKING:
    from chorus_cli.store.listing import Window


class Role(StrEnum):
    admin = "admin"
    support = "support"
    correspondent = "correspondent"


app = new_group("admin", "Platform administration: first admin and roles.")


@app.command()
def bootstrap(
    email: Annotated[str, typer.Option("--email", help="Login e-mail of the first admin.")],
    last_name: Annotated[str, typer.Option("--last-name")],
    first_name: Annotated[str, typer.Option("--first-name")],
) -> None:
    """Create the first admin while the store has none (no session needed: local trust).

    Example: chorus admin bootstrap --email admin@example.fr --last-name Admin --first-name Ada
    """
    from chorus_cli.domain import roles
    from chorus_cli.ui.output import say

    with unit_of_work() as uow:
        done = roles.bootstrap(uow, email=email, last_name=last_name, first_name=first_name)
        uow.commit()
    key = "done.bootstrap" if done.created else "done.bootstrap_existing"
    say(key, email=done.account.login_email)


@app.command("grant-role")
def grant_role(
    email: Annotated[str, typer.Argument(help="Login e-mail of the account.")],
    role: Annotated[Role, typer.Argument(help="The role.")],
    department: Annotated[
        str | None, typer.Option("--department", help="Department of a correspondent (75, 2A…).")
    ] = None,
) -> None:
    """Admins grant admin, support or correspondent (scoped to a department) (PUB-1).

    Example: chorus admin grant-role paul@dgfip.example.fr correspondent --department 75
    """
    from chorus_cli.domain import roles
    from chorus_cli.ui.output import say

    with as_account() as (uow, actor):
        account = roles.grant(uow, actor, email, role.value, department)
    say("done.role_granted", role=role.value, email=account.login_email)


@app.command("revoke-role")
def revoke_role(
    email: Annotated[str, typer.Argument(help="Login e-mail of the account.")],
    role: Annotated[Role, typer.Argument(help="The role.")],
    department: Annotated[
        str | None, typer.Option("--department", help="The correspondent's department.")
    ] = None,
) -> None:
    """Admins take a platform role back; the last admin keeps theirs (PUB-1).

    Example: chorus admin revoke-role paul@dgfip.example.fr correspondent --department 75
    """
    from chorus_cli.domain import roles
    from chorus_cli.ui.output import say

    with as_account() as (uow, actor):
        account = roles.revoke(uow, actor, email, role.value, department)
    say("done.role_revoked", role=role.value, email=account.login_email)


@app.command()
@data_fields("chorus_cli.domain.roles:ROLE_COLUMNS")
def roles(
    role: Annotated[Role | None, typer.Option("--role", help="Only this role.")] = None,
    *,
    window: Window,  # --limit/--offset/--all (OUT-2), by commands/_shaping.py
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """List the platform roles and who holds them (admin and support, PUB-1).

    Example: chorus admin roles --role correspondent
    """
    from chorus_cli.domain import roles as platform_roles
    from chorus_cli.store.listing import cut
    from chorus_cli.ui.output import emit

    with as_account() as (uow, actor):
        rows = cut(platform_roles.listing(uow, actor, role.value if role else None), window)
    emit(rows, output_format(fmt, as_json))
