"""CSV that French Excel opens directly (OUT-4): ``;`` between cells, UTF-8 with a byte
order mark, CRLF line ends. One definition for every CSV writer that offers ``--excel``."""

from __future__ import annotations

from typing import Any

BOM = "\ufeff"


def csv_dialect(excel: bool) -> dict[str, Any]:
    """Keyword arguments for ``csv.writer``/``csv.DictWriter``: the project's CSV (``,``,
    LF) or, with ``excel``, French Excel's (``;``, CRLF). The caller writes ``BOM`` first
    when ``excel``."""
    if excel:
        return {"delimiter": ";", "lineterminator": "\r\n"}
    return {"delimiter": ",", "lineterminator": "\n"}
