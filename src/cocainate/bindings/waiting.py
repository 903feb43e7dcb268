"""The OS's ways to sleep until something happens, behind the reactor's one interface.

- :class:`Waker`: wakes every sleeper from any thread or a signal handler: a pipe on POSIX
  (left full once the session ends, so that every later sleep returns at once), a
  manual-reset event on Windows.
- :func:`sleep`: sleep on waitables (fds on POSIX, handles on Windows) until one is ready
  or the timeout passes: ``poll`` or ``WaitForMultipleObjects``.

(:mod:`.poller` has the one fd that stands for many, for event loops.)

None of them polls: each blocks until something happens or the timeout passes.
"""

import math
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

READ, WRITE = 0x001, 0x004  # POLLIN and POLLOUT's values on every POSIX system we run on
MAX_WAIT_MS = 2**31 - 1  # poll() and WaitForMultipleObjects take 32-bit milliseconds
WINDOWS = sys.platform == "win32"
"""Whether the Windows ways are used (tests of the Windows logic on Linux set it)."""


class Flag:
    """threading.Event's set and wait, on a bare lock (not threading: start-up)."""

    def __init__(self) -> None:
        import _thread

        self._lock = _thread.allocate_lock()
        self._lock.acquire()

    def is_set(self) -> bool:
        return not self._lock.locked()

    def set(self) -> None:
        if self._lock.locked():
            try:
                self._lock.release()
            except RuntimeError:  # another thread set it first
                pass

    def wait(self, timeout: float = -1) -> bool:
        if self._lock.acquire(timeout=timeout):  # until set; waiters then pass one by one
            self._lock.release()
            return True
        return False


def milliseconds(timeout: "float | None") -> "int | None":
    """A timeout in seconds as poll's milliseconds: rounded up, so a sleep never ends early
    and wakes again for nothing; capped to what the call takes (a longer wait is cut)."""
    if timeout is None:
        return None
    return min(MAX_WAIT_MS, max(0, math.ceil(timeout * 1000)))


class Waker:
    """Wakes every sleeper, from any thread or a signal handler."""

    def __init__(self) -> None:
        import _thread

        self._lock = _thread.allocate_lock()  # a write never meets a close
        self.final = False
        self._windows = WINDOWS
        if self._windows:
            from .win32 import kernel32

            self._k32 = kernel32()
            self.handle: int = self._k32.create_event()
        else:
            self._read, self._write = os.pipe()
            os.set_blocking(self._read, False)
            os.set_blocking(self._write, False)
            self.handle = self._read

    def wake(self, final: bool = False) -> None:
        """Wake every sleeper; ``final``: and every later sleep too. Never blocks or raises."""
        if final:
            self.final = True
        if not self._lock.acquire(blocking=False):
            return  # another thread is writing (which wakes everyone) or closing
        try:
            if self.handle < 0:
                return
            if self._windows:
                self._k32.set_event(self.handle)
            else:
                os.write(self._write, b"!")
        except OSError:
            pass  # full: it is readable already
        finally:
            self._lock.release()

    def clear(self) -> None:
        """After a wake that was not final: sleep again until the next one."""
        if self.final or self.handle < 0:
            return
        with self._lock:
            if self._windows:
                self._k32.reset_event(self.handle)
                if self.final:  # a final wake came meanwhile: stay set
                    self._k32.set_event(self.handle)
                return
            try:
                while os.read(self._read, 512):
                    pass
            except OSError:
                pass
            if self.final:  # a final wake came while draining: stay readable
                os.write(self._write, b"!")

    def close(self) -> None:
        with self._lock:
            if self.handle < 0:
                return
            if self._windows:
                self._k32.close_handle(self.handle)
            else:
                os.close(self._read)
                os.close(self._write)
            self.handle = -1


def sleep(
    waitables: "Sequence[tuple[int, int]]", timeout: "float | None", extra: "int | None" = None
) -> "dict[int, int]":
    """Sleep until one of ``waitables`` ((fd or handle, READ/WRITE) pairs) is ready or
    ``timeout`` seconds pass; return the ready ones with their events. ``extra``: one
    more handle (Windows), for a caller's own cancellation."""
    ms = milliseconds(timeout)
    if sys.modules[__name__].WINDOWS:
        handles = [w for w, _ in waitables]
        if extra is not None:
            handles.append(extra)
        index = _wait_handles(handles, ms)
        return {} if index is None else {handles[index]: READ}
    import select

    poller = select.poll()
    for fd, events in waitables:
        poller.register(fd, events)
    try:
        return dict(poller.poll(ms))
    except InterruptedError:  # a signal whose handler raised nothing: look again
        return {}


MAXIMUM_WAIT_OBJECTS = 64
"""The most handles one WaitForMultipleObjects takes."""
GROUP = MAXIMUM_WAIT_OBJECTS - 1  # and one more: the event that ends every group's wait


def _wait_handles(handles: "Sequence[int]", ms: "int | None") -> "int | None":
    """The index of a signalled handle among ``handles``, or None when ``ms`` passed first.
    Beyond what one call takes (``-p`` with many processes), each group of
    :data:`GROUP` handles is waited on by a thread of its own, beside one event that the
    first to see a handle signalled sets, and that ends every group's wait."""
    from .win32 import kernel32

    k32 = kernel32()
    if len(handles) <= MAXIMUM_WAIT_OBJECTS:
        index: int | None = k32.wait_any(handles, ms)
        return index
    import _thread

    done = k32.create_event()
    found: list[int] = []
    failed: list[BaseException] = []
    ended: list[Flag] = []

    def watch(base: int, group: "Sequence[int]", flag: "Flag") -> None:
        try:
            index = k32.wait_any([*group, done], None)
            if index is not None and index < len(group):
                found.append(base + index)
        except BaseException as err:
            failed.append(err)
        finally:
            k32.set_event(done)
            flag.set()

    try:
        for base in range(0, len(handles), GROUP):
            flag = Flag()
            _thread.start_new_thread(watch, (base, handles[base : base + GROUP], flag))
            ended.append(flag)
        k32.wait_any([done], ms)
    finally:
        k32.set_event(done)
        for flag in ended:
            flag.wait(2.0)  # each ends as soon as it sees the event
        k32.close_handle(done)
    if failed:
        raise failed[0]
    return min(found) if found else None
