"""The reactor: every wake-up source of a session, and the one place the next wake-up is
computed.

A source is an object (never a bare fd number, which the OS reuses) that may want an fd or
handle watched (:meth:`Source.waitable`), a moment (:meth:`Source.when`, monotonic), or
both. The reactor answers :meth:`Reactor.next_wakeup` (what to sleep on and for how long)
and :meth:`Reactor.dispatch` (call the sources that are due); ``Session.wait``,
``Session.wait_async`` and any other driver are thin loops over these two calls and the
OS's sleep (:mod:`cocainate.bindings.waiting`).

Dispatch calls our own handlers under the reactor's lock (each is bounded and never blocks);
a source that runs user code (``Session.watch``) is handed back to the driver instead, to
be called after the lock is released.
"""

import _thread
import time
from typing import TYPE_CHECKING, Callable

from .bindings.waiting import READ

if TYPE_CHECKING:
    from collections.abc import Mapping


class Source:
    """Something a session wakes for. Subclasses override what they use."""

    events = READ
    runs_user_code = False

    def waitable(self) -> "int | None":
        """The fd (POSIX) or handle (Windows) to watch now, or None."""
        return None

    def waitables(self) -> "list[int]":
        """Every fd or handle to watch now (a source watching many overrides this)."""
        w = self.waitable()
        return [] if w is None else [w]

    def when(self) -> "float | None":
        """The monotonic time to be called at, or None."""
        return None

    def fire(self) -> bool:
        """Handle what is due, without blocking; False to be removed."""
        return False

    def close(self) -> None:
        """Release what the source owns (an fd, a handle); called once, at the end."""


class Timer(Source):
    """A moment, and what to do when it comes."""

    def __init__(self, at: "float | None", action: "Callable[[], object]") -> None:
        self.at = at
        self._action = action

    def when(self) -> "float | None":
        return self.at

    def fire(self) -> bool:
        self.at = None
        self._action()
        return True


class Wakeup:
    """What to sleep on, and for how long (None: until something happens)."""

    __slots__ = ("sources", "timeout", "waitables")

    def __init__(
        self,
        waitables: "list[tuple[int, int]]",
        timeout: "float | None",
        sources: "dict[int, Source]",
    ) -> None:
        self.waitables = waitables
        self.timeout = timeout
        self.sources = sources  # this snapshot's waitable -> source, for dispatch


class Reactor:
    def __init__(self) -> None:
        self._lock = _thread.allocate_lock()
        self._sources: dict[Source, None] = {}  # an ordered set
        self._calling: set[Source] = set()  # user-code sources being called right now
        self.closed = False

    def add(self, source: "Source") -> None:
        with self._lock:
            if self.closed:
                source.close()
                return
            self._sources[source] = None

    def remove(self, source: "Source") -> None:
        """Stop watching ``source`` and close it (a wake-up already computed that names it
        no longer calls it)."""
        with self._lock:
            self._drop(source)

    def _drop(self, source: "Source") -> None:
        if self._sources.pop(source, False) is None:
            source.close()

    def next_wakeup(self, now: "float | None" = None) -> "Wakeup":
        now = time.monotonic() if now is None else now
        waitables: list[tuple[int, int]] = []
        sources: dict[int, Source] = {}
        soonest: float | None = None
        with self._lock:
            for source in self._sources:
                if source in self._calling:
                    continue
                for w in source.waitables():
                    if w not in sources:
                        waitables.append((w, source.events))
                        sources[w] = source
                at = source.when()
                if at is not None and (soonest is None or at < soonest):
                    soonest = at
        timeout = None if soonest is None else max(0.0, soonest - now)
        return Wakeup(waitables, timeout, sources)

    def dispatch(self, wakeup: "Wakeup", ready: "Mapping[int, int]") -> "list[Callable[[], None]]":
        """Call the sources that are due: ready in ``wakeup``'s snapshot (if still
        registered: the object, not the number, decides) or past their time. Returns the
        user-code calls, for the caller to make once no lock is held."""
        deferred: list[Callable[[], None]] = []
        with self._lock:
            now = time.monotonic()
            due: dict[Source, None] = {
                wakeup.sources[w]: None for w in ready if w in wakeup.sources
            }
            for source in self._sources:
                at = source.when()
                if at is not None and at <= now:
                    due[source] = None
            for source in due:
                if source not in self._sources or source in self._calling:
                    continue
                if source.runs_user_code:
                    self._calling.add(source)
                    deferred.append(self._deferred(source))
                elif not source.fire():
                    self._drop(source)
        return deferred

    def _deferred(self, source: "Source") -> "Callable[[], None]":
        def call() -> None:
            keep = False
            try:
                keep = source.fire()
            finally:
                with self._lock:
                    self._calling.discard(source)
                    if not keep:
                        self._drop(source)

        return call

    def close(self) -> None:
        """Close every source, once."""
        with self._lock:
            self.closed = True
            sources, self._sources = list(self._sources), {}
        for source in sources:
            source.close()
