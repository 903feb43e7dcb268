"""A timer that fires at a wall-clock time, for ``--until``.

On Linux it is a timerfd on CLOCK_REALTIME armed with an absolute time: the kernel fires
it when the wall clock reaches the target, whatever happened in between (suspend, an NTP
step, a manual clock change), so the session neither ends early nor late and never wakes
to check. Elsewhere the session computes the time left from the wall clock each time it
wakes, which a clock change while it sleeps can make late.
"""

from __future__ import annotations

import os
from typing import Any


class WallClockTimer:
    def __init__(self, timestamp: float) -> None:
        self.timestamp = timestamp
        self._fd = _arm(timestamp)

    def fileno(self) -> int | None:
        return self._fd

    def fired(self) -> bool:
        """Whether the target time has come (reads the timerfd when there is one)."""
        if self._fd is not None:
            try:
                os.read(self._fd, 8)
            except BlockingIOError:
                return False
            return True
        import time

        return time.time() >= self.timestamp

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _arm(timestamp: float) -> int | None:
    import sys
    import time

    if not sys.platform.startswith("linux"):
        return None
    create: Any = getattr(os, "timerfd_create", None)
    if create is not None:  # Python 3.13+
        fd: int = create(time.CLOCK_REALTIME, flags=os.TFD_NONBLOCK | os.TFD_CLOEXEC)  # type: ignore[attr-defined,unused-ignore]
        os.timerfd_settime(fd, flags=os.TFD_TIMER_ABSTIME, initial=timestamp)  # type: ignore[attr-defined,unused-ignore]
        return fd
    return _arm_ctypes(timestamp)


_calls: Any = None  # timerfd's calls and types through ctypes, made once (False: none)


def _timerfd_calls() -> Any:
    """(timerfd_create, timerfd_settime, Itimerspec, Timespec, byref), made on first use:
    made per session they would be new types and function objects each time."""
    global _calls
    if _calls is None:
        import ctypes

        class Timespec(ctypes.Structure):
            _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]

        class Itimerspec(ctypes.Structure):
            _fields_ = [("it_interval", Timespec), ("it_value", Timespec)]

        try:
            libc: Any = ctypes.CDLL(None, use_errno=True)
            _calls = (libc.timerfd_create, libc.timerfd_settime, Itimerspec, Timespec, ctypes.byref)
        except (OSError, AttributeError):
            _calls = False
    return _calls


def _arm_ctypes(timestamp: float) -> int | None:
    calls = _timerfd_calls()
    if not calls:
        return None
    create, settime, itimerspec, timespec, byref = calls
    clock_realtime, abstime = 0, 1
    fd: int = create(clock_realtime, os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0:
        return None
    seconds = int(timestamp)
    value = itimerspec(timespec(0, 0), timespec(seconds, int((timestamp - seconds) * 1e9)))
    if settime(fd, abstime, byref(value), None) != 0:
        os.close(fd)
        return None
    return fd
