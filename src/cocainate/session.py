"""A session: hold every usable mechanism until a duration, a signal, process exits or stop().

Leak-free by construction. The waiting core is one ``poll`` over a wake-up pipe and one
pidfd per watched process, with the time left until the deadline as its timeout: there is
no timer object and no thread, and nothing wakes the process but a signal, a stop, a
process exit or the deadline. Everything a session creates (pipe, pidfds, bus
connections, inhibits, signal handlers) is released once, by :meth:`Session._release`,
on every path out.
"""

from __future__ import annotations

import _thread
import enum
import math
import os
import signal
import time
from typing import TYPE_CHECKING, Any

from . import mechanisms
from ._arguments import DurationLike, default_reason, seconds, timestamp
from ._arguments import pids as pids_of
from ._waiting import Flag
from .ending import Ended, EndReason
from .errors import MechanismError, NoMechanismError, SessionError, UsageError
from .mechanisms import Attempt, Blocks, Mode

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import datetime
    from types import FrameType, TracebackType

    from ._resources import Resources
    from ._waiting import PollWaiter, WindowsWaiter
    from ._wallclock import WallClockTimer
    from .events import Event
    from .mechanisms import Entry, Mechanism

    Waiter = PollWaiter | WindowsWaiter

HANDLED_SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGQUIT", "SIGHUP")
    if hasattr(signal, name)
)
"""The signals a session ends on when asked to handle signals."""

LOST_GRACE = 5.0
"""Seconds a session goes on holding nothing (every mechanism lost, none re-acquired)
before it ends with :attr:`EndReason.LOST`, rather than pretend to hold."""


class _State(enum.Enum):
    NEW = "new"
    STARTING = "starting"
    ACTIVE = "active"
    RELEASED = "released"


class Session:
    """Keep this machine awake from :meth:`start` until the session ends, then let go.

    It ends when ``duration`` (seconds or a :class:`~datetime.timedelta`) has passed, when
    every process in ``pids`` has exited, on SIGINT/SIGTERM/SIGQUIT/SIGHUP if
    ``handle_signals`` is true, or at :meth:`stop`, whichever comes first. ``mode`` is
    ``"display"`` (the screen stays on) or ``"system"`` (only the system stays awake).
    ``methods`` names the mechanisms to use; by default every one this platform has is
    tried and every one that can be acquired is held.

    :meth:`stop` may be called from any thread, from a signal handler, and more than once.
    As a context manager, the session starts on entry and is released on exit.
    """

    def __init__(
        self,
        duration: DurationLike = None,
        pids: Iterable[int] = (),
        reason: str | None = None,
        mode: Mode | str = Mode.DISPLAY,
        methods: Iterable[str] | None = None,
        handle_signals: bool = False,
        until: datetime | float | None = None,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        try:
            self.mode = Mode(mode)
        except ValueError:
            raise UsageError(f"unknown mode {mode!r} (use display or system)") from None
        self.duration = seconds(duration)
        self.pids = pids_of(pids)
        self.reason = reason if reason else default_reason(self.mode)
        self._methods = tuple(methods) if methods is not None else ()
        self._entries: tuple[Entry, ...] = mechanisms.select(self._methods)
        self.handle_signals = handle_signals
        self.until = timestamp(until)
        self.on_event = on_event

        self.attempts: tuple[Attempt, ...] = ()
        """What was tried at start, in order, and what came of it."""
        self.problems: list[str] = []
        """Problems met while releasing (the release still completed)."""
        self._state = _State.NEW
        self._end: Ended | None = None
        self._lock = _thread.allocate_lock()  # guards state changes; never held while waiting
        self._wake_lock = _thread.allocate_lock()  # guards the wake pipe's write end
        self._released = Flag()
        self._busy: dict[int, int] = {}  # threads inside start/wait/stop, with depth
        self._waiters = 0
        self._waiter: Waiter | None = None
        self._wall: WallClockTimer | None = None
        self._watches: list[Any] = []
        self._unwatched: set[int] = set()  # fds whose handler said to stop watching
        self._async_wakers: list[Callable[[], None]] = []
        self._lost: set[str] = set()  # held mechanisms that lost their hold
        self._lost_deadline: float | None = None
        self._exited: set[int] = set()
        self._deadline: float | None = None
        self._held: list[Mechanism] = []
        self._resources: Resources | None = None
        self._previous_handlers: dict[int, Any] = {}

    # -- public surface -------------------------------------------------------------------

    @property
    def held(self) -> tuple[Attempt, ...]:
        """The mechanisms that were acquired at start."""
        return tuple(a for a in self.attempts if a.held)

    @property
    def active(self) -> bool:
        """True from a successful start until the release."""
        return self._state is _State.ACTIVE

    @property
    def ended(self) -> Ended | None:
        """Why the session ended, once it has."""
        return self._end

    @property
    def remaining(self) -> float | None:
        """Seconds until the duration or the ``until`` time ends it, or None without either."""
        left = [self._deadline - time.monotonic()] if self._deadline is not None else []
        if self.until is not None:
            left.append(self.until - time.time())
        return max(0.0, min(left)) if left else None

    def start(self) -> Session:
        """Acquire every usable mechanism, or raise :class:`NoMechanismError` holding none."""
        with self._lock:
            if self._state is not _State.NEW:
                raise SessionError("a session can be started only once")
            self._state = _State.STARTING
        self._enter()
        try:
            with self._lock:
                try:
                    self._open()
                except BaseException:
                    self._request_end(Ended(EndReason.STOPPED))
                    self._release()
                    raise
                self._state = _State.ACTIVE
        finally:
            self._leave()
            self._restore_signals()
        if self._end is not None:  # stopped while starting
            self._settle()
        else:
            self._emit("acquired", tuple(a.name for a in self.held))
        return self

    def add_pid(self, pid: int) -> None:
        """Also wait for process ``pid`` (one started after the session, say): the session
        then ends when every watched process has exited."""
        (pid,) = pids_of([pid])
        with self._lock:
            if self._state is not _State.ACTIVE or self._waiter is None:
                raise SessionError("processes can be added only to an active session")
            self._waiter.add_process(pid)
            self.pids = (*self.pids, pid)

    async def wait_async(self) -> Ended:
        """``await`` the end of the session without blocking the event loop."""
        from ._asyncwait import wait_async

        return await wait_async(self)

    def watch(self, source: Any) -> None:
        """Also wake the wait when ``source.fileno()`` turns readable, and call
        ``source.on_readable(fd)`` then (from the waiting thread; True to keep watching).
        For a program's own event source, such as the CLI's keyboard."""
        self._watches.append(source)

    def wait(self, timeout: float | None = None) -> Ended | None:
        """Block until the session ends and is released; return why it ended.

        With ``timeout`` (seconds), return None if the session is still going by then.
        An exception raised while waiting (KeyboardInterrupt...) ends the session first.
        """
        if self._state is _State.NEW:
            raise SessionError("start the session before waiting for it")
        self._enter()
        try:
            with self._lock:
                if self._state is _State.RELEASED:
                    return self._end
                self._waiters += 1
            try:
                ended = self._block(timeout)
            except BaseException:
                self._request_end(Ended(EndReason.STOPPED))
                raise
            finally:
                with self._lock:
                    self._waiters -= 1
                    if self._end is not None and self._waiters == 0:
                        self._release()
            if not ended:
                return None
            self._released.wait()  # another waiter may be the one releasing
            return self._end
        finally:
            self._leave()
            self._restore_signals()

    def stop(self) -> None:
        """End the session and release everything it holds. Safe anywhere, any number of times.

        From a thread that is inside :meth:`start` or :meth:`wait` (a signal handler, a
        callback), it only asks: that call releases before it returns. Elsewhere it
        returns once the session is released.
        """
        if _thread.get_ident() in self._busy:
            self._request_end(Ended(EndReason.STOPPED))
            return
        self._enter()
        try:
            self._request_end(Ended(EndReason.STOPPED))
            self._finish()
        finally:
            self._leave()
        self._restore_signals()

    def run(self) -> Ended:
        """Start, wait for the end, release; return why it ended."""
        with self:
            ended = self.wait()
        assert ended is not None
        return ended

    def __enter__(self) -> Session:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        held = ", ".join(a.name for a in self.held) or "nothing"
        return f"<Session {self._state.value} mode={self.mode.value} holding {held}>"

    # -- start --------------------------------------------------------------------------

    def _open(self) -> None:
        from ._waiting import make_waiter

        self._waiter = waiter = make_waiter()
        if self.handle_signals:
            self._install_signals()
        waiter.on_console(self._on_console)
        for pid in self.pids:
            waiter.add_process(pid)
        if self.duration is not None:
            self._deadline = time.monotonic() + self.duration
        if self.until is not None:
            from ._wallclock import WallClockTimer

            self._wall = WallClockTimer(self.until)
        self._acquire()

    def _acquire(self) -> None:
        from ._resources import Resources

        self._resources = resources = Resources()
        attempts: list[Attempt] = []
        for entry in self._entries:
            if self._end is not None:
                break
            try:
                cls = entry.load()
            except MechanismError as err:
                attempts.append(Attempt(entry.name, entry.name, False, error=str(err)))
                continue
            blocks = cls.blocks.get(self.mode)
            if blocks is None:
                if entry.name in self._methods:
                    error = f"does not serve --mode {self.mode.value}"
                    attempts.append(Attempt(cls.name, cls.title, False, error=error))
                continue
            mechanism = cls(resources)
            mechanism.report = self._reporter(mechanism)
            try:
                mechanism.acquire(self.mode, self.reason)
            except MechanismError as err:
                attempts.append(Attempt(cls.name, cls.title, False, error=str(err)))
                continue
            except Exception as err:  # a mechanism's bug: reported, and the others still run
                mechanism.release()
                error = f"unexpected {type(err).__name__}: {err} (a bug in cocainate)"
                attempts.append(Attempt(cls.name, cls.title, False, error=error))
                continue
            self._held.append(mechanism)
            attempts.append(Attempt(cls.name, cls.title, True, blocks=blocks))
        self.attempts = tuple(attempts)
        if not self._held and self._end is None:
            raise NoMechanismError(attempts)

    def _install_signals(self) -> None:
        for signum in HANDLED_SIGNALS:
            try:
                self._previous_handlers[signum] = signal.signal(signum, self._on_signal)
            except ValueError:  # only the main thread may set handlers
                raise SessionError(
                    "signals can be handled only by a session started in the main thread"
                ) from None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._state is _State.RELEASED:
            # Released from another thread, which could not restore the handlers: pass on.
            self._restore_signals()
            os.kill(os.getpid(), signum)
            return
        self._request_end(Ended(EndReason.SIGNAL, signal=signum))

    def _on_console(self, event: int) -> bool:
        """Windows console control, on a thread of the system's: Ctrl-C, Ctrl-Break, close."""
        from ._win32 import CTRL_BREAK_EVENT, CTRL_C_EVENT

        interactive = event in (CTRL_C_EVENT, CTRL_BREAK_EVENT)
        if self.handle_signals:
            if not interactive:
                signum = signal.SIGTERM
            elif event == CTRL_BREAK_EVENT:
                signum = getattr(signal, "SIGBREAK", signal.SIGINT)
            else:
                signum = signal.SIGINT
            self._request_end(Ended(EndReason.SIGNAL, signal=signum))
        elif interactive:
            # What Python does on Ctrl-C: KeyboardInterrupt in the main thread. A waiting
            # main thread is blocked in WaitForMultipleObjects, so wake it too.
            _thread.interrupt_main()
            if self._waiters:
                self._request_end(Ended(EndReason.STOPPED))
            return True
        else:
            self._request_end(Ended(EndReason.STOPPED))
        if not interactive:
            self._released.wait(timeout=4.0)  # Windows ends the process when we return
        return True

    # -- waiting ------------------------------------------------------------------------

    def _block(self, timeout: float | None) -> bool:
        """Sleep until the session ends (True) or ``timeout`` passes (False)."""
        from ._waiting import MAX_WAIT_MS  # a longer wait is cut into ~24.8-day pieces

        waiter = self._waiter
        if waiter is None:
            return True
        give_up = None if timeout is None else time.monotonic() + timeout
        polled = False
        while self._end is None:
            now = time.monotonic()
            if self._deadline is not None and now >= self._deadline:
                self._request_end(Ended(EndReason.DURATION))
                break
            wall = self._wall
            if wall is not None and wall.fileno() is None and wall.fired():
                self._request_end(Ended(EndReason.UNTIL))
                break
            if give_up is not None and now >= give_up and polled:
                return False
            polled = True  # look at least once, even with no time to wait
            resources = self._resources
            retry = resources.deadline() if resources is not None else None
            if retry is not None and now >= retry:
                with self._lock:
                    if self._state is _State.ACTIVE and resources is not None:
                        resources.on_timer()
                continue
            if self._lost_deadline is not None and now >= self._lost_deadline:
                self._request_end(Ended(EndReason.LOST))
                break
            limits = [
                t for t in (self._deadline, give_up, retry, self._lost_deadline) if t is not None
            ]
            if wall is not None and wall.fileno() is None:
                limits.append(now + wall.timestamp - time.time())
            ms: int | None = None
            if limits:
                ms = min(MAX_WAIT_MS, max(0, math.ceil((min(limits) - now) * 1000)))
            watched = self._watched()
            exited, readable = waiter.wait(ms, self._exited, watched)
            for pid in exited:
                self._process_exited(pid)
            for fd in readable:
                with self._lock:  # one waiter at a time talks to a source
                    keep = self._state is _State.ACTIVE and watched[fd](fd)
                if not keep:
                    self._unwatched.add(fd)
        return True

    def _watched(self) -> dict[int, Callable[[int], bool]]:
        """The fds the wait watches besides processes, with what to call when readable."""
        watched: dict[int, Callable[[int], bool]] = {}
        for mechanism in self._held:
            for fd in mechanism.fds():
                watched[fd] = self._mechanism_readable(mechanism)
        for source in self._watches:
            watched[source.fileno()] = source.on_readable
        wall_fd = self._wall.fileno() if self._wall is not None else None
        if wall_fd is not None:
            watched[wall_fd] = self._wall_readable
        for fd in self._unwatched:
            watched.pop(fd, None)
        if self._resources is not None:  # bus connections: fresh fds after a reconnect
            for fd in self._resources.fds():
                watched[fd] = self._resources.on_readable
        return watched

    def _mechanism_readable(self, mechanism: Mechanism) -> Callable[[int], bool]:
        def readable(fd: int) -> bool:
            if mechanism.on_readable(fd):
                return True
            mechanism.report("lost", mechanism.problems[-1] if mechanism.problems else None)
            return False

        return readable

    def _reporter(self, mechanism: Mechanism) -> Callable[[str, str | None], None]:
        """What a mechanism calls when it loses its hold or gets it back."""

        def report(kind: str, error: str | None) -> None:
            if kind == "lost":
                self._lost.add(mechanism.name)
                if len(self._lost) >= len(self._held) and self._lost_deadline is None:
                    self._lost_deadline = time.monotonic() + LOST_GRACE
            else:
                self._lost.discard(mechanism.name)
                self._lost_deadline = None
            self._emit(kind, (mechanism.name,), error=error)

        return report

    @property
    def holding(self) -> tuple[str, ...]:
        """The mechanisms holding now: those held at start, less those lost since."""
        return tuple(a.name for a in self.held if a.name not in self._lost)

    def _wall_readable(self, fd: int) -> bool:
        if self._wall is not None and self._wall.fired():
            self._request_end(Ended(EndReason.UNTIL))
            return False
        return True

    def _process_exited(self, pid: int) -> None:
        with self._lock:
            self._exited.add(pid)
            if len(self._exited) == len(self.pids):
                self._request_end(Ended(EndReason.PROCESS_EXIT, pid=pid))

    # -- ending -------------------------------------------------------------------------

    def _request_end(self, ended: Ended) -> None:
        """Record why the session ends (the first reason wins) and wake every waiter.

        Async-signal-safe in Python's sense: it takes no lock that could block.
        """
        if self._end is None:
            self._end = ended
        for wake in list(self._async_wakers):
            wake()
        if self._wake_lock.acquire(blocking=False):
            # Not acquired: another thread is writing (that wakes the waiters too) or
            # closing the pipe (the session is being released anyway).
            try:
                if self._waiter is not None:
                    self._waiter.wake()  # wakes every waiter, now and later
            finally:
                self._wake_lock.release()

    def _finish(self) -> None:
        """Release now, or wait for the waiter that will; the caller is marked busy."""
        with self._lock:
            if self._state is _State.RELEASED:
                return
            if self._state is _State.NEW:
                self._state = _State.RELEASED
                self._released.set()
                return
            if self._waiters == 0:
                self._release()
                return
        self._released.wait()

    def _settle(self) -> None:
        self._enter()
        try:
            self._finish()
        finally:
            self._leave()
        self._restore_signals()

    def _release(self) -> None:
        """Let go of everything, once. Called with ``_lock`` held; never raises."""
        if self._state is _State.RELEASED:
            return
        self._state = _State.RELEASED
        try:
            for mechanism in reversed(self._held):
                mechanism.release()
                self.problems.extend(mechanism.problems)
            self._held.clear()
            if self._resources is not None:
                self._resources.close()
            if self._wall is not None:
                self._wall.close()
            with self._wake_lock:
                if self._waiter is not None:
                    self._waiter.close()
                self._waiter = None
        finally:
            self._released.set()
            for wake in list(self._async_wakers):
                wake()
        if self.held:  # it held something: say how it ended and that it let go
            self._emit("ended", ended=self._end)
            names = tuple(a.name for a in self.held)
            self._emit("released", names, problems=tuple(self.problems))

    def _emit(self, kind: str, mechanisms: tuple[str, ...] = (), **details: Any) -> None:
        if self.on_event is None:
            return
        from .events import Event  # only for a session that has a listener

        try:
            self.on_event(Event(kind, time.time(), mechanisms, **details))
        except Exception as err:  # a callback's bug must not stop a release
            self.problems.append(f"on_event raised {err!r}")

    def _restore_signals(self) -> None:
        if not self._previous_handlers or self._state is not _State.RELEASED:
            return
        handlers = self._previous_handlers
        for signum, handler in list(handlers.items()):
            try:
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
            except ValueError:
                return  # only the main thread may; _on_signal passes signals on meanwhile
            del handlers[signum]

    def _enter(self) -> None:
        me = _thread.get_ident()
        self._busy[me] = self._busy.get(me, 0) + 1

    def _leave(self) -> None:
        me = _thread.get_ident()
        depth = self._busy[me] - 1
        if depth:
            self._busy[me] = depth
        else:
            del self._busy[me]


def screen_blocked(attempts: Iterable[Attempt]) -> bool:
    """Whether any held mechanism keeps the screen from idling."""
    return any(a.held and Blocks.SCREEN_IDLE in a.blocks for a in attempts)


__all__ = ["EndReason", "Ended", "Session", "screen_blocked"]
