"""Hours: ``Hours(*ranges, days=...)``, ``--between`` and ``--days``. What the local time
says, against a reading of the clock's fields by hand (every range, day and moment
hypothesis draws, in UTC), and across the DST changes of a real zone; then real sessions
on the test desktop's stand-in screensaver, holding from a range's start to its end by the
wall-clock timer alone, and woken when the clock is set (a real clock_settime of the
current time: the kernel fires TFD_TIMER_CANCEL_ON_SET)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cocainate
from buses import wait_until
from cocainate import Hours, Session, UsageError
from cocainate.watchers import hours as hours_module
from cocainate.watchers.hours import look
from conftest import Desktop, named_program, run_cli, spawn_cli


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def use(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


def by_hand(hours: Hours, now: float) -> bool:
    """Whether ``now`` is in the hours, read from the clock's fields (no DST: UTC)."""
    local = time.gmtime(now)
    seconds = local.tm_hour * 3600 + local.tm_min * 60 + local.tm_sec
    today, yesterday = local.tm_wday, (local.tm_wday - 1) % 7
    for start, end in hours.ranges:
        if start < end and today in hours.days and start <= seconds < end:
            return True
        if end <= start and today in hours.days and seconds >= start:
            return True
        if end <= start and yesterday in hours.days and seconds < end:
            return True
    return False


def clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 86399), st.integers(1, 86400)), min_size=1, max_size=3),
    st.sets(st.integers(0, 6), min_size=1),
    st.integers(1_600_000_000, 1_900_000_000),
)
def test_what_the_hours_say_matches_the_clock(
    ranges: list[tuple[int, int]], days: set[int], now: int
) -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()
    texts = [f"{clock(a)}-{'24:00:00' if b == 86400 else clock(b)}" for a, b in ranges if a != b]
    if not texts:
        return
    names = ",".join(("mon", "tue", "wed", "thu", "fri", "sat", "sun")[d] for d in sorted(days))
    hours = Hours(*texts, days=names)
    inside, change = look(hours, now)
    assert inside == by_hand(hours, now)
    assert change is not None and change > now
    # Every moment the answer could flip (a range's start or end, any day) before the
    # change it names leaves the answer alone: no change is missed, none comes late.
    midnight = now - now % 86400
    for day in range(-1, 10):
        for start, end in hours.ranges:
            for moment in (start, end if end > start else end + 86400):
                at = midnight + day * 86400 + moment
                if now < at < change:
                    assert by_hand(hours, at) == inside, at


def test_dst_moves_the_boundaries_as_the_clock_on_the_wall(zone: Any) -> None:
    zone("Europe/Berlin")
    night = Hours("01:00-04:00")  # 2026-03-29: 02:00 CET becomes 03:00 CEST
    start = time.mktime((2026, 3, 29, 1, 0, 0, 0, 0, -1))
    inside, end = look(night, start)
    assert inside and end is not None and end - start == 2 * 3600  # an hour shorter
    autumn = time.mktime((2026, 10, 25, 1, 0, 0, 0, 0, -1))  # 03:00 CEST becomes 02:00 CET
    inside, end = look(night, autumn)
    assert inside and end is not None and end - autumn == 4 * 3600  # an hour longer
    work = Hours("09:00-17:30", days="mon-fri")
    friday_evening = time.mktime((2026, 3, 27, 18, 0, 0, 0, 0, -1))
    inside, change = look(work, friday_evening)
    assert not inside and change == time.mktime((2026, 3, 30, 9, 0, 0, 0, 0, -1))
    assert time.localtime(change).tm_isdst == 1  # Monday 09:00, summer time


@pytest.mark.parametrize(
    ("ranges", "days", "problem"),
    [
        (("9-17",), None, "invalid time '9'"),
        (("09:00-09:00",), None, "begins where it ends"),
        (("24:00-06:00",), None, "invalid time '24:00'"),
        (("09:60-10:00",), None, "invalid time '09:60'"),
        (("09:00",), None, "give a range"),
        (("09:00-17:00",), "monday", "invalid days 'monday'"),
        (("09:00-17:00",), "", "invalid days"),
        ((), None, "at least one range"),
    ],
)
def test_bad_hours_name_the_problem(
    ranges: tuple[str, ...], days: str | None, problem: str
) -> None:
    with pytest.raises(UsageError, match=problem):
        Hours(*ranges, days=days)


def test_the_cli_says_bad_hours_in_one_line(bus_env: Desktop) -> None:
    for args, problem in (
        (["--between", "9-5"], "invalid time '9'"),
        (["--days", "someday"], "invalid days 'someday'"),
    ):
        done = run_cli(*args, env=bus_env.env)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done
        assert problem in done.stderr and bus_env.nothing_held()


def held(desktop: Desktop) -> int:
    return len(desktop.held()["screensaver"])


def test_a_range_holds_from_its_start_to_its_end(bus_env: Desktop) -> None:
    now = time.localtime(time.time() + 2)
    start = now.tm_hour * 3600 + now.tm_min * 60 + now.tm_sec
    if start + 3 >= 86400:
        pytest.skip("too near midnight for a range of seconds")
    between = f"{clock(start)}-{clock(start + 2)}"
    events: list[str] = []
    session = Session(
        conditions=[Hours(between)],
        methods=["screensaver"],
        on_event=lambda e: events.append(e.kind),
    ).start()
    try:
        assert session.state == "waiting" and held(bus_env) == 0
        assert session.wait(1.0) is None and held(bus_env) == 0  # not before its start
        wait_until(lambda: session.wait(0.1) is None and held(bus_env) == 1, 3, "the start")
        wait_until(lambda: session.wait(0.1) is None and held(bus_env) == 0, 4, "the end")
        assert session.state == "waiting"
    finally:
        session.stop()
    assert events[:3] == ["waiting", "acquired", "released"]


def test_a_gate_of_hours_lets_the_conditions_hold_only_then(
    bus_env: Desktop, tmp_path: Path, children: list[subprocess.Popen[Any]]
) -> None:
    """``--while-running NAME --between`` outside the hours, NAME running: it waits, and
    says the hours are why."""
    name, program = named_program(tmp_path, "cchours")
    children.append(program)
    hour = (time.localtime().tm_hour + 2) % 24
    between = f"{hour:02d}:00-{hour:02d}:30"
    process = spawn_cli("--while-running", name, "--between", between, "-q", env=bus_env.env)
    children.append(process)
    wait_until(lambda: len(cocainate.find_sessions()) == 1, 10, "the watch on the bus")
    (found,) = cocainate.find_sessions()
    assert found.state == "waiting" and found.why.startswith(f"not between {between} until ")
    states = {what: met for what, met, _on, _why in found.conditions}
    assert states == {f"{name} runs": True, f"between {between}": False}
    assert held(bus_env) == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="setting the clock needs CAP_SYS_TIME")
def test_setting_the_clock_wakes_the_watch(
    bus_env: Desktop, monkeypatch: pytest.MonkeyPatch
) -> None:
    looks: list[float] = []
    real = hours_module.look

    def counted(hours: Hours, now: float) -> tuple[bool, float | None]:
        looks.append(now)
        return real(hours, now)

    monkeypatch.setattr(hours_module, "look", counted)
    session = Session(conditions=[Hours("00:00-24:00")], methods=["screensaver"]).start()
    try:
        session.wait(0.5)
        assert len(looks) == 1  # nothing wakes it until midnight
        time.clock_settime(time.CLOCK_REALTIME, time.time())  # a step of microseconds
        wait_until(lambda: session.wait(0.05) is None and len(looks) == 2, 3, "a new look")
        assert session.state == "holding"
    finally:
        session.stop()
