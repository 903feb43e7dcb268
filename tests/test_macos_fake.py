"""The macOS backend (IOKit power assertions, kqueue process watches) against fakes of the
OS-call layer: IOKit and kqueue do not exist on Linux. The fake IOKit records the calls;
the fake kqueue records the registration and is backed by a real pidfd, so it turns
readable when the process really exits. The workflow in .github/workflows runs the real
calls on macos-latest (the assertion is checked in `pmset -g assertions`)."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import cocainate
from cocainate import EndReason, ProcessNotFoundError, mechanisms
from cocainate.bindings import iokit as _iokit


class FakeIOKit:
    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.held: set[int] = set()

    def create_assertion(self, kind: str, name: str) -> int:
        assertion = 7 + len(self.calls)
        self.calls.append(("create", kind, name))
        self.held.add(assertion)
        return assertion

    def release_assertion(self, assertion: int) -> int:
        self.calls.append(("release", assertion))
        self.held.remove(assertion)
        return 0


@pytest.fixture
def io(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIOKit]:
    fake = FakeIOKit()
    monkeypatch.setattr(_iokit, "_iokit", fake)
    monkeypatch.setattr(mechanisms, "platform_key", lambda platform=None: "darwin")
    yield fake
    assert fake.held == set(), "an assertion was left held"


@pytest.mark.parametrize(
    ("mode", "kind"),
    [("display", "PreventUserIdleDisplaySleep"), ("system", "PreventUserIdleSystemSleep")],
)
def test_the_assertion_follows_the_mode(io: FakeIOKit, mode: str, kind: str) -> None:
    with cocainate.inhibit(mode=mode, reason="render") as session:
        assert [a.name for a in session.acquired] == ["iokit"]
        assert io.calls == [("create", kind, "render")]
    assert io.calls[1][0] == "release"


def test_exception(io: FakeIOKit) -> None:
    with pytest.raises(RuntimeError), cocainate.inhibit():
        raise RuntimeError


def test_signal(io: FakeIOKit) -> None:
    session = cocainate.Session(handle_signals=True).start()
    threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGTERM)).start()
    ended = session.wait()
    assert ended is not None and ended.reason is EndReason.SIGNAL


def test_early_stop(io: FakeIOKit) -> None:
    session = cocainate.Session(duration=3600).start()
    session.stop()
    assert session.wait() is not None


def test_a_failed_release_is_reported(io: FakeIOKit, monkeypatch: pytest.MonkeyPatch) -> None:
    session = cocainate.Session().start()
    original = io.release_assertion

    def failing(assertion: int) -> int:
        original(assertion)
        return 0xE00002C2  # kIOReturnBadArgument

    monkeypatch.setattr(io, "release_assertion", failing)
    session.stop()
    assert session.problems == ["iokit: IOPMAssertionRelease returned 0xe00002c2"]


_pidfd_open = os.pidfd_open  # kept before the fixture hides it from cocainate


class FakeKqueue:
    registered: list[Any] = []

    def __init__(self) -> None:
        self._fd: int | None = None

    def control(self, changes: list[Any], max_events: int) -> list[Any]:
        (change,) = changes
        FakeKqueue.registered.append(change)
        self._fd = _pidfd_open(change.ident)  # ProcessLookupError like kevent's ESRCH
        return []

    def fileno(self) -> int:
        assert self._fd is not None
        return self._fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class FakeKevent:
    def __init__(self, ident: int, filter: int, flags: int, fflags: int) -> None:
        self.ident, self.filter, self.flags, self.fflags = ident, filter, flags, fflags


@pytest.fixture
def kqueue(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeKqueue]]:
    monkeypatch.delattr(os, "pidfd_open")  # take the kqueue path, as on macOS
    for name, value in {
        "kqueue": FakeKqueue,
        "kevent": FakeKevent,
        "KQ_FILTER_PROC": -5,
        "KQ_EV_ADD": 1,
        "KQ_EV_ONESHOT": 16,
        "KQ_NOTE_EXIT": 0x80000000,
    }.items():
        monkeypatch.setattr(select, name, value, raising=False)
    FakeKqueue.registered = []
    yield FakeKqueue


def test_kqueue_watches_the_process_exit(io: FakeIOKit, kqueue: type[FakeKqueue]) -> None:
    child = subprocess.Popen(["sleep", "0.2"])
    session = cocainate.Session(pids=[child.pid]).start()
    (change,) = kqueue.registered
    assert (change.ident, change.filter, change.flags, change.fflags) == (
        child.pid,
        -5,
        1 | 16,
        0x80000000,
    )
    ended = session.wait()
    child.wait()
    assert ended is not None and ended.reason is EndReason.PROCESS_EXIT


def test_kqueue_refuses_a_missing_process(io: FakeIOKit, kqueue: type[FakeKqueue]) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    with pytest.raises(ProcessNotFoundError):
        cocainate.Session(pids=[dead.pid]).start()
    assert io.calls == []


class FakeLibProc:
    """libproc's two calls, answered from Linux's /proc (the process list and the names
    are real; only the call that fetches them is not), counting the names read."""

    def __init__(self) -> None:
        self.named: list[int] = []

    def pids(self) -> list[int]:
        return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]

    def name(self, pid: int) -> str | None:
        self.named.append(pid)
        try:
            with open(f"/proc/{pid}/comm") as f:
                return f.read().strip()
        except OSError:
            return None


def test_while_running_from_libproc(
    io: FakeIOKit,
    kqueue: type[FakeKqueue],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    """The macOS process list (a fake libproc over /proc) finds a real process by name,
    reads each name once past its first seconds, waits on it with a (fake) kqueue, and the
    (fake) IOKit assertion is held until it exits."""
    import shutil
    import time

    from cocainate.bindings import libproc as _libproc
    from cocainate.watchers import process as module

    fake = FakeLibProc()
    monkeypatch.setattr(_libproc, "_libproc", fake)
    lister = module._MacProcesses()
    monkeypatch.setattr(module, "_lister", lambda: lister)
    monkeypatch.setattr(module, "YOUNG", 0.0)  # every process is past its first seconds
    name = "ccmac" + str(os.getpid())[-6:]
    program = tmp_path / name
    shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
    seen: list[cocainate.Event] = []
    session = cocainate.Session(
        conditions=cocainate.ProcessRunning(name, interval=0.05),
        methods=["iokit"],
        on_event=seen.append,
    )
    session.start()
    waiter = threading.Thread(target=session.wait)
    waiter.start()
    child = subprocess.Popen([str(program), "60"])
    try:
        deadline = time.monotonic() + 5
        while "acquired" not in [e.kind for e in seen]:
            assert time.monotonic() < deadline, seen
            time.sleep(0.01)
        assert seen[-1].condition == f"{name} runs (pid {child.pid})"
        assert io.held and kqueue.registered[-1].ident == child.pid
        reads = len(fake.named)
        time.sleep(0.3)  # scans go on? no: the process is waited on, nothing is read
        assert len(fake.named) == reads
    finally:
        child.kill()
        child.wait()
        deadline = time.monotonic() + 5
        while "released" not in [e.kind for e in seen]:
            assert time.monotonic() < deadline, seen
            time.sleep(0.01)
        session.stop()
        waiter.join(5)
    assert fake.named.count(child.pid) == 1  # read once, kept
    assert [e.kind for e in seen] == ["waiting", "acquired", "released", "ended"]
