"""What a session sleeps on: a wake-up primitive, the watched processes and mechanism fds.

Two implementations with one small interface, chosen by platform:

- :class:`PollWaiter` (Linux, macOS, BSD): a never-drained pipe to wake every waiter at
  once, one pidfd (Linux) or kqueue (macOS, BSD) per process, and ``poll()``.
- :class:`WindowsWaiter`: a manual-reset event, one process handle per process opened with
  ``SYNCHRONIZE``, and ``WaitForMultipleObjects``.

Neither polls: ``wait`` blocks until something happens or the timeout (the time left to the
session's deadline) passes.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable


class Flag:
    """threading.Event's set and wait, on a bare lock: importing threading costs start-up."""

    def __init__(self) -> None:
        import _thread

        self._lock = _thread.allocate_lock()
        self._lock.acquire()

    def set(self) -> None:
        if self._lock.locked():
            self._lock.release()

    def wait(self, timeout: float = -1) -> None:
        if self._lock.acquire(timeout=timeout):  # until set; waiters then pass one by one
            self._lock.release()


# poll() and WaitForMultipleObjects take milliseconds as 32-bit integers.
MAX_WAIT_MS = 2**31 - 1


class PollWaiter:
    def __init__(self) -> None:
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._watches: dict[int, tuple[int, Any]] = {}  # fd -> (pid, watch)

    def add_process(self, pid: int) -> None:
        from ._process import open_process

        watch = open_process(pid)
        self._watches[watch.fileno()] = (pid, watch)

    def on_console(self, callback: Callable[[int], bool]) -> None:
        """Windows console control events; POSIX has signals instead."""

    def fds(self, skip: Collection[int]) -> list[int]:
        """The fds a wait sleeps on, for an event loop: wake-up, and processes not in ``skip``."""
        return [self._wake_r, *(fd for fd, (pid, _) in self._watches.items() if pid not in skip)]

    def wake(self) -> None:
        """Wake every waiter, now and for ever after; never raises."""
        try:
            os.write(self._wake_w, b"!")  # never drained, so the pipe stays readable
        except OSError:
            pass

    def wait(
        self, ms: int | None, skip: Collection[int], fds: Iterable[int]
    ) -> tuple[list[int], list[int]]:
        """Sleep up to ``ms`` (None: no limit); return (exited PIDs, readable ``fds``).

        Processes in ``skip`` (already seen exiting) are not watched again.
        """
        import select

        poller = select.poll()
        poller.register(self._wake_r, select.POLLIN)
        for fd, (pid, _) in self._watches.items():
            if pid not in skip:
                poller.register(fd, select.POLLIN)
        extra = set(fds)
        for fd in extra:
            poller.register(fd, select.POLLIN)
        exited, readable = [], []
        for fd, _ in poller.poll(ms):
            if fd in self._watches:
                exited.append(self._watches[fd][0])
            elif fd in extra:
                readable.append(fd)
        return exited, readable

    def close(self) -> None:
        for _, watch in self._watches.values():
            watch.close()
        self._watches.clear()
        os.close(self._wake_r)
        os.close(self._wake_w)


class WindowsWaiter:
    def __init__(self, kernel32: Any = None) -> None:
        if kernel32 is None:
            from ._win32 import kernel32 as load

            kernel32 = load()
        self._k32 = kernel32
        self._event = kernel32.create_event()
        self._processes: dict[int, int] = {}  # handle -> pid
        self._remove_console: Callable[[], None] | None = None

    def add_process(self, pid: int) -> None:
        self._processes[self._k32.open_process(pid)] = pid

    def on_console(self, callback: Callable[[int], bool]) -> None:
        """Call ``callback`` on Ctrl-C, Ctrl-Break and console close until :meth:`close`."""
        self._remove_console = self._k32.console_handler(callback)

    def wake(self) -> None:
        self._k32.set_event(self._event)

    def wait(
        self, ms: int | None, skip: Collection[int], fds: Iterable[int]
    ) -> tuple[list[int], list[int]]:
        handles = [self._event] + [h for h, pid in self._processes.items() if pid not in skip]
        index = self._k32.wait_any(handles, ms)
        if index is None or index == 0:
            return [], []
        return [self._processes[handles[index]]], []

    def close(self) -> None:
        if self._remove_console is not None:
            self._remove_console()
            self._remove_console = None
        for handle in self._processes:
            self._k32.close_handle(handle)
        self._processes.clear()
        self._k32.close_handle(self._event)


def make_waiter() -> PollWaiter | WindowsWaiter:
    return WindowsWaiter() if sys.platform == "win32" else PollWaiter()
