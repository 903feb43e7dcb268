"""What the command line says, on stdout and stderr, without ever blocking on them.

Both streams go through :class:`~cocainate.bindings.output.Output`: a reader that does not
read never holds up the session; the session's reactor sends what is pending when the
stream turns writable, and at exit a slow reader gets :data:`DRAIN_SECONDS` to catch up.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from .options import PROG

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..bindings.output import Output

DRAIN_SECONDS = 1.0
_streams: dict[str, Output] = {}


def stream(name: str) -> Output:
    """The non-blocking writer of ``"stdout"`` or ``"stderr"``, made on first use."""
    found = _streams.get(name)
    current = getattr(sys, name)
    if found is None or found.stream is not current:
        from ..bindings.output import Output

        if found is not None:
            found.close()
        found = _streams[name] = Output(current)
    return found


live: Any = None
"""The progress line drawn at the terminal now (:class:`~cocainate.cli.terminal.Line`), if
any: cleared before any other line is written, and drawn again at the next redraw."""


def out(text: str) -> None:
    if live is not None:
        live.clear()
    stream("stdout").write(text + "\n")


def err(text: str) -> None:
    if live is not None:
        live.clear()
    stream("stderr").write(text + "\n")


def error(text: str) -> None:
    """One line on stderr: what a user typed, or a service said, may hold newlines and
    escapes, which are shown, not obeyed."""
    err(f"{PROG}: {printable(text)}")


LONGEST = 300
"""Characters of a message from outside (a service's error, an address) shown at most."""


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters and escapes shown, not obeyed, and
    cut to :data:`LONGEST` characters."""
    if len(text) > LONGEST:
        text = text[:LONGEST] + f"... ({len(text) - LONGEST} more characters)"
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def finish() -> None:
    """At exit: give slow readers a moment, then close what was opened."""
    for output in _streams.values():
        output.drain(DRAIN_SECONDS)
        output.close()
    _streams.clear()


def table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Aligned columns, the header first; every cell made safe with :func:`printable`, and
    the last column left free to run on."""
    cells = [tuple(printable(str(c)) for c in row) for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header) - 1)]
    return [
        "  ".join([*(c.ljust(w) for c, w in zip(row, widths)), row[-1]]).rstrip() for row in cells
    ]
