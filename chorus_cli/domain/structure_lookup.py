"""Finding the structure a command line names: its identifier in any spelling its
type accepts (STR-1), ``--id-type`` only when two types read it alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus_cli.domain import identifiers
from chorus_cli.kernel.errors import BadInput, NotFound

if TYPE_CHECKING:
    from chorus_cli.store.models import Structure
    from chorus_cli.store.uow import UnitOfWork


def find(uow: UnitOfWork, id_type: str, identifier: str) -> Structure | None:
    """The structure with this canonical (type, identifier), if any."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Structure

    return uow.session.exec(
        select(Structure).where(
            col(Structure.id_type) == id_type, col(Structure.identifier) == identifier
        )
    ).first()


def get(uow: UnitOfWork, ident: str, id_type: str | None = None) -> Structure:
    """The structure named on the command line: its identifier in any accepted spelling;
    ``id_type`` when two types read it alike (exit 2 then), exit 3 when none matches."""
    from sqlmodel import and_, col, or_, select

    from chorus_cli.store.models import Structure

    if id_type is not None:
        id_type = identifiers.normalise_type(id_type)
        found = find(uow, id_type, identifiers.normalise(id_type, ident))
        if found is None:
            raise NotFound("str.not_found", id=ident)
        return found
    pairs = identifiers.candidates(ident)
    if not pairs:
        raise NotFound("str.not_found", id=ident)
    matches = uow.session.exec(
        select(Structure).where(
            or_(
                *(
                    and_(col(Structure.id_type) == t, col(Structure.identifier) == i)
                    for t, i in pairs
                )
            )
        )
    ).all()
    if not matches:
        raise NotFound("str.not_found", id=ident)
    if len(matches) > 1:
        types = ", ".join(sorted(s.id_type for s in matches))
        raise BadInput("str.ambiguous", id=ident, types=types)
    return matches[0]
