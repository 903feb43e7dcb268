"""``cocainate status`` and ``methods``: this platform's mechanisms, in the order a
session tries them (then those tried only when named), with what each service holds
(cocainate's own marked) or whether each can be used here.

``status`` asks each mechanism what it can (``Mechanism.inhibitors``); the calls that takes
are bounded, each service's together (:data:`PER_SERVICE`) and the whole run's
(:data:`DEADLINE`). ``methods`` asks each ``probe()``, which is bounded too.
"""

import sys
from typing import TYPE_CHECKING, Union

from ..bindings.buses import Resources
from ..errors import MechanismError
from .options import EXIT_OK
from .say import out, printable, table

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..mechanisms import Entry, Mechanism

PER_SERVICE = 2.0
"""Seconds the calls to one service take at most, together."""
DEADLINE = 8.0
"""Seconds the whole of ``status`` takes at most (its four D-Bus services' share)."""

Row = tuple[str, str, str, list[str]]  # mechanism, what it is, what it holds, one line each
Probe = tuple[str, str, str, Union[str, None], Union[str, None]]
"""Name, title, modes, None or why it cannot be used here, None or when it is tried
(unnamed, a session tries it only outside a sandbox, or when an option asks for it)."""


def _listed(resources: "Resources") -> "Iterator[tuple[Entry, type[Mechanism] | MechanismError]]":
    """Each mechanism of this platform, as ``methods`` and ``status`` list them: its class,
    or why it could not be loaded."""
    from .. import mechanisms

    for entry in mechanisms.listed():
        try:
            yield entry, entry.load()
        except MechanismError as err:
            yield entry, err


def report() -> "list[Row]":
    from ..bindings.listing import Asker

    resources = Resources()
    ask = Asker(resources, DEADLINE, PER_SERVICE)
    rows: list[Row] = []
    try:
        for entry, cls in _listed(resources):
            if isinstance(cls, MechanismError):
                rows.append((entry.name, entry.name, str(cls), []))
                continue
            ask.begin(cls.name)
            words, lines = cls.inhibitors(ask)
            rows.append((cls.name, cls.title, words, lines))
    finally:
        resources.close()
    return rows


def probes() -> "list[Probe]":
    from .. import mechanisms

    tried = mechanisms.select(None)

    def when(entry: "mechanisms.Entry") -> "str | None":
        return None if entry in tried else entry.tried()

    resources = Resources()
    rows: list[Probe] = []
    try:
        for entry, cls in _listed(resources):
            if isinstance(cls, MechanismError):
                rows.append((entry.name, entry.name, "-", str(cls), when(entry)))
                continue
            modes = ",".join(mode.value for mode in cls.blocks)
            mechanism = cls(resources)
            rows.append((cls.name, mechanism.title, modes, mechanism.probe(), when(entry)))
    finally:
        resources.close()
    return rows


def show_status() -> int:
    rows = report()
    lines = table(("mechanism", "service", "inhibitors"), [row[:3] for row in rows])
    out(lines[0])
    for line, (*_, details) in zip(lines[1:], rows):
        out(line)
        for detail in details:
            out(printable(f"    {detail}"))
    return EXIT_OK


def show_methods() -> int:
    rows = probes()
    if not rows:
        out(f"no mechanism is known on {sys.platform}")
        return EXIT_OK
    cells = [
        (
            name,
            title,
            modes,
            ("usable" if why is None else f"not usable: {why}") + (f"; {when}" if when else ""),
        )
        for name, title, modes, why, when in rows
    ]
    for line in table(("mechanism", "interface", "modes", "state"), cells):
        out(line)
    return EXIT_OK
