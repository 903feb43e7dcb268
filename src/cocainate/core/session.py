"""A session: hold every usable mechanism until a duration, a time, a signal, process exits
or stop(), then let go, always.

The session is a facade over its parts, each owning what it owns and releasing it once:
its lifecycle (:mod:`.lifecycle`: the state, why it ends, the events), what it follows
(:mod:`.following`: the conditions' watchers), what it waits for (the reactor, with the
sources of :mod:`.sources`), what it holds (:mod:`.holdings`, a new one for each hold) and
its signal handlers (:mod:`.signals`). :meth:`Session._steps` is the one loop every driver
runs (:meth:`wait`, and :meth:`wait_async` in :mod:`.drivers`), and :meth:`Session._release`
the one way out. User code (``on_event``, watched sources) never runs under a lock.
"""

from __future__ import annotations

import _thread
import os
import time
from typing import TYPE_CHECKING, Any, overload

from .. import mechanisms
from ..errors import SessionError, UsageError
from ..mechanisms import Attempt, Blocks, Mode
from .arguments import default_reason, seconds, timestamp
from .arguments import pids as pids_of
from .arguments import reason as check_reason
from .following import Following
from .lifecycle import LIVE, Callers, Events, Lifecycle, State
from .sources import ClockSource, ProcessSource, UserSource, WakeSource

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable
    from datetime import datetime
    from types import TracebackType

    from ..bindings.waiting import Waker
    from ..conditions import Condition
    from ..reactor import Reactor, Source, Wakeup
    from .arguments import DurationLike
    from .ending import Ended
    from .events import Event
    from .holdings import Holdings
    from .signals import Signals

RELEASE_WAIT = 10.0
"""Seconds a caller waits for a release another thread is doing; each call a release makes
is bounded (1-2 s), so this is never reached unless something is very wrong."""


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
        self.failure: Exception | None = None
        """With conditions: what ended the session when it failed (a NoMechanismError
        when nothing could be held, a ConditionError when a condition could no longer be
        followed)."""
        self._life = Lifecycle()
        self._callers = Callers()
        self._events = Events(on_event, self.problems.append, lambda: self._end("stopped"))
        self._following = Following(self.conditions, self.only_on_ac)
        self._switching = _thread.allocate_lock()  # held while a hold is made or let go
        self._pid = 0  # the process that started it: in a fork's child, the copy only ends
        self._exited: set[int] = set()
        self._watches: list[Source] = []  # the program's own, until the reactor is made
        self._reactor: Reactor | None = None
        self._waker: Waker | None = None
        self._holdings: Holdings | None = None
        self._signals: Signals | None = None
        self._deadline: ClockSource | None = None  # the duration's, once the hold is in place

    # -- what it is ------------------------------------------------------------------

    @property
    def state(self) -> str:
        """``"new"``, ``"starting"``, ``"holding"``, ``"waiting"`` (for a condition),
        ``"releasing"`` or ``"released"``."""
        return self._life.state

    @property
    def conditional(self) -> bool:
        """Whether the session holds only while conditions say so."""
        return self._following.any

    @property
    def conditions_now(self) -> str:
        """What the conditions say now: why it holds or why it waits ("ffmpeg runs (pid
        4242)", "on battery"); "" without conditions or before the start."""
        return self._following.now(self.state == State.HOLDING)

    def describe_conditions(self) -> str:
        """What the session waits for, as a person says it ("" without conditions)."""
        return self._following.describe()

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
        if self.state != State.HOLDING or self._holdings is None:
            return ()
        return self._holdings.holding

    @property
    def active(self) -> bool:
        """True from a successful start until the release begins (holding, or waiting for a
        condition)."""
        return self.state in (State.HOLDING, State.WAITING)

    @property
    def ended(self) -> Ended | None:
        """Why the session ended (or is ending), once it has."""
        return self._life.ended

    @property
    def remaining(self) -> float | None:
        """Seconds until the duration or the ``until`` time ends it, or None without either."""
        left = []
        if self._deadline is not None:
            left.append(self._deadline.left())
        elif self.duration is not None and self.state in (State.NEW, State.STARTING):
            left.append(self.duration)
        if self.until is not None:
            left.append(self.until - time.time())
        return max(0.0, min(left)) if left else None

    def __repr__(self) -> str:
        holding = ", ".join(self.holding) or "nothing"
        return f"<Session {self.state} mode={self.mode.value} holding {holding}>"

    # -- start ------------------------------------------------------------------------

    def start(self) -> Session:
        """Acquire every usable mechanism and return the holding session, or raise (a
        :class:`NoMechanismError` when nothing could be held; a :class:`SessionError`
        when it was stopped while starting; a :class:`ConditionError` when a condition
        cannot be watched) having released everything. With conditions, it holds only if
        one is met, and is otherwise returned waiting."""
        life = self._life
        if life.move(State.STARTING) is None:
            raise SessionError("a session can be started only once")
        life.begin()
        self._callers.enter()
        try:
            try:
                self._open()
            except BaseException:
                self._end("stopped")
                self._release()
                raise
            holding = self._holdings is not None
            if life.move(State.HOLDING if holding else State.WAITING, live=True) is None:
                self._release()
                raise SessionError(f"the session was stopped while starting ({self.ended})")
            self.held_at = time.monotonic()
            if self.duration is not None:  # counted from the moment the hold is in place
                from ..bindings.wallclock import BOOTTIME, now

                at = now(BOOTTIME) + self.duration  # real time: a suspend counts
                self._deadline = ClockSource(at, BOOTTIME, lambda: self._end("duration"))
                self._add(self._deadline)
            if holding:
                names = tuple(a.name for a in self.acquired)
                self._events.emit("acquired", names, condition=self._following.why_holding())
            else:
                self._events.emit("waiting", condition=self.describe_conditions())
        finally:
            self._callers.leave()
            assert life.started is not None
            life.started.set()
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
        self._life.wakers.append(lambda: waker.wake(final=True))
        reactor.add(WakeSource(waker))
        if self.handle_signals or waiting.WINDOWS:
            self._signals = Signals(
                self._on_signal,
                lambda: self.state == State.RELEASED,
                self._life.wait_released,
                self.handle_signals,
            )
            self._signals.install()
        for pid in self.pids:
            reactor.add(ProcessSource(pid, self._process_exited))
        if self.until is not None:
            from ..bindings.wallclock import REALTIME

            reactor.add(ClockSource(self.until, REALTIME, lambda: self._end("until")))
        for source in self._watches:
            reactor.add(source)
        if self.conditional:
            self._following.open(reactor, self._condition_lost, self.problems.append)
        if self._following.wanted():
            self._holdings = holdings = self._new_holdings()
            holdings.acquire(lambda: self._life.ending)
            holdings.attach(reactor)

    def _condition_lost(self, condition: str) -> Callable[[str, bool], None]:
        """What a watcher calls when it loses what it follows: say so, and end if it can
        follow nothing any more (as the start would have failed without it)."""

        def report(why: str, ends: bool) -> None:
            self._events.emit("lost", error=why, condition=condition)
            if ends:
                from ..errors import ConditionError

                self.failure = ConditionError(f"cannot follow {condition!r} any more: {why}")
                self._end("condition-lost")

        return report

    def _new_holdings(self) -> Holdings:
        from .holdings import Holdings

        return Holdings(
            self._entries,
            self._methods,
            self.mode,
            self.reason,
            self._events.emit,
            lambda: self._end("lost"),
        )

    # -- following the conditions -------------------------------------------------------

    def _follow(self) -> None:
        """Hold or let go as the conditions now say: the HOLDING <-> WAITING transitions,
        at most one a second (:data:`.following.SWITCH_SPACING`). One thread at a time;
        every call made is bounded."""
        following = self._following
        if not following.any or not self._switching.acquire(blocking=False):
            return
        try:
            holding = self.state == State.HOLDING
            want = following.wanted()
            if self._life.ending or self.state not in (State.HOLDING, State.WAITING):
                return
            if want != holding and following.may_change():
                (self._hold if want else self._unhold)()
        finally:
            self._switching.release()
        self._events.deliver()

    def _hold(self) -> None:
        from ..errors import NoMechanismError

        assert self._reactor is not None
        self._holdings = holdings = self._new_holdings()  # _release finds it from here on
        try:
            holdings.acquire(lambda: self._life.ending)
        except NoMechanismError as err:
            self.failure = err
            self._end("failed")
            return
        if self._life.move(State.HOLDING, only_from=(State.WAITING,), live=True) is None:
            return  # ending: _release lets go of what was taken
        holdings.attach(self._reactor)
        names = tuple(a.name for a in holdings.attempts if a.held)
        self._events.emit("acquired", names, condition=self._following.why_holding())

    def _unhold(self) -> None:
        holdings = self._holdings
        assert holdings is not None and self._reactor is not None
        if self._life.move(State.WAITING, only_from=(State.HOLDING,)) is None:
            return
        holdings.detach(self._reactor)
        holdings.release()
        problems = tuple(holdings.problems)
        holdings.problems.clear()  # said here, with this release
        self.problems.extend(problems)
        names = tuple(a.name for a in holdings.attempts if a.held)
        condition = self._following.why_not()
        self._events.emit("released", names, problems=problems, condition=condition)

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
        self._add(source)

    def watch(self, source: Any) -> None:
        """Also wake when ``source.fileno()`` turns readable (or writable, if
        ``source.events`` says WRITE) and call ``source.on_readable(fd)`` then (True to
        keep watching; no lock is held meanwhile). ``fileno()`` may return None for "not
        now". For a program's own event source, such as the CLI's keyboard."""
        user = UserSource(source)
        if self._reactor is not None:
            self._add(user)
        else:
            self._watches.append(user)

    def _add(self, source: Source) -> None:
        """Add a source to the running reactor; sleepers look again, at it too."""
        assert self._reactor is not None
        self._reactor.add(source)
        if self._waker is not None:
            self._waker.wake()

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
        if self.state == State.NEW or self._life.started is None:
            raise SessionError("start the session before waiting for it")
        from ..bindings.waiting import sleep
        from .signals import SignalWakeup

        give_up = None if timeout is None else time.monotonic() + timeout
        signalled = SignalWakeup()  # in the main thread: a signal always wakes its sleep
        self._callers.enter()
        try:
            self._life.wait_started()  # a start in another thread finishes first (bounded)
            signalled.open()
            steps = self._steps()
            wakeup = next(steps, None)
            looked = False
            while wakeup is not None:
                limit = wakeup.timeout
                if give_up is not None:
                    left = give_up - time.monotonic()
                    if left <= 0 and looked:
                        return None
                    limit = left if limit is None else min(limit, left)
                looked = True
                ready = sleep(signalled.watched(wakeup.waitables), limit)
                signalled.woke(ready)
                wakeup = _send(steps, ready)
        except BaseException:
            self._end("stopped")
            self._release()
            raise
        finally:
            signalled.close()
            self._callers.leave()
            self._settle()
        self._life.wait_released(RELEASE_WAIT)
        ended = self.ended
        assert ended is not None
        return ended

    def _steps(self) -> Generator[Wakeup, dict[int, int], None]:
        """The one loop of every driver: it yields what to sleep on and for how long, and
        is sent what was ready when that sleep ended (``send`` returns the next wake-up);
        it dispatches, then runs user code with no lock held. It ends (StopIteration) once
        the session is released."""
        while self.state != State.RELEASED:
            if self._ending():
                self._release()
                return
            self._follow()
            assert self._reactor is not None
            wakeup = self._reactor.next_wakeup()
            ready = yield wakeup
            for call in self._reactor.dispatch(wakeup, ready):
                call()
            self._events.deliver()

    def _ending(self) -> bool:
        """Whether the session is to end now: asked to, or this is a fork's child (whose
        copy ends, "stopped", with no word to the waker it shares with the parent)."""
        if self._life.why is None and os.getpid() != self._pid:
            self._life.why = ("stopped", None, None)
        return self._life.ending

    async def wait_async(self) -> Ended:
        """``await`` the end of the session without blocking the event loop (asyncio or
        trio); cancelling it leaves the session running."""
        if self.state == State.NEW or self._life.started is None:
            raise SessionError("start the session before waiting for it")
        from .drivers import wait_async

        self._life.wait_started()  # a start in another thread finishes first (bounded)
        await wait_async(self._steps(), self._life.wakers)
        return self.wait()  # the release, bounded (done by now), and why it ended

    # -- ending -------------------------------------------------------------------------

    def stop(self) -> None:
        """End the session and release everything it holds. Safe anywhere, any number of times.

        From a thread that is inside :meth:`start` or :meth:`wait` (a signal handler, a
        callback), it only asks: that call releases before it returns. Elsewhere it
        returns once the session is released.
        """
        self._end("stopped")
        if self._callers.inside():
            return
        if self._life.move(State.RELEASED, only_from=(State.NEW,)) is not None:
            return
        self._life.wait_started(RELEASE_WAIT)  # a start in another thread finishes first
        self._callers.enter()
        try:
            self._release()
        finally:
            self._callers.leave()
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

    def _end(self, reason: str, signal: int | None = None, pid: int | None = None) -> None:
        self._life.end(reason, signal, pid)  # safe in a signal handler

    def _on_signal(self, signum: int) -> None:
        if signum:
            self._end("signal", signal=signum)
        else:
            self._end("stopped")  # Windows: the console's Ctrl-C, when it is not handled

    def _process_exited(self, pid: int) -> None:
        self._exited.add(pid)
        if self._exited.issuperset(self.pids):
            self._end("process-exit", pid=pid)

    def _release(self) -> None:
        """Let go of everything, once; whoever comes second waits for the first. Never
        raises, and every call it makes is bounded."""
        life = self._life
        if life.move(State.RELEASED, only_from=(State.NEW,)) is not None:
            return
        began = life.move(State.RELEASING, only_from=LIVE)
        if began is None:  # another thread releases: it is bounded
            life.wait_released(RELEASE_WAIT)
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
                self._reactor.close()  # process watches, the clocks, the waker's source
            self._following.close()  # once no dispatch can call the watchers
        finally:
            if self._waker is not None:
                self._waker.close()
            life.move(State.RELEASED)
            assert life.released is not None
            life.released.set()
            for wake in list(life.wakers):
                wake()
            if self._signals is not None and self._signals.restore():
                self._signals = None
            if switching:
                self._switching.release()
        if was_holding or (self.conditional and began != State.STARTING):
            self._events.emit("ended", ended=self.ended)  # it began: say how it ended
        if was_holding:  # and that it let go
            names = tuple(a.name for a in self.acquired)
            self._events.emit("released", names, problems=tuple(self.problems))

    def _settle(self) -> None:
        """Deliver what is queued; a callback's KeyboardInterrupt (or other BaseException)
        is raised here, once the session has released everything. Puts the signal handlers
        back if the release happened where it could not."""
        self._events.deliver()
        signals = self._signals
        if signals is not None and self.state == State.RELEASED and signals.restore():
            self._signals = None
        err, self._events.interrupt = self._events.interrupt, None
        if err is None:
            return
        if self.state != State.RELEASED and not self._callers.inside():
            self._release()
            self._events.deliver()
        raise err


def _send(steps: Generator[Wakeup, dict[int, int], None], ready: dict[int, int]) -> Wakeup | None:
    """The next wake-up of ``steps`` after ``ready``, or None once it has ended."""
    try:
        return steps.send(ready)
    except StopIteration:
        return None


def screen_blocked(attempts: Iterable[Attempt]) -> bool:
    """Whether any held mechanism keeps the screen from idling."""
    return any(a.held and Blocks.SCREEN_IDLE in a.blocks for a in attempts)
