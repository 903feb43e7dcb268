"""Events a session reports, and ending at a wall-clock time (--until), on real buses."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

import cocainate
from cocainate import EndReason, Event, UsageError
from cocainate.bindings.wallclock import WallClockTimer
from conftest import Desktop


def test_events_in_order(bus_env: Desktop) -> None:
    events: list[Event] = []
    cocainate.Session(
        duration=0.05, methods=["screensaver", "logind"], on_event=events.append
    ).run()
    assert [e.kind for e in events] == ["acquired", "ended", "released"]
    assert events[0].mechanisms == ("screensaver", "logind")
    assert events[1].ended is not None and events[1].ended.reason is EndReason.DURATION
    assert events[2].as_dict()["problems"] == []
    assert events[1].as_dict()["reason"] == "duration"


def test_a_failing_callback_does_not_stop_the_release(bus_env: Desktop) -> None:
    def boom(event: Event) -> None:
        raise RuntimeError("callback bug")

    session = cocainate.Session(methods=["screensaver"], on_event=boom).start()
    session.stop()
    assert bus_env.screensaver.inhibitors() == []
    assert "on_event raised RuntimeError('callback bug')" in session.problems


def test_until_a_datetime(bus_env: Desktop) -> None:
    target = datetime.now() + timedelta(milliseconds=300)
    session = cocainate.Session(until=target, methods=["screensaver"]).start()
    remaining = session.remaining
    assert remaining is not None and 0 < remaining <= 0.3
    ended = session.wait()
    assert ended is not None and ended.reason is EndReason.UNTIL
    assert time.time() >= target.timestamp()


def readable(fd: int | None, timeout: float) -> bool:
    import select

    assert fd is not None
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(int(timeout * 1000)))


def test_the_wall_clock_timer_is_a_timerfd_on_linux() -> None:
    """The kernel fires it at the wall-clock time; nothing wakes before to check."""
    timer = WallClockTimer(time.time() + 0.2)
    try:
        assert timer.fileno() is not None
        assert not timer.fired()
        assert readable(timer.fileno(), 2)  # the kernel's own wake-up, at the time
        assert timer.fired()
    finally:
        timer.close()


def test_the_ctypes_timerfd_for_older_pythons(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.delattr(os, "timerfd_create", raising=False)
    timer = WallClockTimer(time.time() + 0.1)
    try:
        assert timer.fileno() is not None
        assert readable(timer.fileno(), 2)
        assert timer.fired()
    finally:
        timer.close()


@pytest.mark.parametrize("bad", ["17:30", float("nan"), True])
def test_bad_until(bad: object) -> None:
    with pytest.raises(UsageError):
        cocainate.Session(until=bad)  # type: ignore[arg-type]
