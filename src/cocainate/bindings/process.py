"""Watching a process for exit without polling: a pidfd on Linux, a kqueue on macOS/BSD,
a process handle on Windows.

Each returns a watch with ``fileno()`` (readable, or signalled, once the process has exited)
and ``close()``. Each names one process, not a number, so a PID reused after the exit
cannot fool them. On Windows the watch is a process handle.
"""

import errno
import os
from typing import Any

from ..errors import ProcessNotFoundError, SessionError, UsageError


class _PidFd:
    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd

    def close(self) -> None:
        os.close(self._fd)


class _Handle:
    """A Windows process handle opened with SYNCHRONIZE: signalled once the process exits."""

    def __init__(self, pid: int) -> None:
        from .win32 import kernel32

        self._k32 = kernel32()
        self._handle: int = self._k32.open_process(pid)

    def fileno(self) -> int:
        return self._handle

    def close(self) -> None:
        self._k32.close_handle(self._handle)


def open_process(pid: int) -> "Any":
    """Return a watch on process ``pid``; raise ProcessNotFoundError if there is none."""
    from . import waiting

    if waiting.WINDOWS:
        return _Handle(pid)
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
        if err.errno in (errno.EINVAL, errno.ENOENT):
            leader = _thread_group(pid)
            if leader is not None and leader != pid:
                raise UsageError(
                    f"{pid} is a thread of process {leader}, not a process: watch {leader}"
                ) from err
            if err.errno == errno.EINVAL:
                raise UsageError(f"{pid} is not the PID of a process") from err
            raise ProcessNotFoundError(pid) from err
        if err.errno == errno.ENOSYS:
            raise SessionError(
                "waiting for a process needs pidfd_open (Linux 5.3 or newer)"
            ) from err
        raise SessionError(f"cannot watch process {pid}: {err.strerror}") from err
    return fd


def _thread_group(pid: int) -> "int | None":
    """The process a task ID belongs to (its Tgid), from /proc; None if unknown."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Tgid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _kqueue(pid: int) -> "Any":
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


def has_exited(watch: "Any") -> bool:
    """Whether the process a watch from :func:`open_process` names has exited, now, without
    waiting: its fd or handle is ready (a sleep that does not wait)."""
    from .waiting import READ, sleep

    return bool(sleep([(watch.fileno(), READ)], 0))
