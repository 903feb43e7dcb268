"""Events a session reports, and its clocks: ending at a wall-clock time (--until), and a
duration on the boot clock, on real buses."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import cocainate
from cocainate import EndReason, Event, UsageError
from cocainate.bindings.wallclock import ClockTimer
from conftest import Desktop, spawn_cli


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
    timer = ClockTimer(time.time() + 0.2)
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
    timer = ClockTimer(time.time() + 0.1)
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


def test_a_duration_is_a_boot_clock_timerfd_so_a_suspend_counts(bus_env: Desktop) -> None:
    """-d 1h is an hour of real time: the kernel's CLOCK_BOOTTIME (7) goes on counting
    while the machine is suspended, which the monotonic clock does not. The running
    cocainate's timers, read from /proc: one on the boot clock, absolute, an hour ahead."""
    process = spawn_cli("-d", "1h", "--method", "screensaver", env=bus_env.env)
    try:
        assert process.stdout is not None
        process.stdout.readline()
        infos = []
        for fd in os.listdir(f"/proc/{process.pid}/fd"):
            try:
                if os.readlink(f"/proc/{process.pid}/fd/{fd}") == "anon_inode:[timerfd]":
                    infos.append(Path(f"/proc/{process.pid}/fdinfo/{fd}").read_text())
            except OSError:
                continue
        (info,) = infos
        fields = dict(line.split(":", 1) for line in info.splitlines())
        assert fields["clockid"].strip() == "7"  # CLOCK_BOOTTIME
        assert fields["settime flags"].strip() == "01"  # TFD_TIMER_ABSTIME
        value = int(fields["it_value"].strip().strip("()").split(",")[0])  # seconds left
        assert 3590 <= value <= 3600
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_until_says_the_date_unless_it_is_today_or_tomorrow() -> None:
    from datetime import datetime

    from cocainate.duration import until_text

    now = datetime(2026, 12, 3, 12, 0).timestamp()
    at = datetime(2026, 12, 3, 17, 30).timestamp()
    assert until_text(at, now) == "17:30:00"
    assert until_text(at + 86400, now) == "17:30:00 tomorrow"
    assert until_text(at + 3 * 86400, now) == "2026-12-06 17:30:00"
    assert until_text(datetime(2027, 1, 1, 9, 0).timestamp(), now) == "2027-01-01 09:00:00"


def test_until_equal_to_now_is_in_the_past() -> None:
    """A time that is now has passed by the time anything could hold: refused, as an
    earlier one is; a clock time equal to now means tomorrow."""
    from cocainate.duration import parse_until

    now = datetime(2026, 12, 3, 17, 30).timestamp()
    with pytest.raises(UsageError, match="in the past"):
        parse_until("2026-12-03T17:30:00", now=now)
    assert parse_until("17:30", now=now) == now + 86400
    assert parse_until("2026-12-03T17:30:01", now=now) == now + 1
