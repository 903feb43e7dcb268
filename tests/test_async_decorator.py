"""inhibit() as a decorator and an async context manager; Session.wait_async; on real buses."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
import time

import pytest

import cocainate
from cocainate import EndReason
from conftest import Desktop, signal_from_another_thread


def test_decorator_holds_for_each_call(bus_env: Desktop) -> None:
    seen: list[int] = []

    @cocainate.inhibit(reason="decorated", methods=["screensaver"])
    def work(x: int) -> int:
        seen.append(len(bus_env.screensaver.inhibitors()))
        return x * 2

    assert work.__name__ == "work"
    assert work(2) == 4 and work(3) == 6
    assert seen == [1, 1]
    assert bus_env.screensaver.inhibitors() == []
    assert len(bus_env.screensaver.calls("UnInhibit")) == 2


def test_decorator_on_a_coroutine_function(bus_env: Desktop) -> None:
    @cocainate.inhibit(methods=["screensaver"])
    async def work() -> int:
        await asyncio.sleep(0)
        return len(bus_env.screensaver.inhibitors())

    assert asyncio.run(work()) == 1
    assert bus_env.screensaver.inhibitors() == []


def test_bad_arguments_fail_where_the_decorator_is_written() -> None:
    with pytest.raises(cocainate.UsageError):
        cocainate.inhibit(mode="bright")
    with pytest.raises(TypeError, match=r"write @cocainate.inhibit\(\) with its parentheses"):

        @cocainate.inhibit  # type: ignore[arg-type]
        def forgot() -> None:
            pass

    with pytest.raises(cocainate.UsageError, match="timeout must be"):
        cocainate.find_sessions(timeout="soon")  # type: ignore[arg-type]


def test_async_with_releases_when_the_task_is_cancelled(bus_env: Desktop) -> None:
    async def main() -> None:
        entered = asyncio.Event()

        async def holder() -> None:
            async with cocainate.inhibit(methods=["screensaver", "logind"]):
                entered.set()
                await asyncio.sleep(3600)

        task = asyncio.create_task(holder())
        await entered.wait()
        assert bus_env.screensaver.inhibitors()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert bus_env.screensaver.inhibitors() == []  # released before the task finished

    asyncio.run(main())


def test_wait_async_duration_and_loop_stays_free(bus_env: Desktop) -> None:
    async def main() -> tuple[EndReason, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        tick = asyncio.create_task(ticker())
        async with cocainate.inhibit(duration=0.3, methods=["screensaver"]) as session:
            ended = await session.wait_async()
        tick.cancel()
        return ended.reason, ticks

    reason, ticks = asyncio.run(main())
    assert reason is EndReason.DURATION
    assert ticks >= 10  # the loop ran while the session waited


def test_wait_async_wakes_for_a_signal_another_thread_caught(bus_env: Desktop) -> None:
    """asyncio sets no signal wakeup fd on POSIX: without the session's, the loop slept on
    (here until the 60 s limit) while the session's handler waited to run."""

    async def main() -> tuple[cocainate.Ended, float]:
        session = cocainate.Session(handle_signals=True, methods=["screensaver"]).start()
        began = time.monotonic()
        thread = signal_from_another_thread(signal.SIGTERM)  # the handler is in place
        ended = await asyncio.wait_for(session.wait_async(), 60)
        thread.join()
        return ended, time.monotonic() - began

    ended, took = asyncio.run(main())
    assert took < 30, "the loop slept through the signal"
    assert ended.reason is EndReason.SIGNAL and ended.signal == signal.SIGTERM
    assert bus_env.screensaver.inhibitors() == []


def test_wait_async_process_exit_and_stop(bus_env: Desktop) -> None:
    async def main() -> tuple[EndReason, EndReason]:
        child = subprocess.Popen(["sleep", "0.2"])
        session = cocainate.Session(pids=[child.pid], methods=["screensaver"]).start()
        first = (await session.wait_async()).reason
        child.wait()
        other = cocainate.Session(methods=["screensaver"]).start()
        threading.Timer(0.1, other.stop).start()
        second = (await other.wait_async()).reason
        return first, second

    assert asyncio.run(main()) == (EndReason.PROCESS_EXIT, EndReason.STOPPED)


def test_wait_async_ends_a_session_that_lost_everything(
    fresh_bus: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The async wait wakes for the session's own timers too (here the grace after a loss)."""
    from buses import StandIn
    from cocainate.core import holdings as session_module

    monkeypatch.setattr(session_module, "LOST_GRACE", 0.3)
    service = StandIn(fresh_bus, "screensaver")  # type: ignore[arg-type]

    async def main() -> EndReason:
        session = cocainate.Session(methods=["screensaver"]).start()
        asyncio.get_running_loop().call_later(0.1, service.stop)
        return (await asyncio.wait_for(session.wait_async(), 10)).reason

    assert asyncio.run(main()) is EndReason.LOST
