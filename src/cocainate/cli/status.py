"""``cocainate status``: what is held on this machine, mechanism by mechanism, in the order
``methods`` lists them, with cocainate's own marked. Each mechanism says what it can
(``Mechanism.inhibitors``); the calls that takes are bounded, each service's together
(:data:`PER_SERVICE`) and the whole run's (:data:`DEADLINE`).
"""

from __future__ import annotations

from ..bindings.buses import Resources
from ..bindings.listing import Asker
from ..errors import MechanismError

PER_SERVICE = 2.0
"""Seconds the calls to one service take at most, together."""
DEADLINE = 8.0
"""Seconds the whole of ``status`` takes at most (its four D-Bus services' share)."""

Row = tuple[str, str, str, list[str]]  # mechanism, what it is, what it holds, one line each


def report() -> list[Row]:
    from .. import mechanisms

    resources = Resources()
    ask = Asker(resources, DEADLINE, PER_SERVICE)
    rows: list[Row] = []
    try:
        for entry in mechanisms.listed():
            try:
                cls = entry.load()
            except MechanismError as err:
                rows.append((entry.name, entry.name, str(err), []))
                continue
            ask.begin(cls.name)
            words, lines = cls.inhibitors(ask)
            rows.append((cls.name, cls.title, words, lines))
    finally:
        resources.close()
    return rows
