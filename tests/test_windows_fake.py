"""The Windows backend (power requests, process handles, WaitForMultipleObjects, console
control) against a fake of the kernel32 call layer (cocainate.bindings.win32.Kernel32): Windows
cannot run here. The fake keeps real waiting semantics (a wait blocks until a handle is
signalled or the timeout passes), so the session's logic runs as it would on Windows; the
workflow in .github/workflows runs the real calls on windows-latest."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import pytest

import cocainate
from cocainate import EndReason, ProcessNotFoundError, mechanisms
from cocainate.bindings import waiting, win32

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the real calls run here")


class FakeKernel32:
    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.open: set[int] = set()
        self.signalled: set[int] = set()
        self.processes: dict[int, int] = {}  # pid -> process handle
        self.handler: Callable[[int], bool] | None = None
        self._next = 100
        self._cond = threading.Condition()

    def _handle(self) -> int:
        self._next += 1
        self.open.add(self._next)
        return self._next

    def spawn(self, pid: int) -> None:
        self.processes[pid] = self._handle()

    def exit(self, pid: int) -> None:
        with self._cond:
            self.signalled.add(self.processes[pid])
            self._cond.notify_all()

    def create_event(self) -> int:
        return self._handle()

    def set_event(self, event: int) -> None:
        with self._cond:
            self.signalled.add(event)
            self._cond.notify_all()

    def reset_event(self, event: int) -> None:
        with self._cond:
            self.signalled.discard(event)

    def wait_any(self, handles: Sequence[int], ms: int | None) -> int | None:
        assert all(h in self.open for h in handles)
        deadline = None if ms is None else time.monotonic() + ms / 1000
        with self._cond:
            while True:
                for index, handle in enumerate(handles):
                    if handle in self.signalled:
                        return index
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cond.wait(left)

    def open_process(self, pid: int) -> int:
        self.calls.append(("OpenProcess", pid))
        if pid not in self.processes:
            raise ProcessNotFoundError(pid)
        return self.processes[pid]

    def close_handle(self, handle: int) -> None:
        self.open.discard(handle)

    def power_request(self, reason: str, kinds: Sequence[int]) -> int:
        handle = self._handle()
        self.calls.append(("PowerCreateRequest", reason))
        self.calls.extend(("PowerSetRequest", kind) for kind in kinds)
        return handle

    def power_clear(self, request: int, kinds: Sequence[int]) -> None:
        self.calls.extend(("PowerClearRequest", kind) for kind in kinds)
        self.calls.append(("CloseHandle", "request"))
        self.open.discard(request)

    def console_handler(self, callback: Callable[[int], bool]) -> Callable[[], None]:
        self.handler = callback

        def remove() -> None:
            self.handler = None

        return remove


@pytest.fixture
def k32(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKernel32]:
    fake = FakeKernel32()
    monkeypatch.setattr(win32, "_kernel32", fake)
    monkeypatch.setattr(mechanisms, "platform_key", lambda platform=None: "win32")
    monkeypatch.setattr(waiting, "WINDOWS", True)
    yield fake
    assert fake.open == set(), "a handle was left open"
    assert fake.handler is None, "the console handler was left installed"


DISPLAY = [("PowerSetRequest", 0), ("PowerSetRequest", 1)]


def power_calls(fake: FakeKernel32) -> list[tuple[object, ...]]:
    return [c for c in fake.calls if str(c[0]).startswith(("Power", "Close"))]


def test_display_mode_requests_display_and_system(k32: FakeKernel32) -> None:
    with cocainate.inhibit(reason="slides") as session:
        assert [a.name for a in session.acquired] == ["power-request"]
        assert power_calls(k32) == [("PowerCreateRequest", "slides"), *DISPLAY]
    assert power_calls(k32)[3:] == [
        ("PowerClearRequest", 0),
        ("PowerClearRequest", 1),
        ("CloseHandle", "request"),
    ]


def test_system_mode_requests_only_the_system(k32: FakeKernel32) -> None:
    with cocainate.inhibit(mode="system"):
        pass
    assert power_calls(k32)[1:] == [
        ("PowerSetRequest", 1),
        ("PowerClearRequest", 1),
        ("CloseHandle", "request"),
    ]


def cleared(fake: FakeKernel32) -> bool:
    return ("CloseHandle", "request") in fake.calls


def test_duration(k32: FakeKernel32) -> None:
    ended = cocainate.Session(duration=0.1).run()
    assert ended.reason is EndReason.DURATION and cleared(k32)


def test_exception_releases(k32: FakeKernel32) -> None:
    with pytest.raises(RuntimeError), cocainate.inhibit():
        raise RuntimeError
    assert cleared(k32)


def test_early_stop_from_another_thread(k32: FakeKernel32) -> None:
    session = cocainate.Session(duration=3600).start()
    threading.Timer(0.05, session.stop).start()
    ended = session.wait()
    assert ended is not None and ended.reason is EndReason.STOPPED and cleared(k32)


def test_process_exit(k32: FakeKernel32) -> None:
    k32.spawn(4242)
    session = cocainate.Session(pids=[4242]).start()
    threading.Timer(0.05, k32.exit, (4242,)).start()
    ended = session.wait()
    assert ended is not None and ended.reason is EndReason.PROCESS_EXIT and ended.pid == 4242
    assert cleared(k32)


def test_a_missing_process_holds_nothing(k32: FakeKernel32) -> None:
    with pytest.raises(ProcessNotFoundError):
        cocainate.Session(pids=[999]).start()
    assert power_calls(k32) == []


@pytest.mark.parametrize(
    ("event", "signum"),
    [
        (win32.CTRL_C_EVENT, signal.SIGINT),
        (win32.CTRL_BREAK_EVENT, None),
        (win32.CTRL_CLOSE_EVENT, signal.SIGTERM),
    ],
)
def test_console_events_end_a_signal_handling_session(
    k32: FakeKernel32, event: int, signum: int | None
) -> None:
    session = cocainate.Session(handle_signals=True).start()
    assert k32.handler is not None
    results: list[bool] = []
    handler = k32.handler
    thread = threading.Thread(target=lambda: results.append(handler(event)))
    thread.start()
    ended = session.wait()
    thread.join()
    assert results == [True] and cleared(k32)
    assert ended is not None and ended.reason is EndReason.SIGNAL
    expected = signum if signum is not None else getattr(signal, "SIGBREAK", signal.SIGINT)
    assert ended.signal == expected


def test_ctrl_c_without_signal_handling_is_keyboard_interrupt(k32: FakeKernel32) -> None:
    session = cocainate.Session().start()
    handler = k32.handler
    assert handler is not None
    threading.Timer(0.05, handler, (win32.CTRL_C_EVENT,)).start()
    with pytest.raises(KeyboardInterrupt):
        session.wait()
        time.sleep(1)  # the interrupt lands at the next bytecode if not inside wait
    assert cleared(k32)


def test_cancelling_wait_async_returns_at_once(k32: FakeKernel32) -> None:
    """On Windows the async wait sleeps on a worker thread; cancelling it must not wait for
    the session: the worker's own cancellation event ends its sleep at once."""
    import asyncio

    async def main() -> float:
        with cocainate.Session(duration=3600) as session:
            task = asyncio.ensure_future(session.wait_async())
            await asyncio.sleep(0.05)
            begin = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return time.monotonic() - begin

    assert asyncio.run(main()) < 0.5
