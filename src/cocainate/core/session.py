"""A session: hold every usable mechanism until a duration, a time, a signal, process exits
or stop(), then let go, always.

The session is a small state machine, NEW -> STARTING -> HOLDING -> RELEASING -> RELEASED
(or NEW -> RELEASED when stopped before it started). With conditions (:mod:`..conditions`)
it may also be WAITING: holding nothing until a condition is met, STARTING -> WAITING and
HOLDING <-> WAITING as they change; each hold is a new :class:`Holdings`. Its state changes
only where a transition is claimed under its lock: :meth:`Session._move`, ``start``,
:meth:`Session._follow` and :meth:`Session._release`. What it waits for lives in its
reactor (:mod:`.reactor`); what it holds, in its holdings (:mod:`.holdings`); its signal
handlers, in :mod:`.signals`. Every resource is owned by one of those and released once,
by :meth:`Session._release`, on every path out. User code (``on_event``, watched
sources) never runs under a lock: events are queued and delivered once the locks are
released.
"""

from __future__ import annotations

import _thread
import os
import time
from typing import TYPE_CHECKING, Any, overload

from .. import mechanisms
from ..errors import SessionError, UsageError
from ..mechanisms import Attempt, Blocks, Mode
from ..reactor import Timer
from .arguments import default_reason, seconds, timestamp
from .arguments import pids as pids_of
from .arguments import reason as check_reason
from .sources import ClockSource, ProcessSource, UserSource, WakeSource, WatcherSource

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import datetime
    from types import TracebackType

    from ..bindings.waiting import Flag, Waker
    from ..conditions import Condition
    from ..reactor import Reactor, Source, Wakeup
    from ..watchers import Watcher
    from .arguments import DurationLike
    from .ending import Ended
    from .events import Event
    from .holdings import Holdings
    from .signals import Signals

SWITCH_SPACING = 1.0
"""Seconds between two changes of a session with conditions (a hold made, a hold let
go), at least: a condition that flips many times a second costs the desktop at most one
hold and one release a second, and what holds follows the last word within this."""
RELEASE_WAIT = 10.0
"""Seconds a caller waits for a release another thread is doing; each call a release makes
is bounded (1-2 s), so this is never reached unless something is very wrong."""


class State:
    """The session's states. (Strings, not an enum: an enum's creation costs start-up.)"""

    NEW = "new"
    STARTING = "starting"
    HOLDING = "holding"
    WAITING = "waiting"
    RELEASING = "releasing"
    RELEASED = "released"


_NEXT = {
    State.NEW: (State.STARTING, State.RELEASED),
    State.STARTING: (State.HOLDING, State.WAITING, State.RELEASING),
    State.HOLDING: (State.WAITING, State.RELEASING),
    State.WAITING: (State.HOLDING, State.RELEASING),
    State.RELEASING: (State.RELEASED,),
    State.RELEASED: (),
}


class Session:
    """Keep this machine awake from :meth:`start` until the session ends, then let go.

    It ends when ``duration`` (seconds or a :class:`~datetime.timedelta`, counted from
    the moment the hold is in place) has passed, at the wall-clock time ``until``, when
    every process in ``pids`` has exited, on SIGINT/SIGTERM/SIGQUIT/SIGHUP if
    ``handle_signals`` is true, or at :meth:`stop`, whichever comes first. ``mode`` is
    ``"display"`` (the screen stays on) or ``"system"`` (only the system stays awake).
    ``methods`` names the mechanisms to use; by default every one this platform has is
    tried and every one that can be acquired is held. ``on_event`` is called with each
    :class:`~cocainate.Event`, never under a lock, and may call any method.

    With ``conditions`` (:class:`~cocainate.ProcessRunning`, :class:`~cocainate.MediaPlaying`,
    :class:`~cocainate.Fullscreen`), it holds only while at least one is met and waits,
    holding nothing, while none is; ``only_on_ac`` holds only on mains power. Then the
    ending conditions above end the watch, and without any it goes on until :meth:`stop`
    or a signal. Conditions are followed while the session is waited on (:meth:`wait`,
    :meth:`wait_async`, :meth:`run`).

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
        conditions: Iterable[Condition] | Condition = (),
        only_on_ac: bool = False,
    ) -> None:
        try:
            self.mode = Mode(mode)
        except ValueError:
            raise UsageError(f"unknown mode {mode!r} (use display or system)") from None
        self.duration = seconds(duration)
        self.pids = pids_of(pids)
        self.reason = check_reason(reason) or default_reason(self.mode)
        self._methods = tuple(methods) if methods is not None else ()
        self._entries = mechanisms.select(self._methods)
        self.handle_signals = handle_signals
        self.until = timestamp(until)
        self.on_event = on_event
        self.conditions: tuple[Condition, ...] = ()
        if conditions:  # the module only for a session that has some: start-up
            from ..conditions import check

            self.conditions = check(conditions)
        self.only_on_ac = bool(only_on_ac)

        self.problems: list[str] = []
        """Problems met while holding or releasing (the release still completed)."""
        self.held_at: float | None = None
        """``time.monotonic()`` when the hold was in place (the duration counts from it)."""
        self._state: str = State.NEW
        self._lock = _thread.allocate_lock()  # guards _state and the event queue only
        self._why: tuple[str, int | None, int | None] | None = None  # why it ends, raw
        self._end: Ended | None = None  # the same as an Ended, made when first asked for
        self._events: list[Event] = []
        self._delivering = False
        self._interrupt: BaseException | None = None  # a callback's, raised once released
        self._busy: dict[int, int] = {}  # threads inside start/wait/stop, with depth
        self._async_wakers: list[Callable[[], None]] = []
        self._watches: list[Source] = []
        self._exited: set[int] = set()
        self._pid = 0
        self._deadline: ClockSource | None = None  # the duration's, once the hold is in place
        self._next_switch: Timer | None = None
        self._switched_at = -SWITCH_SPACING  # time.monotonic() of the last hold or release
        self._reactor: Reactor | None = None
        self._waker: Waker | None = None
        self._holdings: Holdings | None = None
        self._watchers: list[Watcher] = []
        self._gate: Watcher | None = None
        self._switching = _thread.allocate_lock()  # held while a hold is made or let go
        self.failure: Exception | None = None
        """With conditions: what ended the session when it failed (a NoMechanismError
        when nothing could be held, a ConditionError when a condition could no longer be
        followed)."""
        self._signals: Signals | None = None
        self._flags: tuple[Flag, Flag] | None = None  # started, released

    # -- what it is ------------------------------------------------------------------

    @property
    def state(self) -> str:
        """``"new"``, ``"starting"``, ``"holding"``, ``"waiting"`` (for a condition),
        ``"releasing"`` or ``"released"``."""
        return self._state

    @property
    def conditional(self) -> bool:
        """Whether the session holds only while conditions say so."""
        return bool(self.conditions) or self.only_on_ac

    @property
    def conditions_now(self) -> str:
        """What the conditions say now: why it holds or why it waits ("ffmpeg runs (pid
        4242)", "on battery"); "" without conditions or before the start."""
        if not self.conditional or not (self._watchers or self._gate):
            return ""
        return (self._why_holding() if self._state == State.HOLDING else self._why_not()) or ""

    def describe_conditions(self) -> str:
        """What the session waits for, as a person says it ("" without conditions)."""
        text = " or ".join(c.describe() for c in self.conditions)
        if self.only_on_ac:
            text = f"{text}, on mains power" if text else "on mains power"
        return text

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        """What was tried at start, in order, and what came of it."""
        return self._holdings.attempts if self._holdings is not None else ()

    @property
    def acquired(self) -> tuple[Attempt, ...]:
        """The mechanisms acquired at start, or with conditions at the last hold (they
        may have been lost or released since)."""
        return tuple(a for a in self.attempts if a.held)

    @property
    def holding(self) -> tuple[str, ...]:
        """The mechanisms holding now: none unless the session is holding, and none lost."""
        if self._state != State.HOLDING or self._holdings is None:
            return ()
        return self._holdings.holding

    @property
    def active(self) -> bool:
        """True from a successful start until the release begins (holding, or waiting for a
        condition)."""
        return self._state in (State.HOLDING, State.WAITING)

    @property
    def ended(self) -> Ended | None:
        """Why the session ended (or is ending), once it has."""
        why = self._why
        if why is not None and self._end is None:
            from .ending import Ended, EndReason  # not before it is needed: start-up

            self._end = Ended(EndReason(why[0]), why[1], why[2])
        return self._end

    @property
    def remaining(self) -> float | None:
        """Seconds until the duration or the ``until`` time ends it, or None without either."""
        left = []
        if self._deadline is not None:
            left.append(self._deadline.left())
        elif self.duration is not None and self._state in (State.NEW, State.STARTING):
            left.append(self.duration)
        if self.until is not None:
            left.append(self.until - time.time())
        return max(0.0, min(left)) if left else None

    def __repr__(self) -> str:
        holding = ", ".join(self.holding) or "nothing"
        return f"<Session {self._state} mode={self.mode.value} holding {holding}>"

    # -- the state machine -----------------------------------------------------------

    def _move(self, to: str) -> bool:
        """The one place the state changes: to ``to`` if that is allowed from here."""
        with self._lock:
            if to not in _NEXT[self._state]:
                return False
            self._state = to
            return True

    # -- start ------------------------------------------------------------------------

    def start(self) -> Session:
        """Acquire every usable mechanism and return the holding session, or raise (a
        :class:`NoMechanismError` when nothing could be held; a :class:`SessionError`
        when it was stopped while starting; a :class:`ConditionError` when a condition
        cannot be watched) having released everything. With conditions, it holds only if
        one is met, and is otherwise returned waiting."""
        if not self._move(State.STARTING):
            raise SessionError("a session can be started only once")
        from ..bindings.waiting import Flag

        self._flags = (Flag(), Flag())
        self._enter()
        try:
            try:
                self._open()
            except BaseException:
                self._request_end("stopped")
                self._release()
                raise
            holding = self._holdings is not None
            with self._lock:
                if self._why is None:  # the STARTING -> HOLDING or WAITING transition
                    self._state = State.HOLDING if holding else State.WAITING
            if not self.active:
                self._release()
                raise SessionError(f"the session was stopped while starting ({self.ended})")
            assert self._reactor is not None
            self.held_at = time.monotonic()
            if self.duration is not None:  # counted from the moment the hold is in place
                from ..bindings.wallclock import BOOTTIME, now

                at = now(BOOTTIME) + self.duration  # real time: a suspend counts
                self._deadline = ClockSource(at, BOOTTIME, lambda: self._request_end("duration"))
                self._reactor.add(self._deadline)
            if holding:
                names = tuple(a.name for a in self.acquired)
                self._emit("acquired", names, condition=self._why_holding())
            else:
                self._emit("waiting", condition=self.describe_conditions())
        finally:
            self._leave()
            self._flags[0].set()
        self._settle()
        if not self.active:
            raise SessionError(f"the session was stopped while starting ({self.ended})")
        return self

    def _open(self) -> None:
        from ..bindings import waiting
        from ..bindings.waiting import Waker
        from ..reactor import Reactor
        from .signals import Signals

        self._pid = os.getpid()
        self._reactor = reactor = Reactor()
        self._waker = waker = Waker()
        reactor.add(WakeSource(waker))
        if self.handle_signals or waiting.WINDOWS:
            self._signals = Signals(
                self._on_signal, self._is_released, self._wait_released, self.handle_signals
            )
            self._signals.install()
        for pid in self.pids:
            reactor.add(ProcessSource(pid, self._process_exited))
        self._next_switch = Timer(None, lambda: None)  # wakes _follow when the spacing ends
        reactor.add(self._next_switch)
        if self.until is not None:
            from ..bindings.wallclock import REALTIME

            reactor.add(ClockSource(self.until, REALTIME, lambda: self._request_end("until")))
        for source in self._watches:
            reactor.add(source)
        if self.only_on_ac:
            from ..conditions import OnACPower

            self._gate = OnACPower().watcher()
        self._watchers = [c.watcher() for c in self.conditions]
        described = [c.describe() for c in self.conditions]
        if self._gate is not None:
            described.append("on mains power")
        for watcher, what in zip((*self._watchers, self._gate), described):
            if watcher is not None:
                watcher.report = self._reporter(what)
                for source in watcher.open():  # bounded; ConditionError if it cannot be
                    reactor.add(WatcherSource(watcher, source, self.problems.append))
        if self._wanted():
            self._holdings = holdings = self._new_holdings()
            holdings.acquire(lambda: self._why is not None)
            holdings.attach(reactor)

    def _reporter(self, condition: str) -> Callable[[str, bool], None]:
        """What a watcher calls when it loses what it follows: say so, and end if it can
        follow nothing any more (as the start would have failed without it)."""

        def report(why: str, ends: bool) -> None:
            self._emit("lost", error=why, condition=condition)
            if ends:
                from ..errors import ConditionError

                self.failure = ConditionError(f"cannot follow {condition!r} any more: {why}")
                self._request_end("condition-lost")

        return report

    def _new_holdings(self) -> Holdings:
        from .holdings import Holdings

        return Holdings(
            self._entries,
            self._methods,
            self.mode,
            self.reason,
            self._emit,
            lambda: self._request_end("lost"),
        )

    # -- conditions -----------------------------------------------------------------------

    def _wanted(self) -> bool:
        """Whether the conditions call for a hold now (always, without conditions)."""
        if self._gate is not None and not self._gate.met:
            return False
        return not self._watchers or any(w.met for w in self._watchers)

    def _why_holding(self) -> str | None:
        if not self.conditional:
            return None
        why = [w.detail for w in self._watchers if w.met][:1]
        if self._gate is not None:
            why.append(self._gate.detail)
        return ", ".join(why)

    def _why_not(self) -> str:
        if self._gate is not None and not self._gate.met:
            return self._gate.detail
        return ", ".join(w.detail for w in self._watchers)

    def _follow(self) -> None:
        """Hold or let go as the conditions now say: the HOLDING <-> WAITING transitions.
        One thread at a time; every call made is bounded."""
        if not self.conditional or not self._switching.acquire(blocking=False):
            return
        try:
            want = self._wanted()
            state = self._state
            if self._why is not None or state not in (State.HOLDING, State.WAITING):
                return
            if want == (state == State.HOLDING):
                return
            now = time.monotonic()
            if now < self._switched_at + SWITCH_SPACING:  # too soon: look again then
                assert self._next_switch is not None
                self._next_switch.at = self._switched_at + SWITCH_SPACING
                return
            self._switched_at = now
            if want:
                self._hold()
            else:
                self._unhold()
        finally:
            self._switching.release()
        self._deliver()

    def _hold(self) -> None:
        from ..errors import NoMechanismError

        assert self._reactor is not None
        self._holdings = holdings = self._new_holdings()  # _release finds it from here on
        try:
            holdings.acquire(lambda: self._why is not None)
        except NoMechanismError as err:
            self.failure = err
            self._request_end("failed")
            return
        with self._lock:
            if self._why is not None or self._state != State.WAITING:
                return  # ending: _release lets go of what was taken
            self._state = State.HOLDING
        holdings.attach(self._reactor)
        names = tuple(a.name for a in holdings.attempts if a.held)
        self._emit("acquired", names, condition=self._why_holding())

    def _unhold(self) -> None:
        holdings = self._holdings
        assert holdings is not None and self._reactor is not None
        with self._lock:
            if self._state != State.HOLDING:
                return
            self._state = State.WAITING
        holdings.detach(self._reactor)
        holdings.release()
        problems = tuple(holdings.problems)
        holdings.problems.clear()  # said here, with this release
        self.problems.extend(problems)
        names = tuple(a.name for a in holdings.attempts if a.held)
        self._emit("released", names, problems=problems, condition=self._why_not())

    # -- adding to a running session ----------------------------------------------------

    def add_pid(self, pid: int) -> None:
        """Also wait for process ``pid`` (one started after the session, say): the session
        then ends when every watched process has exited. A PID already watched changes
        nothing."""
        (pid,) = pids_of([pid])
        if not self.active or self._reactor is None:
            raise SessionError("processes can be added only to a holding or waiting session")
        if pid in self.pids:
            return
        source = ProcessSource(pid, self._process_exited)  # raises for a PID that is not one
        self.pids = (*self.pids, pid)
        self._reactor.add(source)
        if self._waker is not None:
            self._waker.wake()  # sleepers look again, at the new process too

    def watch(self, source: Any) -> None:
        """Also wake when ``source.fileno()`` turns readable (or writable, if
        ``source.events`` says WRITE) and call ``source.on_readable(fd)`` then (True to
        keep watching; no lock is held meanwhile). ``fileno()`` may return None for "not
        now". For a program's own event source, such as the CLI's keyboard."""
        user = UserSource(source)
        if self._reactor is not None:
            self._reactor.add(user)
            if self._waker is not None:
                self._waker.wake()
        else:
            self._watches.append(user)

    # -- waiting ------------------------------------------------------------------------

    @overload
    def wait(self) -> Ended: ...

    @overload
    def wait(self, timeout: float) -> Ended | None: ...

    def wait(self, timeout: float | None = None) -> Ended | None:
        """Block until the session ends and is released; return why it ended.

        With ``timeout`` (seconds), return None if the session is still going by then.
        An exception raised while waiting (KeyboardInterrupt...) ends the session first.
        """
        if self._state == State.NEW or self._flags is None:
            raise SessionError("start the session before waiting for it")
        from ..bindings.waiting import sleep
        from .signals import SignalWakeup

        give_up = None if timeout is None else time.monotonic() + timeout
        signalled = SignalWakeup()  # in the main thread: a signal always wakes its sleep
        self._enter()
        try:
            self._flags[0].wait()  # a start in another thread finishes first (it is bounded)
            signalled.open()
            looked = False
            while self._state != State.RELEASED:
                if self._ending():
                    self._release()
                    break
                self._follow()
                assert self._reactor is not None
                wakeup = self._reactor.next_wakeup()
                limit = wakeup.timeout
                if give_up is not None:
                    left = give_up - time.monotonic()
                    if left <= 0 and looked:
                        return None
                    limit = left if limit is None else min(limit, left)
                looked = True
                ready = sleep(signalled.watched(wakeup.waitables), limit)
                signalled.woke(ready)
                self._turn(wakeup, ready)
        except BaseException:
            self._request_end("stopped")
            self._release()
            raise
        finally:
            signalled.close()
            self._leave()
            self._settle()
        self._wait_released(RELEASE_WAIT)
        ended = self.ended
        assert ended is not None
        return ended

    def _ending(self) -> bool:
        """Whether the session is to end now: asked to, or this is a fork's child (whose
        copy ends, "stopped", with no word to the waker it shares with the parent)."""
        if self._why is None and os.getpid() != self._pid:
            self._why = ("stopped", None, None)
        return self._why is not None

    def _turn(self, wakeup: Wakeup, ready: dict[int, int]) -> None:
        """Dispatch what is ready, then run user code with no lock held."""
        assert self._reactor is not None
        for call in self._reactor.dispatch(wakeup, ready):
            call()
        self._deliver()

    async def wait_async(self) -> Ended:
        """``await`` the end of the session without blocking the event loop (asyncio or
        trio); cancelling it leaves the session running."""
        from .drivers import wait_async

        return await wait_async(self)

    # -- ending -------------------------------------------------------------------------

    def stop(self) -> None:
        """End the session and release everything it holds. Safe anywhere, any number of times.

        From a thread that is inside :meth:`start` or :meth:`wait` (a signal handler, a
        callback), it only asks: that call releases before it returns. Elsewhere it
        returns once the session is released.
        """
        self._request_end("stopped")
        if _thread.get_ident() in self._busy:
            return
        if self._state == State.NEW:
            self._move(State.RELEASED)
            return
        if self._flags is not None:
            self._flags[0].wait(RELEASE_WAIT)  # a start in another thread finishes first
        self._enter()
        try:
            self._release()
        finally:
            self._leave()
            self._settle()

    def run(self) -> Ended:
        """Start, wait for the end, release; return why it ended."""
        with self:
            return self.wait()

    def __enter__(self) -> Session:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _request_end(self, reason: str, signal: int | None = None, pid: int | None = None) -> None:
        """Record why the session ends (an EndReason's value; the first reason wins) and
        wake every sleeper. Safe in a signal handler: it takes no lock and imports nothing."""
        if self._why is None:
            self._why = (reason, signal, pid)
        if self._waker is not None:
            self._waker.wake(final=True)
        for wake in list(self._async_wakers):
            wake()

    def _on_signal(self, signum: int) -> None:
        if signum:
            self._request_end("signal", signal=signum)
        else:
            self._request_end("stopped")

    def _process_exited(self, pid: int) -> None:
        self._exited.add(pid)
        if self._exited.issuperset(self.pids):
            self._request_end("process-exit", pid=pid)

    def _is_released(self) -> bool:
        return self._state == State.RELEASED

    def _wait_released(self, timeout: float) -> None:
        if self._flags is not None:
            self._flags[1].wait(timeout)

    def _release(self) -> None:
        """Let go of everything, once; whoever comes second waits for the first. Never
        raises, and every call it makes is bounded."""
        with self._lock:
            state = self._state
            if state == State.NEW:
                self._state = State.RELEASED
                return
            if state in (State.STARTING, State.HOLDING, State.WAITING):
                self._state = State.RELEASING  # the -> RELEASING transition, claimed here
        if state in (State.RELEASING, State.RELEASED):
            self._wait_released(RELEASE_WAIT)
            return
        # A hold being made or let go in another thread finishes first (it is bounded, and
        # stops early once the session is ending).
        switching = self._switching.acquire(timeout=RELEASE_WAIT)
        holdings = self._holdings
        was_holding = holdings is not None and bool(holdings.held)
        try:
            if holdings is not None:
                if os.getpid() == self._pid:
                    holdings.release()
                else:
                    holdings.abandon()  # a fork's child: the parent holds, and releases
                self.problems.extend(holdings.problems)
            if self._reactor is not None:
                self._reactor.close()  # process watches, the wall-clock timer, the waker
            for watcher in (*self._watchers, self._gate):  # once no dispatch can call them
                if watcher is not None:
                    watcher.close()
        finally:
            if self._waker is not None:
                self._waker.close()
            self._move(State.RELEASED)
            assert self._flags is not None
            self._flags[1].set()
            for wake in list(self._async_wakers):
                wake()
            if self._signals is not None and self._signals.restore():
                self._signals = None
            if switching:
                self._switching.release()
        if was_holding or (self.conditional and state != State.STARTING):
            self._emit("ended", ended=self.ended)  # it began: say how it ended
        if was_holding:  # and that it let go
            names = tuple(a.name for a in self.acquired)
            self._emit("released", names, problems=tuple(self.problems))

    # -- events -------------------------------------------------------------------------

    def _emit(self, kind: str, mechanisms: tuple[str, ...] = (), **details: Any) -> None:
        """Queue an event; :meth:`_deliver` calls the listener once no lock is held."""
        if self.on_event is None:
            return
        now = time.time()  # when it happened, not when the first event's import was done
        from .events import Event  # only for a session that has a listener

        with self._lock:
            self._events.append(Event(kind, now, mechanisms, **details))

    def _deliver(self) -> None:
        """Call the listener with every queued event, in order, from one thread at a time."""
        with self._lock:
            if self._delivering or not self._events:
                return
            self._delivering = True
        try:
            while True:
                with self._lock:
                    if not self._events:
                        self._delivering = False
                        return
                    event = self._events.pop(0)
                try:
                    assert self.on_event is not None
                    self.on_event(event)
                except Exception as err:  # a callback's bug must not stop anything
                    self.problems.append(f"on_event raised {err!r}")
                except BaseException as err:  # KeyboardInterrupt, SystemExit: end first
                    if self._interrupt is None:
                        self._interrupt = err
                    self._request_end("stopped")
        finally:
            with self._lock:
                self._delivering = False

    def _settle(self) -> None:
        """Deliver what is queued; a callback's KeyboardInterrupt (or other BaseException)
        is raised here, once the session has released everything. Puts the signal handlers
        back if the release happened where it could not."""
        self._deliver()
        signals = self._signals
        if signals is not None and self._state == State.RELEASED and signals.restore():
            self._signals = None
        err, self._interrupt = self._interrupt, None
        if err is None:
            return
        if self._state != State.RELEASED and _thread.get_ident() not in self._busy:
            self._release()
            self._deliver()
        raise err

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
