"""The Windows backend (power requests, the execution-state fallback, process handles,
WaitForMultipleObjects, console control) against a fake of the kernel32 call layer
(cocainate.bindings.win32.Kernel32), so that failures the real system will not produce on
demand (power requests refused, more handles than one wait takes) can be made. The fake
keeps real waiting semantics (a wait blocks until a handle is signalled or the timeout
passes, and refuses more than 64 handles, as the real call does). It runs on Linux and on
a real Windows CPython under Wine (tests/test_wine.py); the real calls are tested in
tests/test_windows.py."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import pytest

import cocainate
from cocainate import EndReason, ProcessNotFoundError, mechanisms
from cocainate.bindings import waiting, win32


class FakeKernel32:
    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.open: set[int] = set()
        self.signalled: set[int] = set()
        self.processes: dict[int, int] = {}  # pid -> process handle
        self.handler: Callable[[int], bool] | None = None
        self.power_fails = False  # as under Wine, whose power requests are stubs
        self.states: dict[int, int] = {}  # thread id -> its execution state
        self.state_calls: list[tuple[int, int]] = []  # (thread id, flags)
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
        if len(handles) > 64:  # MAXIMUM_WAIT_OBJECTS: the real call fails
            raise cocainate.SessionError("WaitForMultipleObjects failed: invalid parameter")
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
        if self.power_fails:
            raise cocainate.MechanismError("PowerCreateRequest failed: Call not implemented.")
        handle = self._handle()
        self.calls.append(("PowerCreateRequest", reason))
        self.calls.extend(("PowerSetRequest", kind) for kind in kinds)
        return handle

    def power_clear(self, request: int, kinds: Sequence[int]) -> None:
        self.calls.extend(("PowerClearRequest", kind) for kind in kinds)
        self.calls.append(("CloseHandle", "request"))
        self.open.discard(request)

    def set_thread_execution_state(self, flags: int) -> int:
        thread = threading.get_ident()
        self.state_calls.append((thread, flags))
        previous = self.states.get(thread, win32.ES_CONTINUOUS)
        self.states[thread] = flags
        return previous

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


@pytest.mark.timeout(20)
def test_until(k32: FakeKernel32) -> None:
    """Where no timerfd is, the time left is read from the clock at each wake: due once
    past (a moment computed before the dispatcher's own "now" would never be)."""
    import time

    target = time.time() + 0.1
    ended = cocainate.Session(until=target).run()
    assert ended.reason is EndReason.UNTIL and cleared(k32)
    assert time.time() >= target


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


ES = win32.ES_CONTINUOUS | win32.ES_SYSTEM_REQUIRED


@pytest.mark.parametrize(
    ("mode", "flags"), [("display", ES | win32.ES_DISPLAY_REQUIRED), ("system", ES)]
)
def test_without_power_requests_the_execution_state_holds(
    k32: FakeKernel32, mode: str, flags: int
) -> None:
    """The fallback: set by a thread of its own (not the caller's), which clears it and
    ends when the session lets go, whichever thread stops it."""
    k32.power_fails = True
    session = cocainate.Session(mode=mode).start()
    assert session.holding == ("execution-state",)
    ((holder, set_flags),) = k32.state_calls
    assert set_flags == flags and holder != threading.get_ident()
    stopper = threading.Thread(target=session.stop)
    stopper.start()
    stopper.join()
    assert k32.state_calls[1:] == [(holder, win32.ES_CONTINUOUS)]
    assert holder not in {t.ident for t in threading.enumerate()}
    assert not session.problems


def test_the_fallback_is_not_taken_when_power_requests_work(k32: FakeKernel32) -> None:
    with cocainate.inhibit() as session:
        assert session.holding == ("power-request",)
    assert k32.state_calls == []
    with cocainate.inhibit(methods=["execution-state"]) as session:  # unless asked for
        assert session.holding == ("execution-state",)


def test_an_exception_clears_the_execution_state(k32: FakeKernel32) -> None:
    k32.power_fails = True
    with pytest.raises(RuntimeError), cocainate.inhibit():
        raise RuntimeError
    assert [flags for _, flags in k32.state_calls][-1] == win32.ES_CONTINUOUS


def test_more_processes_than_one_wait_takes(k32: FakeKernel32) -> None:
    """WaitForMultipleObjects takes 64 handles; 100 processes are waited on in groups, and
    the session ends when the last of them exits."""
    pids = list(range(5000, 5100))
    for pid in pids:
        k32.spawn(pid)
    session = cocainate.Session(pids=pids).start()
    assert session.wait(0.1) is None  # nothing exited: the groups' waits time out
    for pid in pids:
        if pid != 5077:
            k32.exit(pid)
    assert session.wait(0.3) is None and session.active
    threading.Timer(0.05, k32.exit, (5077,)).start()  # the last, in the second group
    ended = session.wait(10)
    assert ended is not None and ended.reason is EndReason.PROCESS_EXIT and ended.pid == 5077
    assert cleared(k32)
