"""One pollable fd standing for many (epoll on Linux, kqueue on macOS and the BSDs), for
event loops: each ``Session.wait_async`` has its own, so two never take each other's
readers. Only a session waited on from an event loop loads it."""

from typing import TYPE_CHECKING, Any

from .waiting import READ, WRITE

if TYPE_CHECKING:
    from collections.abc import Sequence


class Poller:
    """Many fds as one, for event loops: readable when one of them is ready."""

    def __init__(self) -> None:
        import select

        self._select: Any = select
        self._kqueue = not hasattr(select, "epoll")
        self._poller: Any = self._select.kqueue() if self._kqueue else select.epoll()
        self._registered: dict[int, int] = {}

    def fileno(self) -> int:
        fd: int = self._poller.fileno()
        return fd

    def track(self, waitables: "Sequence[tuple[int, int]]") -> None:
        """Watch exactly ``waitables`` from now on (registered afresh: a closed fd's number
        may have been reused by another file)."""
        for fd, events in self._registered.items():
            self._change(fd, events, add=False)
        self._registered = dict(waitables)
        for fd, events in self._registered.items():
            self._change(fd, events, add=True)

    def _change(self, fd: int, events: int, add: bool) -> None:
        s = self._select
        try:
            if not self._kqueue:
                if add:
                    mask = (s.EPOLLIN if events & READ else 0) | (
                        s.EPOLLOUT if events & WRITE else 0
                    )
                    self._poller.register(fd, mask)
                else:
                    self._poller.unregister(fd)
                return
            flag = s.KQ_EV_ADD if add else s.KQ_EV_DELETE
            changes = []
            if events & READ:
                changes.append(s.kevent(fd, filter=s.KQ_FILTER_READ, flags=flag))
            if events & WRITE:
                changes.append(s.kevent(fd, filter=s.KQ_FILTER_WRITE, flags=flag))
            self._poller.control(changes, 0)
        except (OSError, ValueError):
            pass  # already gone with its fd

    def ready(self) -> "dict[int, int]":
        """What is ready now, without sleeping."""
        s = self._select
        out: dict[int, int] = {}
        if not self._kqueue:
            for fd, mask in self._poller.poll(0):
                out[fd] = (
                    out.get(fd, 0)
                    | (READ if mask & ~s.EPOLLOUT else 0)
                    | (WRITE if mask & s.EPOLLOUT else 0)
                )
            return out
        for event in self._poller.control(None, 64, 0):
            kind = WRITE if event.filter == s.KQ_FILTER_WRITE else READ
            out[event.ident] = out.get(event.ident, 0) | kind
        return out

    def close(self) -> None:
        self._poller.close()
