"""QR codes drawn in the terminal with block characters (MFA-2).

Each character cell holds two modules, one above the other (``▀``, ``▄``, ``█`` or a
space), so the code is square on a terminal's tall cells and uses no colour at all: it
stays scannable with ``NO_COLOR``, in plain (accessibility) mode and when the output is
captured or pasted. A scanner wants dark modules on a light quiet zone: the glyphs are
drawn in the terminal's text colour, so on a dark-on-light terminal the dark modules are
the glyphs, and ``invert`` draws the light modules (quiet zone included) for
light-on-dark terminals (SECURITY.md: each way scans on one kind of terminal only).

The library's own ``print_ascii`` does the same drawing but writes to a stream and forces
colours with ``tty=True``; the drawing is short enough to own.
"""

from __future__ import annotations

BORDER = 4  # the quiet zone the QR standard asks for, in modules
GLYPHS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def modules(data: str, border: int = BORDER) -> list[list[bool]]:
    """The code's modules, quiet zone included: True is dark."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=border)
    code.add_data(data)
    code.make(fit=True)
    return [[bool(cell) for cell in row] for row in code.get_matrix()]


def render(data: str, invert: bool = False, border: int = BORDER) -> str:
    """The code as lines of block characters; ``invert`` for light-on-dark terminals."""
    grid = modules(data, border)
    if len(grid) % 2:  # the last line's lower half is quiet zone too
        grid.append([False] * len(grid[0]))
    lines = []
    for top, bottom in zip(grid[::2], grid[1::2], strict=True):
        pairs = zip(top, bottom, strict=True)
        lines.append("".join(GLYPHS[(upper != invert, lower != invert)] for upper, lower in pairs))
    return "\n".join(lines)


def width(data: str, border: int = BORDER) -> int:
    """How many terminal columns the drawn code takes."""
    return len(modules(data, border)[0])


def terminal_columns() -> int:
    """The terminal's width: ``COLUMNS``, else stdout's or stderr's terminal (stdout may be
    piped through ``tee``), else 80."""
    import os
    import sys

    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    for stream in (sys.__stdout__, sys.__stderr__):
        try:
            return os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, ValueError, OSError):
            continue
    return 80
