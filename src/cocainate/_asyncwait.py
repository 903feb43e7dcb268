"""Session.wait_async: waiting on an asyncio event loop instead of blocking a thread.

The loop watches the same fds the blocking wait sleeps on (with its readers) and the
deadline is a timeout; each wake-up lets a zero-timeout blocking wait handle what is ready.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .errors import SessionError

if TYPE_CHECKING:
    from .ending import Ended
    from .session import Session


async def wait_async(self: Session) -> Ended:
    """``await`` the end of the session without blocking the event loop: the loop
    watches the same fds the blocking wait sleeps on, and the deadline is a timeout."""
    import asyncio

    from ._waiting import PollWaiter
    from .session import _State

    if self._state is _State.NEW:
        raise SessionError("start the session before waiting for it")
    if self._state is _State.RELEASED and self._end is not None:
        return self._end
    if not isinstance(self._waiter, PollWaiter):
        # Windows (or already released): the blocking wait, on the loop's executor.
        ended = await asyncio.get_running_loop().run_in_executor(None, self.wait)
        assert ended is not None
        return ended
    loop = asyncio.get_running_loop()
    woken = asyncio.Event()

    def wake() -> None:  # from any thread, when the session ends or is released
        try:
            loop.call_soon_threadsafe(woken.set)
        except RuntimeError:
            pass  # the loop has closed

    self._async_wakers.append(wake)
    try:
        return await _wait_on_loop(self, loop, woken)
    finally:
        self._async_wakers.remove(wake)


async def _wait_on_loop(self: Session, loop: Any, woken: Any) -> Ended:
    import asyncio

    from ._waiting import PollWaiter

    while True:
        ended = self.wait(timeout=0)  # handles whatever is ready; never blocks
        if ended is not None:
            return ended
        waiter = self._waiter
        fds = (
            [*waiter.fds(self._exited), *self._watched()] if isinstance(waiter, PollWaiter) else []
        )
        woken.clear()
        for fd in fds:
            loop.add_reader(fd, woken.set)
        try:
            await asyncio.wait_for(woken.wait(), _next_timeout(self))
        except asyncio.TimeoutError:
            pass
        finally:
            for fd in fds:
                loop.remove_reader(fd)


def _next_timeout(self: Session) -> float | None:
    """Seconds until the next thing the blocking wait would wake for: the deadline, the
    until time, a bus reconnection attempt, the end of the grace after losing everything."""
    now = time.monotonic()
    retry = self._resources.deadline() if self._resources is not None else None
    times = [t for t in (self._deadline, self._lost_deadline, retry) if t is not None]
    if self.until is not None:
        times.append(now + self.until - time.time())
    return max(0.0, min(times) - now) if times else None
