"""Live watchers of the conditions (:mod:`cocainate.conditions`), one per session.

A watcher says whether its condition is met now (:attr:`Watcher.met`) and, in a few words,
why (:attr:`Watcher.detail`: ``"ffmpeg runs (pid 4242)"``, ``"on battery"``). It hands the
session's reactor the sources it needs (:meth:`Watcher.open`); those sources update it when
something changes, and the session compares what the watchers say with what it holds after
each wake-up. :meth:`Watcher.open` is bounded in time and raises a
:class:`~cocainate.errors.ConditionError` naming the problem when the condition cannot be
watched here at all; everything after it is non-blocking.

When what a watcher follows goes away for good (the X server, the compositor), it says so
with :attr:`Watcher.report` ``(why, True)``: the session ends, as it would have failed to
start without it. Something that may come back (UPower leaving the bus) is said with
``(why, False)``, and the session goes on.
"""

from typing import Callable

from ..reactor import Source


class Watcher:
    def __init__(self) -> None:
        self.met = False
        self.detail = ""
        self.report: Callable[[str, bool], None] = lambda why, ends: None
        """Set by the session: called with why the watcher lost what it follows, and
        whether the session must end for it (True: nothing can be followed any more)."""

    def open(self) -> "list[Source]":
        """Start watching; the sources the reactor must watch for this watcher."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop watching and release what it owns (fds, connections). Idempotent."""


class ConnectionSource(Source):
    """A watcher's connection (an X server, a compositor): wake when ``fileno()`` is
    readable and call ``readable()``, which says False once the connection has gone."""

    def __init__(self, fileno: "Callable[[], int | None]", readable: "Callable[[], bool]") -> None:
        self._fileno, self._readable = fileno, readable

    def waitable(self) -> "int | None":
        return self._fileno()

    def fire(self) -> bool:
        return self._readable()
