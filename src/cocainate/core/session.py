"""A session: hold every usable mechanism until a duration, a time, a signal, process exits
or stop(), then let go, always.

A facade: its arguments and the library's API over its parts: its lifecycle (the state,
why it ends, the events), what it follows, and one run (what it waits for and holds, the
one step loop every driver runs, the one way out). User code never runs under a lock.
"""

from typing import TYPE_CHECKING, Any, overload

from .. import mechanisms
from ..errors import SessionError, UsageError
from ..mechanisms import Attempt, Mode
from . import arguments
from .arguments import default_reason, seconds, timestamp
from .arguments import pids as pids_of
from .arguments import reason as check_reason
from .following import Following
from .lifecycle import Callers, Events, Lifecycle, State
from .running import RELEASE_WAIT, Run
from .sources import ProcessSource, UserSource

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import datetime

    from ..conditions import Condition
    from .arguments import DurationLike
    from .ending import Ended
    from .events import Event


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

    With ``conditions`` (:class:`~cocainate.ProcessRunning`...), it holds only while one
    is met; with ``gates`` (:class:`~cocainate.Hours`...), only while every one is met, and
    ``only_on_ac`` only on mains power (a gate); with ``linger`` (seconds), a hold is let
    go only once the conditions have been unmet that long; they are followed while the session is
    waited on (:meth:`wait`, :meth:`wait_async`, :meth:`run`). With ``lid`` (mode
    ``"system"``, Linux), closing the lid does not suspend either (logind's
    ``handle-lid-switch`` lock, the ``logind-lid`` mechanism). :meth:`stop` may be called
    from any thread, from a signal handler, and more than once. As a context manager, the
    session starts on entry and is released on exit.
    """

    def __init__(
        self,
        duration: "DurationLike" = None,
        pids: "Iterable[int] | int" = (),
        reason: "str | None" = None,
        mode: "Mode | str" = Mode.DISPLAY,
        methods: "Iterable[str] | str | None" = None,
        handle_signals: bool = False,
        until: "datetime | float | None" = None,
        on_event: "Callable[[Event], None] | None" = None,
        conditions: "Iterable[Condition] | Condition" = (),
        only_on_ac: bool = False,
        gates: "Iterable[Condition] | Condition" = (),
        linger: "DurationLike" = None,
        lid: bool = False,
    ) -> None:
        self.mode = arguments.mode(mode)
        self.duration = seconds(duration)
        self.pids = pids_of(pids)
        self.reason = check_reason(reason) or default_reason(self.mode)
        self._methods = arguments.methods(methods)
        entries = mechanisms.select(self._methods)  # unknown names: UsageError now
        self.lid = bool(lid)
        if self.lid:
            entries = arguments.with_lid(entries, self.mode)
        self.handle_signals = handle_signals
        self.until = timestamp(until)
        arguments.callback(on_event, "on_event")
        self.on_event = on_event
        self.conditions = arguments.conditions(conditions)
        self.only_on_ac = bool(only_on_ac)
        self.gates = arguments.conditions(gates)
        self.linger = seconds(linger, "linger") or 0.0
        self.problems: list[str] = []
        """Problems met while holding or releasing (the release still completed)."""
        self.held_at: float | None = None
        """``time.monotonic()`` when the hold was in place (the duration counts from it)."""
        self.failure: Exception | None = None
        """With conditions: what ended the session when it failed (NoMechanismError:
        nothing could be held; ConditionError: a condition could no longer be followed)."""
        self._life = life = Lifecycle()
        self._callers = Callers()  # a thread inside start/wait/stop: stop() there only asks
        self._events = Events(on_event, self.problems.append, lambda: life.end("stopped"))
        gating = arguments.gates(self.gates, only_on_ac)
        self._following = Following(self.conditions, gating, self.linger)
        self._run = Run(self, entries, self._methods, life, self._events, self._following)

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
    def attempts(self) -> "tuple[Attempt, ...]":
        """What was tried at start, in order, and what came of it."""
        return self._run.attempts()

    @property
    def acquired(self) -> "tuple[Attempt, ...]":
        """The mechanisms acquired at start, or with conditions at the last hold (they
        may have been lost or released since)."""
        return tuple(a for a in self.attempts if a.held)

    @property
    def holding(self) -> "tuple[str, ...]":
        """The mechanisms holding now: none unless the session is holding, and none lost."""
        holdings = self._run.holdings
        return holdings.holding if holdings is not None and self.state == State.HOLDING else ()

    @property
    def active(self) -> bool:
        """True from a successful start until the release begins (holding, or waiting)."""
        return self.state in (State.HOLDING, State.WAITING)

    @property
    def ended(self) -> "Ended | None":
        """Why the session ended (or is ending), once it has."""
        return self._life.ended

    @property
    def remaining(self) -> "float | None":
        """Seconds until the duration or the ``until`` time ends it, or None without either."""
        return self._run.remaining()

    @property
    def ends_at(self) -> "float | None":
        """The wall-clock time (a timestamp) the duration or ``until`` ends it, or None
        without either."""
        return self._run.ends_at()

    @property
    def condition_states(self) -> "tuple[tuple[str, bool, bool, str], ...]":
        """Each condition, then each gate (mains power, with ``only_on_ac``) as ``(what, met, on,
        why)``: whether it calls for a hold now, whether it is on (not paused alone), and
        why in a few words."""
        return tuple(self._following.states())

    def __repr__(self) -> str:
        holding = ", ".join(self.holding) or "nothing"
        return f"<Session {self.state} mode={self.mode.value} holding {holding}>"

    # -- start ------------------------------------------------------------------------

    def start(self) -> "Session":
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
                self._run.open()
            except BaseException:
                life.end("stopped")
                self._run.release()
                raise
            holding = self._run.holdings is not None
            if life.move(State.HOLDING if holding else State.WAITING, live=True) is None:
                self._run.release()
                raise SessionError(f"the session was stopped while starting ({self.ended})")
            self._run.started()  # the duration counts from here; and it is said
        finally:
            self._callers.leave()
            assert life.started is not None
            life.started.set()
        self._finish_call()
        if not self.active:
            raise SessionError(f"the session was stopped while starting ({self.ended})")
        return self

    # -- adding to a running session ----------------------------------------------------

    def add_pid(self, pid: int) -> None:
        """Also wait for process ``pid`` (one started after the session, say): the session
        then ends when every watched process has exited. A PID already watched changes
        nothing."""
        (pid,) = pids_of([pid])
        if not self.active:
            raise SessionError("processes can be added only to a holding or waiting session")
        if pid in self.pids:
            return
        source = ProcessSource(pid, self._run.process_exited)  # raises for no such process
        self.pids = (*self.pids, pid)
        self._run.add(source)

    def watch(self, source: "Any") -> None:
        """Also wake when ``source.fileno()`` turns readable (or writable, if
        ``source.events`` says WRITE) and call ``source.on_readable(fd)`` then (True to
        keep watching; no lock is held meanwhile). ``fileno()`` may return None for "not
        now". For a program's own event source, such as the CLI's keyboard."""
        arguments.source(source)
        self._run.add(UserSource(source))

    def extend(self, duration: "DurationLike") -> None:
        """End ``duration`` (seconds or a timedelta) later than it would have: the
        duration and the ``until`` time both move. A :class:`SessionError` for a session
        without an end, or one not holding or waiting."""
        by = seconds(duration, "extend's duration")
        if by is None:
            raise UsageError("extend by a duration above 0")
        if self.remaining is None:
            raise SessionError("the session has no end to extend (give it one with end_at())")
        self._run.change_end(by=by)

    def end_at(self, until: "datetime | float | None") -> None:
        """End at the wall-clock time ``until`` (a datetime or a timestamp) instead of when
        it would have; None: no end (it then ends only as asked, or as its processes
        do). A :class:`SessionError` for a session not holding or waiting."""
        self._run.change_end(until=timestamp(until))

    def pause(self, condition: "Condition | None" = None) -> None:
        """Let go until :meth:`resume`, the conditions still followed; or, given one of the
        session's conditions, let that one alone call for nothing. From any thread or a
        signal handler, any number of times."""
        self._run.steer(True, self._following.index(condition))

    def resume(self, condition: "Condition | None" = None) -> None:
        """Undo :meth:`pause` (of the session, or of ``condition``)."""
        self._run.steer(False, self._following.index(condition))

    @property
    def paused(self) -> bool:
        return self._following.paused

    @property
    def paused_conditions(self) -> "tuple[Condition, ...]":
        return tuple(c for i, c in enumerate(self.conditions) if i in self._following.off)

    def publish(self, kind: str = "program") -> str:
        """Make this running session reachable on the session bus (``cocainate status``,
        ``stop``, ``toggle``..., :func:`cocainate.find_sessions`) until it is released, under
        a name of its own, which is returned; ``kind`` says what it is ("hold", "watch"...).
        A :class:`MechanismError` when there is no session bus."""
        kind = arguments.kind(kind)
        if not self.active:
            raise SessionError("only a holding or waiting session can be published")
        from .published import Published

        published = Published(self, self._run, kind)
        self._run.observers.append(published.changed)
        self._run.add(published)
        return published.name

    # -- waiting ------------------------------------------------------------------------

    @overload
    def wait(self) -> "Ended": ...

    @overload
    def wait(self, timeout: float) -> "Ended | None": ...

    def wait(self, timeout: "float | None" = None) -> "Ended | None":
        """Block until the session ends and is released; return why it ended. With
        ``timeout`` (seconds), None if it is still going by then. An exception raised
        while waiting (KeyboardInterrupt...) ends the session first."""
        if timeout is not None:
            timeout = arguments.timeout(timeout)
        if self.state == State.NEW or self._life.started is None:
            raise SessionError("start the session before waiting for it")
        self._callers.enter()
        try:
            self._life.wait_started()  # a start in another thread finishes first (bounded)
            if not self._run.wait(timeout):
                return None
        except BaseException:
            self._life.end("stopped")
            self._run.release()
            raise
        finally:
            self._callers.leave()
            self._finish_call()
        self._life.wait_released(RELEASE_WAIT)
        assert self.ended is not None
        return self.ended

    async def wait_async(self) -> "Ended":
        """``await`` the end of the session without blocking the event loop (asyncio or
        trio); cancelling it leaves the session running."""
        if self.state == State.NEW or self._life.started is None:
            raise SessionError("start the session before waiting for it")
        from .drivers import wait_async

        self._life.wait_started()  # a start in another thread finishes first (bounded)
        await wait_async(self._run.steps(), self._life.wakers)
        return self.wait()  # the release, bounded (done by now), and why it ended

    # -- ending -------------------------------------------------------------------------

    def stop(self) -> None:
        """End the session and release everything it holds; safe anywhere, any number of
        times. From a thread inside :meth:`start` or :meth:`wait` (a signal handler, a
        callback) it only asks, and that call releases before it returns; elsewhere it
        returns once the session is released."""
        self._life.end("stopped")
        if self._callers.inside():
            return
        if self._life.move(State.RELEASED, only_from=(State.NEW,)) is not None:
            return
        self._life.wait_started(RELEASE_WAIT)  # a start in another thread finishes first
        self._callers.enter()
        try:
            self._run.release()
        finally:
            self._callers.leave()
            self._finish_call()

    def run(self) -> "Ended":
        """Start, wait for the end, release; return why it ended."""
        with self:
            return self.wait()

    def __enter__(self) -> "Session":
        return self.start()

    def __exit__(self, kind: "type[BaseException] | None", *rest: object) -> None:
        self.stop()

    def _finish_call(self) -> None:
        """Deliver what is queued, put the signal handlers back if the release could not,
        and raise a callback's KeyboardInterrupt (or other BaseException) once released."""
        self._events.deliver()
        self._run.restore_signals()
        err, self._events.interrupt = self._events.interrupt, None
        if err is None:
            return
        if self.state != State.RELEASED and not self._callers.inside():
            self._run.release()
            self._events.deliver()
        raise err
