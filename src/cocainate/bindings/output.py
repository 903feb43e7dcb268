"""Writing to stdout and stderr without ever blocking.

A terminal stopped with Ctrl-S, a pipe nobody reads, a socket whose reader froze: a plain
``write`` waits for them for ever, and a session that waits cannot let go on time. Here a
stream is written through a file description of its own opened non-blocking (a pipe or a
terminal, reopened through /proc; a socket, with MSG_DONTWAIT), so that setting the flag
touches no other process that shares the stream. What the reader has not taken waits in a
buffer of at most :data:`LIMIT` bytes, sent when the stream turns writable (the session's
reactor watches it while something is pending); past that, new lines are dropped and
counted, and a line says so once there is room again.
"""

import os
import stat
import sys
from typing import Any, Callable

from .waiting import WRITE

LIMIT = 64 * 1024
"""Bytes of output kept for a reader that is not reading; more is dropped."""
_CHUNK = 512  # PIPE_BUF's least value: where we cannot make a write non-blocking, this much
# to a pipe that poll says is writable does not block.


class Output:
    events = WRITE

    def __init__(self, stream: "Any") -> None:
        self._pending = bytearray()
        self.dropped = 0
        self._fd: int | None = None
        self._own: int | None = None  # an fd we opened, closed by close()
        self._send: Callable[[bytes], int] | None = None
        self._encoding = "utf-8"
        self.stream = stream
        self._text: Any = None  # a stream with no fd (io.StringIO...): in-process, written as is
        self.note: Callable[[int], str] = _dropped
        """The line that says how many lines were dropped (``--json`` makes it JSON)."""
        if stream is None:
            return
        try:
            stream.flush()
            fd = stream.fileno()
        except (OSError, ValueError, AttributeError):
            self._text = stream
            return
        self._encoding = getattr(stream, "encoding", None) or "utf-8"
        self._fd = fd
        self._send = self._writer(fd)

    def _writer(self, fd: int) -> "Callable[[bytes], int] | None":
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            return None
        if stat.S_ISREG(mode) or os.name == "nt":
            return lambda data: os.write(fd, data)  # a file never keeps a writer waiting
        if stat.S_ISSOCK(mode):
            import socket

            sock = socket.socket(fileno=os.dup(fd))
            self._own = sock.detach()
            own = self._own
            return lambda data: _send_nowait(own, data)
        if sys.platform.startswith("linux"):
            try:
                flags = os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
                self._own = os.open(f"/proc/self/fd/{fd}", flags)
            except OSError:
                self._own = None
            if self._own is not None:
                own = self._own
                return lambda data: os.write(own, data)
        return lambda data: _write_if_ready(fd, data)

    def write(self, text: str) -> None:
        """Queue ``text`` and send what the stream takes now."""
        if self._text is not None:
            try:
                self._text.write(text)
                self._text.flush()
            except (OSError, ValueError):
                pass
            return
        if self._send is None:
            return
        data = text.encode(self._encoding, "replace")
        if len(self._pending) + len(data) > LIMIT:
            self.dropped += 1
            return
        self._say_dropped()
        self._pending += data
        self.flush()

    def _say_dropped(self) -> None:
        if self.dropped:
            self._pending += self.note(self.dropped).encode(self._encoding, "replace")
            self.dropped = 0

    def flush(self) -> bool:
        """Send what the stream takes without blocking; True once nothing is pending."""
        while self._pending and self._send is not None:
            try:
                sent = self._send(bytes(self._pending[:LIMIT]))
            except (BlockingIOError, InterruptedError):
                return False
            except OSError:  # the reader has gone (EPIPE) or the stream is broken
                self._pending.clear()
                self._send = None
                break
            if sent <= 0:
                return False
            del self._pending[:sent]
        return not self._pending

    def fileno(self) -> "int | None":
        """The fd to wait on while output is pending (None otherwise), for the reactor."""
        return self._fd if self._pending and self._send is not None else None

    def on_readable(self, fd: int) -> bool:
        """The reactor's call when the stream is writable again."""
        self.flush()
        return True

    def drain(self, timeout: float) -> None:
        """At exit: give a slow reader up to ``timeout`` seconds to take what is pending."""
        import select
        import time

        deadline = time.monotonic() + timeout
        while True:
            if self.flush():
                if not self.dropped:
                    return
                self._say_dropped()  # the reader caught up: say what it missed
                continue
            if self._fd is None or self._send is None:
                return
            left = deadline - time.monotonic()
            if left <= 0 or os.name == "nt":
                return
            poller = select.poll()
            poller.register(self._fd, select.POLLOUT)
            poller.poll(max(1, int(left * 1000)))

    def close(self) -> None:
        own, self._own = self._own, None
        self._send = None
        if own is not None:
            os.close(own)


def _dropped(count: int) -> str:
    return f"[{count} lines dropped: nobody read them]\n"


def _send_nowait(fd: int, data: bytes) -> int:
    import socket

    sock = socket.socket(fileno=fd)
    try:
        return sock.send(data, socket.MSG_DONTWAIT)
    finally:
        sock.detach()


def _write_if_ready(fd: int, data: bytes) -> int:
    import select

    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    if not poller.poll(0):
        raise BlockingIOError
    return os.write(fd, data[:_CHUNK])
