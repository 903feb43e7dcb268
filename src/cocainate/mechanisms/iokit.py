"""macOS IOKit power assertions, the API behind ``caffeinate``, without a child process.

``PreventUserIdleDisplaySleep`` in display mode (which keeps the system up too),
``PreventUserIdleSystemSleep`` in system mode; the reason is the assertion's name, which
``pmset -g assertions`` shows. macOS releases a process's assertions when it exits.
"""

from typing import Any

from ..bindings.iokit import iokit
from ..errors import MechanismError
from . import Blocks, Mechanism, Mode

KINDS = {Mode.DISPLAY: "PreventUserIdleDisplaySleep", Mode.SYSTEM: "PreventUserIdleSystemSleep"}


class IOKitAssertion(Mechanism):
    name = "iokit"
    title = "macOS IOPMAssertion"
    blocks = {
        Mode.DISPLAY: frozenset({Blocks.SCREEN_IDLE, Blocks.SLEEP}),
        Mode.SYSTEM: frozenset({Blocks.SLEEP}),
    }

    _assertion: "int | None" = None

    @classmethod
    def inhibitors(cls, ask: "Any") -> "tuple[str, list[str]]":
        return "macOS lists them: pmset -g assertions", []

    def probe(self) -> "str | None":
        try:
            iokit()
        except MechanismError as err:
            return str(err)
        return None

    def acquire(self, mode: "Mode", reason: str) -> None:
        self._assertion = iokit().create_assertion(KINDS[mode], reason)

    def release(self) -> None:
        assertion, self._assertion = self._assertion, None
        if assertion is None:
            return
        status = iokit().release_assertion(assertion)
        if status != 0:
            self.problems.append(f"{self.name}: IOPMAssertionRelease returned {status:#x}")

    def abandon(self) -> None:
        self._assertion = None  # the parent's, which releases it
