"""The OS sleep the session waits in (cocainate.bindings.waiting): it never wakes before its
time, and a final wake is never lost."""

from __future__ import annotations

import sys
import time

import pytest

from cocainate.bindings.waiting import READ, Waker, milliseconds, sleep

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX poll")


@pytest.mark.parametrize("timeout", [0.0001, 0.0015, 0.0105, 0.25])
def test_a_sleep_never_ends_before_its_time(timeout: float) -> None:
    """poll() counts whole milliseconds: rounded down, a sleep would end early and the
    loop around it wake again for nothing."""
    assert milliseconds(timeout) * 1000 >= timeout * 1e6  # type: ignore[operator]
    for _ in range(5):
        began = time.monotonic()
        assert sleep([], timeout) == {}
        assert time.monotonic() - began >= timeout


def test_a_final_wake_survives_a_clear() -> None:
    """clear() empties a wake that was not final; a final one stays, so every later sleep
    sees it at once (the session is ending)."""
    waker = Waker()
    try:
        waker.wake()
        waker.clear()
        assert sleep([(waker.handle, READ)], 0) == {}  # an ordinary wake: cleared
        waker.wake(final=True)
        waker.clear()
        assert sleep([(waker.handle, READ)], 0) == {waker.handle: READ}
        waker.clear()
        assert sleep([(waker.handle, READ)], 0) == {waker.handle: READ}  # and again
    finally:
        waker.close()


def test_a_final_wake_during_a_clear_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """The session ends (a final wake, from a signal handler or another thread) while the
    waiter clears an ordinary wake: the final one must not be drained with it."""
    import os

    waker = Waker()
    real_read = os.read
    woke: list[bool] = []

    def read_then_end(fd: int, size: int) -> bytes:
        if not woke:
            woke.append(True)
            waker.wake(final=True)  # while clear() holds the lock: not written, only noted
        return real_read(fd, size)

    try:
        waker.wake()
        monkeypatch.setattr(os, "read", read_then_end)
        waker.clear()
        monkeypatch.setattr(os, "read", real_read)
        assert woke and waker.final
        assert sleep([(waker.handle, READ)], 0) == {waker.handle: READ}
    finally:
        waker.close()
