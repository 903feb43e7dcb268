"""The command line: a thin layer over :class:`cocainate.Session`.

:mod:`.options` is its one table; :mod:`.parsing` builds both parsers from it; :mod:`.run`
runs a session or a subcommand; :mod:`.say` writes without blocking; :mod:`.terminal`,
:mod:`.command` and :mod:`.status` serve a person at a terminal, ``-- COMMAND`` and
``cocainate status``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from .run import main as run

    return run(argv)
