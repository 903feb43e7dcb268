"""What a session wakes for, each a :class:`~cocainate.reactor.Source` that calls back the
part of the session it serves: the waker, a watched process, a clock, a watcher, a held
mechanism's connection, a bus shared by the D-Bus mechanisms, a program's own source."""

import time
from typing import TYPE_CHECKING, Any, Callable

from ..reactor import Source

if TYPE_CHECKING:
    from ..bindings.buses import Resources
    from ..bindings.waiting import Waker
    from ..mechanisms import Mechanism
    from ..watchers import Watcher


class WakeSource(Source):
    """The waker: a stop, a signal, a new source; cleared unless the session is ending."""

    def __init__(self, waker: "Waker") -> None:
        self._waker = waker

    def waitable(self) -> "int | None":
        handle = self._waker.handle
        return handle if handle >= 0 else None

    def fire(self) -> bool:
        self._waker.clear()
        return True


class ProcessSource(Source):
    """One watched process: a pidfd, kqueue or process handle, readable once it exits;
    then ``exited(pid)``. Raises for a PID that is not a process (or not ours to watch)."""

    def __init__(self, pid: int, exited: "Callable[[int], None]") -> None:
        from ..bindings.process import open_process

        self.pid, self._exited = pid, exited
        self._watch: Any = open_process(pid)

    def waitable(self) -> "int | None":
        return self._watch.fileno() if self._watch is not None else None

    def fire(self) -> bool:
        self._exited(self.pid)
        return False

    def close(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.close()


class ClockSource(Source):
    """``until`` on the wall clock, or a duration on the boot clock: a timerfd on Linux
    (:mod:`..bindings.wallclock`), else the clock read at each wake; ``due()`` then."""

    def __init__(self, at: float, clock: str, due: "Callable[[], None]") -> None:
        from ..bindings.wallclock import ClockTimer

        self.at, self._clock, self._due = at, clock, due
        self._timer: Any = ClockTimer(at, clock)

    def left(self) -> float:
        from ..bindings.wallclock import now

        return max(0.0, self.at - now(self._clock))

    def waitable(self) -> "int | None":
        return self._timer.fileno() if self._timer is not None else None

    def when(self) -> "float | None":
        if self._timer is None or self._timer.fileno() is not None:
            return None
        from ..bindings.wallclock import now

        # Not clamped at 0: once past, it is due (earlier than the dispatcher's "now").
        return time.monotonic() + (self.at - now(self._clock))

    def fire(self) -> bool:
        if self._timer is not None and self._timer.fired():
            self._due()
        return True

    def close(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.close()


class WatcherSource(Source):
    """A watcher's source, guarded: a watcher that fails (a bug, a reply it cannot read)
    stops watching and counts as not met, ``failed(why)`` says so, and the session goes on."""

    def __init__(
        self, watcher: "Watcher", source: "Source", failed: "Callable[[str], None]"
    ) -> None:
        self._watcher, self._source, self._failed = watcher, source, failed
        self.events = source.events

    def waitables(self) -> "list[int]":
        return self._source.waitables()

    def when(self) -> "float | None":
        return self._source.when()

    def fire(self) -> bool:
        try:
            return self._source.fire()
        except Exception as err:
            watcher = self._watcher
            watcher.met = False
            watcher.detail = f"stopped watching: unexpected {type(err).__name__}: {err}"
            self._failed(f"{watcher.detail} (a bug in cocainate)")
            watcher.close()
            return False

    def close(self) -> None:
        self._source.close()


class MechanismSource(Source):
    """A held mechanism's connection (an X server, a compositor): read what arrives; its
    end is the hold's end, ``lost(mechanism)``."""

    def __init__(self, mechanism: "Mechanism", lost: "Callable[[Mechanism], None]") -> None:
        self.mechanism, self._lost = mechanism, lost

    def waitable(self) -> "int | None":
        fds = self.mechanism.fds()
        return fds[0] if fds else None

    def fire(self) -> bool:
        if self.mechanism.on_readable(self.waitable() or -1):
            return True
        self._lost(self.mechanism)
        return False


class BusSource(Source):
    """One bus connection shared by the D-Bus mechanisms: name changes, replies awaited,
    timers, and reconnecting."""

    def __init__(self, resources: "Resources", kind: str) -> None:
        self._resources, self._kind = resources, kind

    def waitable(self) -> "int | None":
        return self._resources.fd(self._kind)

    def when(self) -> "float | None":
        return self._resources.retry_at(self._kind)

    def fire(self) -> bool:
        self._resources.service(self._kind)
        return True


class UserSource(Source):
    """A program's own source (``Session.watch``): its code runs with no lock held."""

    runs_user_code = True

    def __init__(self, source: "Any") -> None:
        from ..bindings.waiting import READ

        self._source = source
        self.events = getattr(source, "events", READ)

    def waitable(self) -> "int | None":
        fd: int | None = self._source.fileno()
        return fd

    def fire(self) -> bool:
        fd = self._source.fileno()
        if fd is None:  # nothing to watch any more since the wake-up: keep it for later
            return True
        return bool(self._source.on_readable(fd))
