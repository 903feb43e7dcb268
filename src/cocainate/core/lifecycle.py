"""A session's lifecycle: its state, the one place that state changes, why it ends, and
the events that say what happened, delivered outside any lock.

The states and the transitions allowed::

    NEW ──> STARTING ──> HOLDING <──> WAITING      (WAITING: conditions call for no hold)
     │          │           │            │
     │          └───────────┴─────┬──────┘
     │                            v
     └──────────────────────> RELEASING ──> RELEASED   (NEW goes straight to RELEASED)

:meth:`Lifecycle.move` is the only writer of the state. Why the session ends is recorded
once (:meth:`Lifecycle.end`, the first reason wins) without a lock, so a signal handler may
call it; the session's sleepers are woken then.
"""

import _thread
import time
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ..bindings.waiting import Flag
    from .ending import Ended
    from .events import Event


class State:
    """The session's states. (Strings, not an enum: start-up.)"""

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
LIVE = (State.STARTING, State.HOLDING, State.WAITING)
"""The states a session leaves for RELEASING."""


class Lifecycle:
    def __init__(self) -> None:
        self.state = State.NEW
        self._lock = _thread.allocate_lock()  # guards the state, nothing else
        self.why: tuple[str, int | None, int | None] | None = None  # why it ends, raw
        self._ended: Ended | None = None
        self.wakers: list[Callable[[], None]] = []
        """Called each time an end is asked for: they wake whoever sleeps."""
        self.started: Flag | None = None  # set once start() is over, whatever its outcome
        self.released: Flag | None = None  # set once everything is let go

    def move(
        self, to: str, *, only_from: "tuple[str, ...]" = (), live: bool = False
    ) -> "str | None":
        """The one place the state changes: to ``to``, if that is allowed from the state
        now, that state is one of ``only_from`` (if given), and, with ``live``, no end has
        been asked for. Returns the state it left, or None when it did not move."""
        with self._lock:
            now = self.state
            if to not in _NEXT[now] or (only_from and now not in only_from):
                return None
            if live and self.why is not None:
                return None
            self.state = to
            return now

    def begin(self) -> None:
        from ..bindings.waiting import Flag

        self.started, self.released = Flag(), Flag()

    def end(self, reason: str, signal: "int | None" = None, pid: "int | None" = None) -> None:
        """Record why the session ends (an EndReason's value; the first reason wins) and
        wake every sleeper. Safe in a signal handler: it takes no lock and imports nothing."""
        if self.why is None:
            self.why = (reason, signal, pid)
        for wake in list(self.wakers):
            wake()

    @property
    def ending(self) -> bool:
        return self.why is not None

    @property
    def ended(self) -> "Ended | None":
        why = self.why
        if why is not None and self._ended is None:
            from .ending import Ended, EndReason  # when asked for: start-up

            self._ended = Ended(EndReason(why[0]), why[1], why[2])
        return self._ended

    def wait_started(self, timeout: "float | None" = None) -> None:
        if self.started is not None:
            if timeout is None:
                self.started.wait()
            else:
                self.started.wait(timeout)

    def wait_released(self, timeout: float) -> None:
        if self.released is not None:
            self.released.wait(timeout)


class Callers:
    """The threads inside a session's own calls (start, wait, stop), counted, since a
    callback or a signal handler may call in again from the same thread."""

    def __init__(self) -> None:
        self._depth: dict[int, int] = {}

    def enter(self) -> None:
        me = _thread.get_ident()
        self._depth[me] = self._depth.get(me, 0) + 1

    def leave(self) -> None:
        me = _thread.get_ident()
        depth = self._depth[me] - 1
        if depth:
            self._depth[me] = depth
        else:
            del self._depth[me]

    def __len__(self) -> int:
        return len(self._depth)

    def inside(self) -> bool:
        """Whether this thread is inside one of the session's calls."""
        return _thread.get_ident() in self._depth


class Events:
    """Events queued where they happen (under no lock of the session's) and delivered in
    order, from one thread at a time, with no lock held while the listener runs."""

    def __init__(
        self,
        listener: "Callable[[Event], None] | None",
        failed: "Callable[[str], None]",
        interrupted: "Callable[[], None]",
    ) -> None:
        self.listener = listener
        self._failed, self._interrupted = failed, interrupted
        self._lock = _thread.allocate_lock()  # guards the queue only
        self._queue: list[Event] = []
        self._delivering = False
        self.interrupt: BaseException | None = None  # a listener's, raised once released

    def emit(self, kind: str, mechanisms: "tuple[str, ...]" = (), **details: "Any") -> None:
        if self.listener is None:
            return
        now = time.time()  # when it happened, not when the first event's import was done
        from .events import Event  # only for a session that has a listener

        with self._lock:
            self._queue.append(Event(kind, now, mechanisms, **details))

    def deliver(self) -> None:
        """Call the listener with every queued event. A listener's Exception is a problem
        (``failed``) and stops nothing; its KeyboardInterrupt or other BaseException ends
        the session (``interrupted``) and is kept in :attr:`interrupt`, to be raised once
        everything is released."""
        with self._lock:
            if self._delivering or not self._queue:
                return
            self._delivering = True
        try:
            while True:
                with self._lock:
                    if not self._queue:
                        return
                    event = self._queue.pop(0)
                try:
                    assert self.listener is not None
                    self.listener(event)
                except Exception as err:
                    self._failed(f"on_event raised {err!r}")
                except BaseException as err:
                    if self.interrupt is None:
                        self.interrupt = err
                    self._interrupted()
        finally:
            with self._lock:
                self._delivering = False
