"""Session.wait_async: the reactor driven from an event loop, asyncio's or trio's.

The same thin loop as the blocking ``wait``: ask the reactor for the next wake-up, sleep
until then without blocking the loop, dispatch. On POSIX each waiter sleeps on a
:class:`~cocainate.bindings.poller.Poller` of its own (epoll or kqueue: one fd for all the
session's sources), so two waiters never take each other's readers and a cancelled one
leaves the other alone. On Windows the sleep runs on a worker thread with a cancellation
event of its own, so cancelling returns at once and the thread ends with it.
trio is supported when it is the running library; it is not a dependency.
"""

import sys
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from collections.abc import Generator

    from ..bindings.poller import Poller
    from ..reactor import Wakeup


async def wait_async(
    steps: "Generator[Wakeup, dict[int, int], None]", wakers: "list[Callable[[], None]]"
) -> None:
    """Run a session's ``steps`` (``Session._steps``: what to sleep on, then what woke it)
    until they end, sleeping in the running event loop; an end asked for meanwhile wakes
    the sleep through ``wakers``, the session's list of them."""
    from .signals import SignalWakeup

    library = _running_library()
    sleeper = _Trio() if library == "trio" else _Asyncio()
    wakers.append(sleeper.wake)
    # A loop in the main thread wakes for every signal (asyncio sets no wakeup fd of its
    # own; trio does, and keeps it).
    signalled = SignalWakeup()
    try:
        signalled.open()
        wakeup = next(steps, None)
        while wakeup is not None:
            wakeup.waitables = signalled.watched(wakeup.waitables)
            ready = await sleeper.sleep(wakeup)
            signalled.woke(ready)
            try:
                wakeup = steps.send(ready)
            except StopIteration:
                wakeup = None
    finally:
        steps.close()  # a cancelled wait leaves the loop: it is not driving
        signalled.close()
        wakers.remove(sleeper.wake)
        sleeper.close()


def _running_library() -> str:
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            trio.lowlevel.current_task()
        except RuntimeError:
            pass
        else:
            return "trio"
    return "asyncio"


class _Sleeper:
    """Sleeps on the reactor's waitables within an event loop; :meth:`wake` from any thread."""

    def __init__(self) -> None:
        self._poller: Poller | None = None
        self._cancel: int | None = None
        from ..bindings import waiting

        if not waiting.WINDOWS:
            from ..bindings import poller

            self._poller = poller.Poller()

    async def sleep(self, wakeup: "Wakeup") -> "dict[int, int]":
        if self._poller is None:
            return await self._sleep_windows(wakeup)
        self._poller.track(wakeup.waitables)
        if not self._poller.ready():
            await self._readable(self._poller.fileno(), wakeup.timeout)
        return self._poller.ready()

    async def _sleep_windows(self, wakeup: "Wakeup") -> "dict[int, int]":
        from ..bindings.waiting import sleep
        from ..bindings.win32 import kernel32

        k32 = kernel32()
        cancel = k32.create_event()
        self._cancel = cancel
        try:
            return await self._in_thread(lambda: sleep(wakeup.waitables, wakeup.timeout, cancel))
        finally:
            k32.set_event(cancel)  # cancelled or not, the worker's sleep ends now
            self._cancel = None
            k32.close_handle(cancel)  # the worker has returned: _in_thread waits for it

    async def _readable(self, fd: int, timeout: "float | None") -> None:
        raise NotImplementedError

    async def _in_thread(self, call: "Callable[[], dict[int, int]]") -> "dict[int, int]":
        raise NotImplementedError

    def wake(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        if self._poller is not None:
            self._poller.close()
            self._poller = None


class _Asyncio(_Sleeper):
    def __init__(self) -> None:
        import asyncio

        super().__init__()
        self._loop = asyncio.get_running_loop()
        self._woken = asyncio.Event()

    async def _readable(self, fd: int, timeout: "float | None") -> None:
        import asyncio

        self._woken.clear()
        self._loop.add_reader(fd, self._woken.set)
        try:
            await asyncio.wait_for(self._woken.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            self._loop.remove_reader(fd)

    async def _in_thread(self, call: "Callable[[], dict[int, int]]") -> "dict[int, int]":
        import asyncio

        future = self._loop.run_in_executor(None, call)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            if self._cancel is not None:
                from ..bindings.win32 import kernel32

                kernel32().set_event(self._cancel)
            await asyncio.wait([future])  # returns at once: the cancel event woke it
            raise

    def wake(self) -> None:
        try:
            self._loop.call_soon_threadsafe(self._woken.set)
        except RuntimeError:
            pass  # the loop has closed


class _Trio(_Sleeper):
    def __init__(self) -> None:
        import trio

        super().__init__()
        self._trio: Any = trio
        self._token = trio.lowlevel.current_trio_token()
        self._scope: Any = None

    async def _readable(self, fd: int, timeout: "float | None") -> None:
        trio = self._trio
        with trio.CancelScope() as scope:
            self._scope = scope
            if timeout is not None:
                scope.deadline = trio.current_time() + timeout
            await trio.lowlevel.wait_readable(fd)
        self._scope = None

    async def _in_thread(self, call: "Callable[[], dict[int, int]]") -> "dict[int, int]":
        trio = self._trio
        result: dict[int, int] = {}

        async def on_cancel() -> None:
            try:
                await trio.sleep_forever()
            finally:  # cancelled: end the worker's sleep, so that the cancel returns at once
                if self._cancel is not None:
                    from ..bindings.win32 import kernel32

                    kernel32().set_event(self._cancel)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(on_cancel)
            result = await trio.to_thread.run_sync(call)
            nursery.cancel_scope.cancel()
        return result

    def wake(self) -> None:
        def cancel() -> None:
            if self._scope is not None:
                self._scope.cancel()

        try:
            self._token.run_sync_soon(cancel)
        except self._trio.RunFinishedError:
            pass
