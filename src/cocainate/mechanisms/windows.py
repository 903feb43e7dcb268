"""Windows power requests (``PowerCreateRequest`` + ``PowerSetRequest``), and
``SetThreadExecutionState`` where they cannot be had.

Chosen over ``SetThreadExecutionState`` for two reasons: a power request carries the
reason, which ``powercfg /requests`` shows, and it is a handle, so whichever thread ends
the session can clear it; an execution state belongs to the thread that set it and would
tie the release to that thread. Display mode sets ``PowerRequestDisplayRequired`` and
``PowerRequestSystemRequired`` (the original Go tool forgot the display); system mode the
latter only.

:class:`WindowsExecutionState` is the fallback, tried only when no power request could be
made (Wine implements power requests as stubs; a locked-down system may refuse them). An
execution state belongs to the thread that set it and ends with that thread, so it is held
by a thread of its own: started by ``acquire``, it sets the state, sleeps on a lock until
``release``, clears the state and ends. (No thread of the user's is borrowed: the library's
``start()`` and ``stop()`` may run on different threads, and either may end first.)
"""

import _thread
from typing import Any

from ..bindings.waiting import Flag
from ..bindings.win32 import (
    ES_CONTINUOUS,
    ES_DISPLAY_REQUIRED,
    ES_SYSTEM_REQUIRED,
    POWER_REQUEST_DISPLAY_REQUIRED,
    POWER_REQUEST_SYSTEM_REQUIRED,
    kernel32,
)
from ..errors import MechanismError
from . import Blocks, Mechanism, Mode

BOUND = 2.0
"""Seconds the holding thread has to set or clear the state before we give up on it."""

_KINDS = {
    Mode.DISPLAY: (POWER_REQUEST_DISPLAY_REQUIRED, POWER_REQUEST_SYSTEM_REQUIRED),
    Mode.SYSTEM: (POWER_REQUEST_SYSTEM_REQUIRED,),
}


class _Kernel32Mechanism(Mechanism):
    @classmethod
    def inhibitors(cls, ask: "Any") -> "tuple[str, list[str]]":
        return "Windows lists them: powercfg /requests (as an administrator)", []

    def probe(self) -> "str | None":
        try:
            kernel32()
        except MechanismError as err:
            return str(err)
        return None


class WindowsPowerRequest(_Kernel32Mechanism):
    name = "power-request"
    title = "Windows PowerSetRequest"
    blocks = {
        Mode.DISPLAY: frozenset({Blocks.SCREEN_IDLE, Blocks.SLEEP}),
        Mode.SYSTEM: frozenset({Blocks.SLEEP}),
    }

    _request: "int | None" = None
    _kinds: "tuple[int, ...]" = ()

    def acquire(self, mode: "Mode", reason: str) -> None:
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


_STATES = {
    Mode.DISPLAY: ES_CONTINUOUS | ES_SYSTEM_REQUIRED | ES_DISPLAY_REQUIRED,
    Mode.SYSTEM: ES_CONTINUOUS | ES_SYSTEM_REQUIRED,
}


class WindowsExecutionState(_Kernel32Mechanism):
    name = "execution-state"
    title = "Windows SetThreadExecutionState"
    blocks = WindowsPowerRequest.blocks
    fallback_for = "power-request"

    _release_lock: "_thread.LockType | None" = None
    _ended: "Flag | None" = None

    def acquire(self, mode: "Mode", reason: str) -> None:
        k32 = kernel32()
        release_lock = _thread.allocate_lock()
        release_lock.acquire()
        started, ended = Flag(), Flag()
        outcome: list[BaseException | None] = []

        def hold() -> None:
            try:
                try:
                    k32.set_thread_execution_state(_STATES[mode])
                except BaseException as err:
                    outcome.append(err)
                    return
                outcome.append(None)
                started.set()
                release_lock.acquire()  # until release(): no wake-up meanwhile
                try:
                    k32.set_thread_execution_state(ES_CONTINUOUS)
                except OSError:
                    pass  # the state ends with this thread in any case
            finally:
                started.set()
                ended.set()

        _thread.start_new_thread(hold, ())
        if not started.wait(BOUND):
            release_lock.release()
            raise MechanismError(f"SetThreadExecutionState took over {BOUND:g} s")
        if outcome and outcome[0] is not None:
            raise MechanismError(f"cannot set the execution state: {outcome[0]}")
        self._release_lock, self._ended = release_lock, ended

    def release(self) -> None:
        release_lock, ended = self._release_lock, self._ended
        self._release_lock = self._ended = None
        if release_lock is None or ended is None:
            return
        release_lock.release()
        if not ended.wait(BOUND):
            self.problems.append(f"{self.name}: the holding thread did not end within {BOUND:g} s")

    def abandon(self) -> None:
        self._release_lock = self._ended = None  # (no fork() on Windows)
