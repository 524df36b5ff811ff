"""The message catalogues, as the terminal side reads them (``chorus_cli.i18n``).

The catalogues live below the ui, beside the mail templates that are written from them
(``python -m chorus_cli.tools.layers``); the command line and the ui import them here
or there alike.
"""

from chorus_cli.i18n import (
    LANGS,
    LOCALE_DIR,
    PLURAL_BY,
    catalogue,
    current,
    field_name,
    help_plural,
    help_text,
    known,
    message,
    sentence,
    set_lang,
)

__all__ = [
    "LANGS",
    "LOCALE_DIR",
    "PLURAL_BY",
    "catalogue",
    "current",
    "field_name",
    "help_plural",
    "help_text",
    "known",
    "message",
    "sentence",
    "set_lang",
]
