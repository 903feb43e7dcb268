"""Windows power requests: ``PowerCreateRequest`` + ``PowerSetRequest``.

Chosen over ``SetThreadExecutionState`` for two reasons: a power request carries the
reason, which ``powercfg /requests`` shows, and it is a handle, so whichever thread ends
the session can clear it; an execution state belongs to the thread that set it and would
tie the release to that thread. Display mode sets ``PowerRequestDisplayRequired`` and
``PowerRequestSystemRequired`` (the original Go tool forgot the display); system mode the
latter only.
"""

from __future__ import annotations

from ..bindings.win32 import POWER_REQUEST_DISPLAY_REQUIRED, POWER_REQUEST_SYSTEM_REQUIRED, kernel32
from ..errors import MechanismError
from . import Blocks, Mechanism, Mode

_KINDS = {
    Mode.DISPLAY: (POWER_REQUEST_DISPLAY_REQUIRED, POWER_REQUEST_SYSTEM_REQUIRED),
    Mode.SYSTEM: (POWER_REQUEST_SYSTEM_REQUIRED,),
}


class WindowsPowerRequest(Mechanism):
    name = "power-request"
    title = "Windows PowerSetRequest"
    blocks = {
        Mode.DISPLAY: frozenset({Blocks.SCREEN_IDLE, Blocks.SLEEP}),
        Mode.SYSTEM: frozenset({Blocks.SLEEP}),
    }

    _request: int | None = None
    _kinds: tuple[int, ...] = ()

    def probe(self) -> str | None:
        try:
            kernel32()
        except MechanismError as err:
            return str(err)
        return None

    def acquire(self, mode: Mode, reason: str) -> None:
        try:
            self._request = kernel32().power_request(reason, _KINDS[mode])
        except OSError as err:
            raise MechanismError(f"cannot create a power request: {err}") from err
        self._kinds = _KINDS[mode]

    def release(self) -> None:
        request, self._request = self._request, None
        if request is None:
            return
        try:
            kernel32().power_clear(request, self._kinds)
        except OSError as err:
            self.problems.append(f"{self.name}: release failed: {err}")

    def abandon(self) -> None:
        self._request = None  # the parent's, which releases it
