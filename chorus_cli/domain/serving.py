"""What `chorus serve` is set to unless told otherwise (API-3). A module of its own, with
no import: the command's options read it at start-up (`chorus --help` lists `serve`),
and the HTTP adapter reads the same value."""

from __future__ import annotations

RATE = 50  # API-3: requests a second per client (chosen)
