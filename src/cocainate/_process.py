"""Watching a process for exit without polling: a pidfd on Linux, a kqueue on macOS/BSD.

Each returns a watch with ``fileno()`` (readable once the process has exited) and
``close()``. Both name one process, not a number, so a PID reused after the exit cannot
fool them. Windows uses process handles instead (:mod:`cocainate._win32`).
"""

from __future__ import annotations

import errno
import os
from typing import Any

from .errors import ProcessNotFoundError, SessionError, UsageError


class _PidFd:
    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd

    def close(self) -> None:
        os.close(self._fd)


def open_process(pid: int) -> Any:
    """Return a watch on process ``pid``; raise ProcessNotFoundError if there is none."""
    if hasattr(os, "pidfd_open"):
        return _PidFd(_pidfd(pid))
    import select

    if hasattr(select, "kqueue"):
        return _kqueue(pid)
    raise SessionError("waiting for a process is not supported on this platform")


def _pidfd(pid: int) -> int:
    try:
        fd: int = os.pidfd_open(pid)
    except ProcessLookupError as err:
        raise ProcessNotFoundError(pid) from err
    except OSError as err:
        if err.errno == errno.EINVAL:
            raise UsageError(f"{pid} is not the PID of a process (a thread ID?)") from err
        if err.errno == errno.ENOSYS:
            raise SessionError(
                "waiting for a process needs pidfd_open (Linux 5.3 or newer)"
            ) from err
        raise SessionError(f"cannot watch process {pid}: {err.strerror}") from err
    return fd


def _kqueue(pid: int) -> Any:
    import select

    sel: Any = select  # kqueue names exist only where kqueue does
    kq = sel.kqueue()
    exit_event = sel.kevent(
        pid,
        filter=sel.KQ_FILTER_PROC,
        flags=sel.KQ_EV_ADD | sel.KQ_EV_ONESHOT,
        fflags=sel.KQ_NOTE_EXIT,
    )
    try:
        kq.control([exit_event], 0)
    except ProcessLookupError as err:
        kq.close()
        raise ProcessNotFoundError(pid) from err
    except OSError as err:
        kq.close()
        raise SessionError(f"cannot watch process {pid}: {err.strerror}") from err
    return kq  # its fd turns readable when the exit event is pending
