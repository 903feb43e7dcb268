"""Signals and the Windows console: what ends a session that handles them, in one place.

POSIX: SIGINT, SIGTERM, SIGQUIT and SIGHUP get a handler that asks the session to end; the
handler only records and wakes (it takes no lock), so a second signal during a slow
release changes nothing. The previous handlers come back once the session is released,
from the main thread (the only one Python lets set handlers); a signal that arrives after
the release, before they are back, is passed on to them.

Windows: a console control handler, on a thread of the system's: Ctrl-C and Ctrl-Break end
the session (or, when the session does not handle signals, raise KeyboardInterrupt in the
main thread, as Python does); closing the console, logging off or shutting down end it and
wait for the release, since Windows ends the process when the handler returns.
"""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING, Any, Callable

from ..errors import SessionError

if TYPE_CHECKING:
    from types import FrameType

HANDLED = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGQUIT", "SIGHUP")
    if hasattr(signal, name)
)
"""The signals a session ends on when asked to handle signals."""

CONSOLE_CLOSE_WAIT = 4.0
"""Seconds the console handler waits for the release before Windows ends the process
(it allows about five)."""


class Signals:
    """The handlers of one session, installed by :meth:`install` and put back by
    :meth:`restore`.

    ``on_signal(signum)`` is called from the handler: it must only record and wake.
    ``released()`` says whether the session has let go; ``wait_released(timeout)`` waits.
    """

    def __init__(
        self,
        on_signal: Callable[[int], None],
        released: Callable[[], bool],
        wait_released: Callable[[float], object],
        handle_signals: bool,
    ) -> None:
        self._on_signal = on_signal
        self._released = released
        self._wait_released = wait_released
        self._handle = handle_signals
        self._previous: dict[int, Any] = {}
        self._remove_console: Callable[[], None] | None = None

    def install(self) -> None:
        if self._handle:
            for signum in HANDLED:
                try:
                    self._previous[signum] = signal.signal(signum, self._handler)
                except ValueError:  # only the main thread may set handlers
                    self.restore()
                    raise SessionError(
                        "signals can be handled only by a session started in the main thread"
                    ) from None
        from ..bindings import waiting

        if waiting.WINDOWS:
            from ..bindings.win32 import kernel32

            self._remove_console = kernel32().console_handler(self._console)

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self._released():
            # Released by another thread, which could not put the handlers back: do it now
            # (handlers run in the main thread) and pass the signal on.
            self.restore()
            os.kill(os.getpid(), signum)
            return
        self._on_signal(signum)

    def _console(self, event: int) -> bool:
        from ..bindings.win32 import CTRL_BREAK_EVENT, CTRL_C_EVENT

        interactive = event in (CTRL_C_EVENT, CTRL_BREAK_EVENT)
        if self._handle:
            if not interactive:
                signum = signal.SIGTERM
            elif event == CTRL_BREAK_EVENT:
                signum = getattr(signal, "SIGBREAK", signal.SIGINT)
            else:
                signum = signal.SIGINT
            self._on_signal(signum)
        elif interactive:
            # What Python does on Ctrl-C: KeyboardInterrupt in the main thread; the wait
            # there sleeps in WaitForMultipleObjects, so end the session to wake it too.
            import _thread

            _thread.interrupt_main()
            self._on_signal(0)
            return True
        else:
            self._on_signal(0)
        if not interactive:
            self._wait_released(CONSOLE_CLOSE_WAIT)
        return True

    def restore(self) -> bool:
        """Put the previous handlers back; False when this thread may not (not the main)."""
        if self._remove_console is not None:
            self._remove_console()
            self._remove_console = None
        for signum, handler in list(self._previous.items()):
            try:
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
            except ValueError:
                return False
            del self._previous[signum]
        return True
