"""Signals and the Windows console: what ends a session that handles them, in one place.

POSIX: SIGINT, SIGTERM, SIGQUIT and SIGHUP get a handler that asks the session to end,
unless they were ignored when it started, which they stay (``nohup`` ignores SIGHUP, a shell
without job control SIGINT and SIGQUIT for a job it puts in the background); the handler
only records and wakes (it takes no lock), so a second signal during a slow
release changes nothing. The previous handlers come back once the session is released,
from the main thread (the only one Python lets set handlers); a signal that arrives after
the release, before they are back, is passed on to them.

Windows: a console control handler, on a thread of the system's: Ctrl-C and Ctrl-Break end
the session (or, when the session does not handle signals, raise KeyboardInterrupt in the
main thread, as Python does); closing the console, logging off or shutting down end it and
wait for the release, since Windows ends the process when the handler returns.
"""

import os
import signal
from typing import TYPE_CHECKING, Any, Callable

from ..errors import SessionError

if TYPE_CHECKING:
    from collections.abc import Mapping
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


class SignalWakeup:
    """Wakes the main thread's sleep for every signal that has a Python handler.

    Python runs signal handlers in the main thread, between bytecodes. A signal that
    arrives just before the main thread enters poll(), or that the OS delivers to another
    thread, does not interrupt that poll, and its handler (the session's, or Python's
    KeyboardInterrupt) would wait for the sleep to end for some other reason: perhaps
    never. Python's C-level handler also writes to the wakeup fd (``signal.set_wakeup_fd``),
    from whatever thread caught the signal; a sleep that watches it wakes, and the handler
    runs. One wait in the main thread owns one of these: it opens it, sleeps on :attr:`fd`
    too, and closes it, all in that thread. A program's own wakeup fd (an event loop's) is
    left in place, and then none is watched. On Windows the console handler wakes the
    session's waker instead.
    """

    def __init__(self) -> None:
        self.fd = -1  # what the sleep watches: the pipe's read end, or -1 when not set
        self._write = -1

    def open(self) -> None:
        from ..bindings import waiting

        if waiting.WINDOWS:
            return
        self.fd, self._write = os.pipe()
        os.set_blocking(self.fd, False)
        os.set_blocking(self._write, False)
        try:
            previous = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        except ValueError:  # not the main thread, the only one Python lets set it
            self._close_pipe()
            return
        if previous != -1:  # the program's own: put it back, with what came meanwhile
            signal.set_wakeup_fd(previous)
            _pass_on(self.fd, previous)
            self._close_pipe()

    def watched(self, waitables: "list[tuple[int, int]]") -> "list[tuple[int, int]]":
        """What a sleep watches: ``waitables``, and the pipe when it is set."""
        from ..bindings.waiting import READ

        return [*waitables, (self.fd, READ)] if self.fd >= 0 else waitables

    def woke(self, ready: "Mapping[int, int]") -> None:
        """After the sleep: if the pipe woke it, empty it (the handlers run on their own)."""
        if self.fd >= 0 and self.fd in ready:
            _pass_on(self.fd, -1)

    def close(self) -> None:
        """Unset it (in the thread that opened it) and close the pipe. Idempotent."""
        if self._write < 0:
            return
        current = signal.set_wakeup_fd(-1)
        if current != self._write:  # set anew meanwhile (by a callback): that one stays
            signal.set_wakeup_fd(current)
        self._close_pipe()

    def _close_pipe(self) -> None:
        os.close(self.fd)
        os.close(self._write)
        self.fd = self._write = -1


def _pass_on(read: int, to: int) -> None:
    """Read ``read`` empty, writing what it held to ``to`` (if not -1); never blocks."""
    try:
        while True:
            data = os.read(read, 512)
            if not data:
                return
            if to >= 0:
                os.write(to, data)
    except OSError:  # empty (EAGAIN), or theirs full: a signal is pending there already
        return


class Signals:
    """The handlers of one session, installed by :meth:`install` and put back by
    :meth:`restore`.

    ``on_signal(signum)`` is called from the handler: it must only record and wake.
    ``released()`` says whether the session has let go; ``wait_released(timeout)`` waits.
    """

    def __init__(
        self,
        on_signal: "Callable[[int], None]",
        released: "Callable[[], bool]",
        wait_released: "Callable[[float], object]",
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
                if signal.getsignal(signum) == signal.SIG_IGN:
                    continue  # ignored on entry (nohup, a job a script put in the background)
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

    def _handler(self, signum: int, frame: "FrameType | None") -> None:
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
