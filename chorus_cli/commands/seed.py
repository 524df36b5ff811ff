"""chorus seed: a realistic store for developers, the same for the same seed (OPS-3)."""

from __future__ import annotations

from typing import Annotated

import typer

from chorus_cli.commands._common import (
    FormatOpt,
    JsonOpt,
    PasswordStdinOpt,
    data_fields,
    output_format,
    unit_of_work,
)


def seed_fields() -> tuple[str, ...]:
    """What `seed` shows scripts: its summary's fields but the password (stderr only,
    once), and the technical accounts made."""
    from dataclasses import fields

    from chorus_cli.bulk.seed import SeedSummary

    shown = tuple(f.name for f in fields(SeedSummary) if f.name != "password")
    return (*shown, "technical_accounts")


@data_fields("chorus_cli.commands.seed:seed_fields")
def seed(
    accounts: Annotated[int, typer.Option("--accounts", help="How many accounts.")] = 100,
    structures: Annotated[
        int, typer.Option("--structures", help="How many structures (at most --accounts).")
    ] = 10,
    seed_value: Annotated[
        int, typer.Option("--seed", help="The same seed gives the same data.")
    ] = 1,
    password_stdin: PasswordStdinOpt = False,
    technical_accounts: Annotated[
        bool,
        typer.Option(
            "--technical-accounts",
            help="Also a technical account per structure, TECH_1_<identifier>@cpro.fr (TECH-1).",
        ),
    ] = False,
    technical_password_stdin: Annotated[
        bool,
        typer.Option(
            "--technical-password-stdin",
            help="The technical accounts' password from the next stdin line (else generated"
            " and printed once).",
        ),
    ] = False,
    fmt: FormatOpt = "table",
    as_json: JsonOpt = False,
) -> None:
    """Fill an empty store with realistic French data (OPS-3): structures with valid
    SIRETs that `sirene lookup` finds, services, accounts attached with the default
    habilitations, a primary manager for each structure, some accounts pending
    activation, some attachment requests pending. No session needed (audited as
    system); no platform role is created. The active accounts' one password is derived
    from the seed (the same seed, the same password) and printed once, on stderr; with
    --password-stdin it is read from the first stdin line instead (ACC-5 applies) and
    not printed. With --technical-accounts, each active structure also gets a technical
    account, TECH_1_<identifier>@cpro.fr (TECH-1), all with one password: generated and
    printed once on stderr, or read with --technical-password-stdin (after the accounts'
    password when both are read) and not printed.

    Example: chorus seed --accounts 1000 --structures 50 --seed 7
    """
    from dataclasses import asdict

    from chorus_cli.bulk import seed as seeding
    from chorus_cli.ui.output import emit, say

    chosen = None
    if password_stdin:
        from chorus_cli.ui.prompts import new_password

        chosen = new_password(True)  # read before the transaction opens (SEC-4)
    technical_chosen = None
    if technical_password_stdin:
        from chorus_cli.kernel.errors import BadInput
        from chorus_cli.ui.prompts import new_password

        if not technical_accounts:
            raise BadInput("tech1.password_without_accounts")
        technical_chosen = new_password(True)
    made, technical_password = 0, None
    with unit_of_work() as uow:
        summary = seeding.run(
            uow, accounts=accounts, structures=structures, seed=seed_value, password=chosen
        )
        if technical_accounts:
            from chorus_cli.domain import technical

            made, technical_password = technical.seed_all(uow, technical_chosen)
        uow.commit()
    say(
        "done.seeded",
        accounts=summary.accounts,
        structures=summary.structures,
        services=summary.services,
        pending=summary.pending_accounts,
        requests=summary.requests,
        seed=summary.seed,
    )
    if summary.accounts and chosen is None:
        say("done.seed_password", password=summary.password)
    if technical_accounts:
        say("done.seeded_technical", count=made)
        if made and technical_chosen is None:
            say("done.seed_technical_password", password=technical_password)
    fmt = output_format(fmt, as_json)
    if fmt != "table":
        data = asdict(summary)
        data.pop("password")  # stderr only, once
        if technical_accounts:
            data["technical_accounts"] = made
        emit(data, fmt)
