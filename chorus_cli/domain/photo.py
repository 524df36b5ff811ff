"""The photo of «Mon compte» (SET-1): a PNG or JPEG of at most 1 MB, stored as a blob.

The type comes from the file's bytes, never its name; Pillow (imported here, on use
only) reads the dimensions and checks the image holds together.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from chorus_cli.kernel import text
from chorus_cli.kernel.errors import BadInput

if TYPE_CHECKING:
    from chorus_cli.store.models import Account
    from chorus_cli.store.shown import ShownAccount
    from chorus_cli.store.uow import UnitOfWork

MAX_BYTES = 1_000_000  # 1 MB, as the sizes are shown (kB, MB: powers of ten)
# The signatures that open each accepted type, and the name Pillow gives it.
SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": ("image/png", "PNG"),
    b"\xff\xd8\xff": ("image/jpeg", "JPEG"),
}


def read(path: Path) -> tuple[bytes, str, int, int]:
    """The file's bytes, type, width and height; BadInput (exit 2) naming SET-1 otherwise."""
    shown = text.shown(str(path))
    try:
        if not path.exists():
            raise BadInput("set1.photo_missing", path=shown)
        if path.is_dir():
            raise BadInput("set1.photo_directory", path=shown)
        if not path.is_file():  # a FIFO or a device would never end
            raise BadInput("set1.photo_not_file", path=shown)
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except OSError as exc:
        raise BadInput("set1.photo_unreadable", path=shown, reason=exc.strerror or exc) from None
    if len(data) > MAX_BYTES:
        raise BadInput("set1.photo_too_large", path=shown, max=MAX_BYTES)
    kind = next((v for sig, v in SIGNATURES.items() if data.startswith(sig)), None)
    if kind is None:
        raise BadInput("set1.photo_type", path=shown)
    mime, pillow_format = kind
    width, height = _dimensions(data, pillow_format, shown)
    return data, mime, width, height


def _dimensions(data: bytes, pillow_format: str, shown: str) -> tuple[int, int]:
    """Width and height as Pillow reads them, once it has checked the image's structure."""
    import io
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            # A small file claiming a gigantic picture is refused, not decoded.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
                width, height = image.size
                image.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Warning):
        raise BadInput("set1.photo_invalid", path=shown) from None
    return width, height


def describe(account: ShownAccount, size: int | None = None) -> dict[str, Any] | None:
    """What `account show` says of the photo: type, size in bytes, width, height.

    ``size``: when a listing read it with the row, so the blob itself stays unread; an
    account read to be shown (``store.account_record``) carries its own; the model, its
    bytes."""
    from chorus_cli.store.account_record import AccountRecord

    if account.photo_type is None:
        return None
    if size is None:
        if isinstance(account, AccountRecord):
            size = account.photo_size
        else:  # the model
            size = len(account.photo or b"")
    return {
        "type": account.photo_type,
        "size": size,
        "width": account.photo_width,
        "height": account.photo_height,
    }


def set_photo(uow: UnitOfWork, account: Account, path: Path | None, remove: bool = False) -> bool:
    """Store the image at ``path`` as the account's photo, or remove it (SET-1).

    Returns whether anything changed: removing no photo changes nothing."""
    if (path is None) == (not remove):
        raise BadInput("set1.photo_usage")
    if remove:
        if account.photo_type is None and account.photo is None:
            return False
        account.photo = account.photo_type = account.photo_width = account.photo_height = None
        uow.add(account)
        uow.audit(account.login_email, "account.photo_remove", account.login_email)
        return True
    data, mime, width, height = read(path)
    account.photo, account.photo_type = data, mime
    account.photo_width, account.photo_height = width, height
    uow.add(account)
    uow.audit(
        account.login_email,
        "account.photo",
        account.login_email,
        type=mime,
        size=len(data),
        width=width,
        height=height,
    )
    return True
