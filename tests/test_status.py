"""``cocainate status`` against services that answer wrongly: every wrong shape a reply can
have is that service's one line, the others are listed, and the whole run is bounded.

The services are the stand-ins (tests/services/inhibit_service.py) on private buses: gnome
and power on a session bus, logind's stand-in on a system bus, each told how to answer its
listing method (GetInhibitors, HasInhibit, ListInhibitors).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from buses import Bus, StandIn
from cocainate.bindings.listing import LISTED
from cocainate.cli.status import DEADLINE, PER_SERVICE
from conftest import run_cli


class Buses:
    def __init__(self, root: Path) -> None:
        self.session = Bus(root / "session", "session")
        self.system = Bus(root / "system", "system")
        self.env = {
            "PATH": "/usr/bin:/bin",
            "DBUS_SESSION_BUS_ADDRESS": self.session.address,
            "DBUS_SYSTEM_BUS_ADDRESS": self.system.address,
        }

    def status(self) -> dict[str, list[str]]:
        """Each mechanism's row and the lines under it; the run's time checked."""
        begin = time.monotonic()
        done = run_cli("status", env=self.env, timeout=30)
        took = time.monotonic() - begin
        assert done.returncode == 0 and done.stderr == "", done.stderr
        assert took < DEADLINE + 2, took
        rows: dict[str, list[str]] = {}
        last = ""
        for line in done.stdout.splitlines()[1:]:
            if line.startswith("    "):
                rows[last].append(line.strip())
            else:
                last = line.split()[0]
                rows[last] = [line]
        return rows

    def close(self) -> None:
        self.session.close()
        self.system.close()


@pytest.fixture
def buses(tmp_path: Path) -> Iterator[Buses]:
    b = Buses(tmp_path)
    try:
        yield b
    finally:
        b.close()


WRONG = [
    ("", "[]"),  # an empty body
    ("s", '["x"]'),  # another type
    ("a(ss)", '[[["a", "b"]]]'),  # short rows
    ("a(ssssuuu)", '[[["a", "b", "c", "d", 1, 2, 3]]]'),  # long rows
    ("a(ssssuu)s", '[[], "extra"]'),  # an extra value
    ("u", "[5]"),
]


@pytest.mark.parametrize(("signature", "body"), WRONG)
def test_a_wrong_reply_is_that_service_s_line(buses: Buses, signature: str, body: str) -> None:
    wrong = ["--list-reply", signature, body]
    StandIn(buses.system, "logind", *wrong)
    StandIn(buses.session, "gnome", *wrong)
    StandIn(buses.session, "power", *wrong)
    StandIn(buses.session, "screensaver")
    rows = buses.status()
    for mechanism, method, want in (
        ("logind", "ListInhibitors", "a(ssssuu)"),
        ("gnome-session", "GetInhibitors", "ao"),
        ("power-management", "HasInhibit", "b"),
    ):
        if signature == want:
            continue
        (line,) = rows[mechanism]
        assert line.endswith(f"answered {method} with a reply of type {signature!r}, not {want!r}")
    assert rows["screensaver"] == [rows["screensaver"][0]]
    assert rows["screensaver"][0].endswith("running; it cannot list its inhibitors")


def test_huge_lists_are_cut_and_counted(buses: Buses) -> None:
    StandIn(buses.system, "logind", "--list-many", "100000")
    StandIn(buses.session, "gnome", "--list-many", "5000")
    rows = buses.status()
    assert rows["logind"][0].endswith("100000 held")
    assert len(rows["logind"]) == 1 + LISTED + 1
    assert rows["logind"][-1] == f"... and {100000 - LISTED} more"
    assert rows["gnome-session"][0].endswith("5000 held")
    assert rows["gnome-session"][-1] == f"... and {5000 - LISTED} more"


def test_a_slow_service_cannot_hold_status_up(buses: Buses) -> None:
    """Each of gnome-session's Get* calls takes 0.4 s, with 20 inhibitors to show: 24 s of
    calls, cut at that service's share of the time; the others still answer."""
    StandIn(buses.session, "gnome", "--list-many", "50", "--slow-getters", "0.4")
    StandIn(buses.session, "power")
    begin = time.monotonic()
    rows = buses.status()
    assert time.monotonic() - begin < PER_SERVICE + 2
    assert rows["gnome-session"][0].endswith("gnome-session took more than its 2 s") or (
        "did not answer" in rows["gnome-session"][0]
    )
    assert rows["power-management"][0].endswith("not inhibited (it cannot say by whom)")
