"""Talking to a Wayland compositor with a time limit on everything.

libwayland's ``wl_display_connect`` and ``wl_display_roundtrip`` wait for ever on a
compositor that stopped answering. Here the socket is connected by us, with a timeout,
and handed to libwayland; a round trip is a ``wl_display.sync`` whose ``done`` is awaited
with ``poll`` until a deadline, reading with libwayland's non-blocking prepare/read/dispatch.
"""

import os
import select
import socket
import time
from typing import Any

from ..errors import MechanismError

TIMEOUT = 2.0
"""Seconds a compositor has to accept us and to answer each round trip."""


def connect(name: str, timeout: float = TIMEOUT) -> int:
    """A connected socket to display ``name``, as libwayland finds it; the caller owns the fd."""
    if os.path.isabs(name):
        path = name
    else:
        runtime = os.environ.get("XDG_RUNTIME_DIR")
        if not runtime:
            raise MechanismError("XDG_RUNTIME_DIR is not set, so Wayland's socket cannot be found")
        path = os.path.join(runtime, name)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
    except OSError as err:
        sock.close()
        reason = err.strerror or "timed out"
        raise MechanismError(f"cannot connect to Wayland display {name}: {reason}") from err
    sock.setblocking(True)  # libwayland sends and receives with MSG_DONTWAIT itself
    return sock.detach()


def roundtrip(display: "Any", timeout: float = TIMEOUT) -> None:
    """Wait until the compositor has handled every request sent so far, at most ``timeout``."""
    done: list[bool] = []
    callback = display.sync()
    callback.dispatcher["done"] = lambda *args: done.append(True)
    deadline = time.monotonic() + timeout
    fd = display.get_fd()
    while not done:
        want = select.POLLIN
        if display.flush() < 0:
            want |= select.POLLOUT  # the socket is full: wait until it is not
        left = deadline - time.monotonic()
        if left <= 0:
            raise MechanismError(f"the Wayland compositor did not answer within {timeout:g} s")
        poller = select.poll()
        poller.register(fd, want)
        ready = poller.poll(max(1, int(left * 1000)))
        if ready and not pump(display):
            raise MechanismError("the Wayland compositor closed the connection")


def pump(display: "Any") -> bool:
    """Read what the compositor sent and dispatch it, without blocking; False once the
    connection is gone (or broken)."""
    try:
        display.read()  # prepare_read + read_events: reads with MSG_DONTWAIT
        display.dispatch(block=False)
        display.flush()  # answers to pings; what does not fit now goes with the next one
    except (RuntimeError, AttributeError, ValueError):
        return False
    return _alive(display)


def _alive(display: "Any") -> bool:
    """Whether the connection still stands: read_events says nothing about an end-of-file,
    so look at the socket itself."""
    poller = select.poll()
    poller.register(display.get_fd(), select.POLLIN)
    for _, events in poller.poll(0):
        if events & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
            return False
    return True
