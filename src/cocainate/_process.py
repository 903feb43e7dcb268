"""Watching processes for exit without polling: a pidfd on Linux."""

from __future__ import annotations

import errno
import os

from .errors import ProcessNotFoundError, SessionError, UsageError


def open_process(pid: int) -> int:
    """Return a file descriptor that becomes readable when process ``pid`` exits.

    A pidfd names one process, not a number, so a PID reused after the exit cannot fool it.
    """
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is None:
        raise SessionError("waiting for a process needs pidfd_open (Linux 5.3 or newer)")
    try:
        fd: int = pidfd_open(pid)
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
