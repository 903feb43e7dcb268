"""Timers that fire at a moment of a clock that keeps counting while the machine sleeps:
the wall clock, for ``--until``, and the boot clock, for ``-d``.

On Linux each is a timerfd armed with an absolute time, on CLOCK_REALTIME or
CLOCK_BOOTTIME: the kernel fires it when that clock reaches the target, whatever happened
in between (a suspend, an NTP step, a manual clock change), so the session ends neither
early nor late and never wakes to check. ``-d 1h`` is one hour of real time, a suspend
included, as ``--until`` is. Elsewhere the session computes the time left from the clock
each time it wakes: there a duration counts the time the machine is awake (macOS's and
Windows' waits do not count sleep), and a wall-clock change while it sleeps makes
``--until`` late.
"""

import errno
import os
import sys
import time
from typing import Any

REALTIME = "realtime"
BOOTTIME = "boottime"
_IDS = {REALTIME: 0, BOOTTIME: 7}  # the kernel's CLOCK_REALTIME and CLOCK_BOOTTIME


def now(clock: str) -> float:
    """The time on ``clock``: the wall clock, or the boot clock (CLOCK_BOOTTIME on Linux,
    which counts a suspend; elsewhere ``time.monotonic()``, which does not)."""
    if clock == REALTIME:
        return time.time()
    if sys.platform.startswith("linux"):
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    return time.monotonic()


class ClockTimer:
    """Fires when ``clock`` reaches ``timestamp``; with ``on_step`` (the wall clock, on
    Linux), also when the clock is set (a step by NTP or by hand), as the kernel says
    (TFD_TIMER_CANCEL_ON_SET), so that what was computed from the time is computed again."""

    def __init__(self, timestamp: float, clock: str = REALTIME, on_step: bool = False) -> None:
        self.timestamp = timestamp
        self.clock = clock
        self._fd = _arm(timestamp, _IDS[clock], on_step and clock == REALTIME)

    def fileno(self) -> "int | None":
        return self._fd

    def fired(self) -> bool:
        """Whether the target time has come (reads the timerfd when there is one)."""
        if self._fd is not None:
            try:
                os.read(self._fd, 8)
            except BlockingIOError:
                return False
            except OSError as err:
                if err.errno != errno.ECANCELED:
                    raise
                return True  # the clock was set: the caller looks at the time again
            return True
        return now(self.clock) >= self.timestamp

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


_ABSTIME, _CANCEL_ON_SET = 1, 2  # the kernel's TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET


def _arm(timestamp: float, clock_id: int, on_step: bool = False) -> "int | None":
    from . import waiting

    if not sys.platform.startswith("linux") or waiting.WINDOWS:  # (Windows' logic, tested here)
        return None
    create: Any = getattr(os, "timerfd_create", None)
    if create is not None:  # Python 3.13+
        fd: int = create(clock_id, flags=os.TFD_NONBLOCK | os.TFD_CLOEXEC)  # type: ignore[attr-defined,unused-ignore]
        flags = _ABSTIME | (_CANCEL_ON_SET if on_step else 0)
        os.timerfd_settime(fd, flags=flags, initial=timestamp)  # type: ignore[attr-defined,unused-ignore]
        return fd
    return _arm_ctypes(timestamp, clock_id, on_step)


_calls: "Any" = None  # timerfd's calls and types through ctypes, made once (False: none)


def _timerfd_calls() -> "Any":
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


def _arm_ctypes(timestamp: float, clock_id: int, on_step: bool = False) -> "int | None":
    calls = _timerfd_calls()
    if not calls:
        return None
    create, settime, itimerspec, timespec, byref = calls
    flags = _ABSTIME | (_CANCEL_ON_SET if on_step else 0)
    fd: int = create(clock_id, os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0:
        return None
    seconds = int(timestamp)
    value = itimerspec(timespec(0, 0), timespec(seconds, int((timestamp - seconds) * 1e9)))
    if settime(fd, flags, byref(value), None) != 0:
        os.close(fd)
        return None
    return fd
