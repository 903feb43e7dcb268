"""One run of a session: what it waits for, what it holds and its signal handlers, made
when it starts (:meth:`Run.open`), followed by the one step loop every driver runs
(:meth:`Run.steps`), and let go of once, on every path out (:meth:`Run.release`).

A :class:`Run` reads the session's arguments (its public attributes) and writes only the
session's ``problems``, ``held_at`` and ``failure``; the state is the lifecycle's, the
events its queue's.
"""

import _thread
import os
import time
from typing import TYPE_CHECKING

from .lifecycle import LIVE, State
from .sources import ClockSource, ProcessSource, WakeSource

if TYPE_CHECKING:
    from collections.abc import Callable, Generator

    from ..bindings.waiting import Waker
    from ..mechanisms import Attempt, Entry
    from ..reactor import Reactor, Source, Wakeup
    from .following import Following
    from .holdings import Holdings
    from .lifecycle import Events, Lifecycle
    from .session import Session
    from .signals import Signals

RELEASE_WAIT = 10.0
"""Seconds a caller waits for a release another thread is doing; each call a release makes
is bounded (1-2 s), so this is never reached unless something is very wrong."""


class Run:
    def __init__(
        self,
        session: "Session",
        entries: "tuple[Entry, ...]",
        methods: "tuple[str, ...]",
        life: "Lifecycle",
        events: "Events",
        following: "Following",
    ) -> None:
        self.session, self.entries, self.methods = session, entries, methods
        self.life, self.events, self.following = life, events, following
        self.watches: list[Source] = []  # a program's own, until the reactor is made
        self.switching = _thread.allocate_lock()  # held while a hold is made or let go
        self.pid = 0  # the process that started it: in a fork's child, the copy only ends
        self.exited: set[int] = set()
        self.reactor: Reactor | None = None
        self.waker: Waker | None = None
        self.holdings: Holdings | None = None
        self.signals: Signals | None = None
        self.deadline: ClockSource | None = None  # the duration's, once the hold is in place
        self.until: ClockSource | None = None  # the wall-clock end's
        self.ends_lock = _thread.allocate_lock()  # held while the ends are replaced
        self.deadline_wall: float | None = None  # the duration's end, on the wall clock
        self.observers: list[Callable[[], None]] = []  # told after each step (no lock held)
        self.driving = 0  # drivers inside steps(): the last one out closes the waker
        self.driving_lock = _thread.allocate_lock()

    def end(self, reason: str, signal: "int | None" = None, pid: "int | None" = None) -> None:
        self.life.end(reason, signal, pid)  # safe in a signal handler

    # -- opening ------------------------------------------------------------------------

    def open(self) -> None:
        """Make every source, install the handlers, open the watchers and, if the
        conditions call for it, hold. Bounded; raises what start() raises."""
        from ..bindings import waiting
        from ..bindings.waiting import Waker
        from ..reactor import Reactor
        from .signals import Signals

        session = self.session
        self.pid = os.getpid()
        self.reactor = reactor = Reactor()
        self.waker = waker = Waker()
        self.life.wakers.append(lambda: waker.wake(final=True))
        reactor.add(WakeSource(waker))
        if session.handle_signals or waiting.WINDOWS:
            self.signals = Signals(
                self.on_signal,
                lambda: self.life.state == State.RELEASED,
                self.life.wait_released,
                session.handle_signals,
            )
            self.signals.install()
        for pid in session.pids:
            reactor.add(ProcessSource(pid, self.process_exited))
        if session.until is not None:
            from ..bindings.wallclock import REALTIME

            self.until = ClockSource(session.until, REALTIME, lambda: self.end("until"))
            reactor.add(self.until)
        for source in self.watches:
            reactor.add(source)
        if self.following.any:
            self.following.open(reactor, self.condition_lost, session.problems.append)
        if self.following.wanted():
            self.holdings = holdings = self.new_holdings()
            holdings.acquire(lambda: self.life.ending)
            holdings.attach(reactor)

    def started(self) -> None:
        """The hold is in place (or the watch begun): the duration counts from now, and
        the first event says which."""
        session = self.session
        session.held_at = time.monotonic()
        if session.duration is not None:
            from ..bindings.wallclock import BOOTTIME, now

            at = now(BOOTTIME) + session.duration  # real time: a suspend counts
            self.deadline = ClockSource(at, BOOTTIME, lambda: self.end("duration"))
            self.deadline_wall = time.time() + session.duration
            self.add(self.deadline)
        if self.holdings is not None:
            names = tuple(a.name for a in self.attempts() if a.held)
            self.events.emit("acquired", names, condition=self.following.why_holding())
        else:
            self.events.emit("waiting", condition=self.following.describe())

    def ends_at(self) -> "float | None":
        """The wall-clock time the duration or the ``until`` time ends it (whichever
        comes first), or None without either; fixed when the end is set."""
        ends = [t for t in (self.deadline_wall, self.session.until) if t is not None]
        if self.deadline is None and self.session.duration is not None:
            ends.append(time.time() + self.session.duration)  # not started: from now
        return min(ends) if ends else None

    def remaining(self) -> "float | None":
        """Seconds until the duration or the ``until`` time, or None without either."""
        session, left = self.session, []
        if self.deadline is not None:
            left.append(self.deadline.left())
        elif session.duration is not None and self.life.state in (State.NEW, State.STARTING):
            left.append(session.duration)
        if session.until is not None:
            left.append(session.until - time.time())
        return max(0.0, min(left)) if left else None

    def change_end(self, by: "float | None" = None, until: "float | None" = None) -> None:
        """Move the end ``by`` seconds later (earlier if negative: the duration's, the
        ``until`` time's, or both), or else make it the wall-clock time ``until`` (None: no
        end at all). From any thread; the step loop wakes and sleeps on the new end."""
        from ..bindings.wallclock import BOOTTIME, REALTIME

        session = self.session
        with self.ends_lock:
            if self.life.ending or self.life.state not in (State.HOLDING, State.WAITING):
                from ..errors import SessionError

                raise SessionError("only a holding or waiting session has an end to change")
            assert self.reactor is not None
            deadline, timed = self.deadline, self.until
            if by is None:
                session.duration, session.until = None, until
                duration_at = None
            else:
                if session.duration is not None:
                    session.duration += by
                if session.until is not None:
                    session.until += by
                duration_at = None if deadline is None else deadline.at + by
            self.deadline = self.until = self.deadline_wall = None
            for source in (deadline, timed):
                if source is not None:
                    self.reactor.remove(source)
            if duration_at is not None:
                self.deadline = ClockSource(duration_at, BOOTTIME, lambda: self.end("duration"))
                self.deadline_wall = time.time() + self.deadline.left()
                self.reactor.add(self.deadline)
            if session.until is not None:
                self.until = ClockSource(session.until, REALTIME, lambda: self.end("until"))
                self.reactor.add(self.until)
        if self.waker is not None:
            self.waker.wake()

    def add(self, source: "Source") -> None:
        """Add a source to the running reactor; sleepers look again, at it too."""
        if self.reactor is None:
            self.watches.append(source)
            return
        self.reactor.add(source)
        if self.waker is not None:
            self.waker.wake()

    def condition_lost(self, condition: str) -> "Callable[[str, bool], None]":
        """What a watcher calls when it loses what it follows: say so, and end if it can
        follow nothing any more (as the start would have failed without it)."""

        def report(why: str, ends: bool) -> None:
            self.events.emit("lost", error=why, condition=condition)
            if ends:
                from ..errors import ConditionError

                failure = ConditionError(f"cannot follow {condition!r} any more: {why}")
                self.session.failure = failure
                self.end("condition-lost")

        return report

    def new_holdings(self) -> "Holdings":
        from .holdings import Holdings

        session = self.session
        return Holdings(
            self.entries,
            self.methods,
            session.mode,
            session.reason,
            self.events.emit,
            lambda: self.end("lost"),
        )

    # -- following the conditions -------------------------------------------------------

    def follow(self) -> None:
        """Hold or let go as the conditions now say: the HOLDING <-> WAITING transitions,
        at most one a second (:data:`.following.SWITCH_SPACING`). One thread at a time;
        every call made is bounded."""
        following = self.following
        if not (following.any or following.steered) or not self.switching.acquire(blocking=False):
            return
        try:
            state = self.life.state
            want = following.wanted()
            lingering = following.lingers(state == State.HOLDING)
            if self.life.ending or state not in (State.HOLDING, State.WAITING):
                return
            if state == State.HOLDING and not want and lingering:
                return  # the conditions fell silent a moment ago: not yet
            if want != (state == State.HOLDING) and following.may_change():
                (self.hold if want else self.unhold)()
        finally:
            self.switching.release()
        self.events.deliver()

    def steer(self, paused: bool, index: "int | None" = None) -> None:
        """Pause (let go while the conditions go on being followed) or resume, the session
        or its condition ``index``, at the next step. Safe from any thread and from a
        signal handler."""
        self.following.steer(paused, index)
        if self.waker is not None:
            self.waker.wake()

    def hold(self) -> None:
        from ..errors import NoMechanismError

        assert self.reactor is not None
        self.holdings = holdings = self.new_holdings()  # release() finds it from here on
        try:
            holdings.acquire(lambda: self.life.ending)
        except NoMechanismError as err:
            self.session.failure = err
            self.end("failed")
            return
        if self.life.move(State.HOLDING, only_from=(State.WAITING,), live=True) is None:
            return  # ending: release() lets go of what was taken
        holdings.attach(self.reactor)
        names = tuple(a.name for a in holdings.attempts if a.held)
        self.events.emit("acquired", names, condition=self.following.why_holding())

    def unhold(self) -> None:
        holdings = self.holdings
        assert holdings is not None and self.reactor is not None
        if self.life.move(State.WAITING, only_from=(State.HOLDING,)) is None:
            return
        holdings.detach(self.reactor)
        holdings.release()
        problems = tuple(holdings.problems)
        holdings.problems.clear()  # said here, with this release
        self.session.problems.extend(problems)
        names = tuple(a.name for a in holdings.attempts if a.held)
        condition = self.following.why_not()
        self.events.emit("released", names, problems=problems, condition=condition)

    # -- the one loop -------------------------------------------------------------------

    def steps(self) -> "Generator[Wakeup, dict[int, int], None]":
        """The one loop of every driver: it yields what to sleep on and for how long, and
        is sent what was ready when that sleep ended (``send`` returns the next wake-up);
        it dispatches, then runs user code with no lock held. It ends (StopIteration) once
        the session is released."""
        with self.driving_lock:
            self.driving += 1
        try:
            while self.life.state != State.RELEASED:
                if self.ending():
                    self.release()
                    return
                self.follow()
                for observer in self.observers:
                    observer()  # what changed, said before the sleep
                assert self.reactor is not None
                wakeup = self.reactor.next_wakeup()
                if self.life.ending:
                    # Asked to end since the look above; another thread may have closed
                    # the reactor already, leaving nothing in the wake-up to wake a sleep.
                    continue
                # The waker in this wake-up stays open until this driver is out, so a
                # release in another thread from here on still wakes the sleep.
                ready = yield wakeup
                for call in self.reactor.dispatch(wakeup, ready):
                    call()
                self.events.deliver()
        finally:
            with self.driving_lock:
                self.driving -= 1
                last = not self.driving
            if last and self.life.state == State.RELEASED:
                self.close_waker()

    def wait(self, timeout: "float | None") -> bool:
        """Drive the steps with the OS's sleep until the session is released (True) or
        ``timeout`` seconds have passed (False; it looks at least once). In the main
        thread, a signal that any thread caught wakes the sleep (:class:`SignalWakeup`)."""
        from ..bindings.waiting import sleep
        from .signals import SignalWakeup

        give_up = None if timeout is None else time.monotonic() + timeout
        signalled = SignalWakeup()
        steps = self.steps()
        try:
            signalled.open()
            wakeup = next(steps, None)
            looked = False
            while wakeup is not None:
                limit = wakeup.timeout
                if give_up is not None:
                    left = give_up - time.monotonic()
                    if left <= 0 and looked:
                        return False
                    limit = left if limit is None else min(limit, left)
                looked = True
                ready = sleep(signalled.watched(wakeup.waitables), limit)
                signalled.woke(ready)
                try:
                    wakeup = steps.send(ready)
                except StopIteration:
                    wakeup = None
            return True
        finally:
            steps.close()  # a wait that times out leaves the loop: it is not driving
            signalled.close()

    def ending(self) -> bool:
        """Whether the session is to end now: asked to, or this is a fork's child (whose
        copy ends, "stopped", with no word to the waker it shares with the parent)."""
        if self.life.why is None and os.getpid() != self.pid:
            self.life.why = ("stopped", None, None)
        return self.life.ending

    def on_signal(self, signum: int) -> None:
        if signum:
            self.end("signal", signal=signum)
        else:
            self.end("stopped")  # Windows: the console's Ctrl-C, when it is not handled

    def process_exited(self, pid: int) -> None:
        self.exited.add(pid)
        if self.exited.issuperset(self.session.pids):
            self.end("process-exit", pid=pid)

    # -- letting go ---------------------------------------------------------------------

    def release(self) -> None:
        """Let go of everything, once; whoever comes second waits for the first. Never
        raises, and every call it makes is bounded."""
        life, session = self.life, self.session
        if life.move(State.RELEASED, only_from=(State.NEW,)) is not None:
            return
        began = life.move(State.RELEASING, only_from=LIVE)
        if began is None:  # another thread releases: it is bounded
            life.wait_released(RELEASE_WAIT)
            return
        # A hold being made or let go in another thread finishes first (it is bounded, and
        # stops early once the session is ending).
        switching = self.switching.acquire(timeout=RELEASE_WAIT)
        holdings = self.holdings
        was_holding = holdings is not None and bool(holdings.held)
        try:
            if holdings is not None:
                if self.reactor is not None:
                    # Out of the reactor first (this waits for a dispatch in progress): a
                    # driver's dispatch must not read these connections while the release
                    # reads its replies on them, or one recv takes the other's reply and
                    # the other blocks for ever.
                    holdings.detach(self.reactor)
                if os.getpid() == self.pid:
                    holdings.release()
                else:
                    holdings.abandon()  # a fork's child: the parent holds, and releases
                session.problems.extend(holdings.problems)
            if self.reactor is not None:
                self.reactor.close()  # process watches, the clocks, the waker's source
            self.following.close()  # once no dispatch can call the watchers
        finally:
            life.move(State.RELEASED)
            self.close_waker()  # unless a driver is inside the steps: the last one out does
            assert life.released is not None
            life.released.set()
            for wake in list(life.wakers):
                wake()
            self.restore_signals()
            if switching:
                self.switching.release()
        if was_holding or (self.following.any and began != State.STARTING):
            self.events.emit("ended", ended=life.ended)  # it began: say how it ended
        if was_holding:  # and that it let go
            assert holdings is not None
            names = tuple(a.name for a in holdings.attempts if a.held)
            self.events.emit("released", names, problems=tuple(session.problems))

    def close_waker(self) -> None:
        """Close the waker, once no driver is inside :meth:`steps` (else it waits for the
        last one out, which calls this again)."""
        with self.driving_lock:
            if self.driving:
                return
            waker, self.waker = self.waker, None
        if waker is not None:
            waker.close()

    def restore_signals(self) -> None:
        """Put the signal handlers back, once released, where this thread may (the main)."""
        signals = self.signals
        if signals is not None and self.life.state == State.RELEASED and signals.restore():
            self.signals = None

    def attempts(self) -> "tuple[Attempt, ...]":
        """What the last hold tried, in order, and what came of it."""
        return self.holdings.attempts if self.holdings is not None else ()
