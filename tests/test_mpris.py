"""--while-playing follows players, and only players, for as long as they are players.

A player here is tests/services/player.py on the real private session bus, driven line by
line: it owns (or gives up) MPRIS names and says what it plays, as mpv, VLC or a browser
would; a connection that owns no MPRIS name is no player, whatever it announces.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from buses import wait_until
from cocainate import MediaPlaying
from cocainate.core.following import SWITCH_SPACING
from conftest import Desktop
from test_conditions import Watching

PLAYER = Path(__file__).parent / "services" / "player.py"


class Player:
    def __init__(self, desktop: Desktop) -> None:
        self.process = desktop.session_bus.spawn(
            [sys.executable, str(PLAYER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.process.stdout is not None
        self.unique_name = self.process.stdout.readline().strip()

    def do(self, *commands: str) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        for command in commands:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
            assert self.process.stdout.readline().strip() == "ok", command

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)


@pytest.fixture
def players(bus_env: Desktop) -> Iterator[list[Player]]:
    made: list[Player] = []

    def start() -> Player:
        made.append(Player(bus_env))
        return made[-1]

    yield start  # type: ignore[misc]
    for player in made:
        player.kill()


@pytest.fixture
def watch(bus_env: Desktop) -> Iterator[Watching]:
    w = Watching(conditions=MediaPlaying(), methods=["screensaver"])
    try:
        assert w.kinds() == ["waiting"]
        yield w
    finally:
        w.stop()


def settled(w: Watching, start: Any, new_hold: bool = True) -> str:
    """Wait until the session has read everything sent so far: a sentinel player that
    starts now, playing, is seen after it (its hold made, with ``new_hold``). Returns what
    the session said of it."""
    sentinel = start()
    sentinel.do("own sentinel", "status Playing")

    def seen() -> str | None:
        if new_hold:
            held = [e.condition for e in w.events if e.kind == "acquired"]
            return next((c for c in held if c and "sentinel" in c), None)
        now = w.session.conditions_now
        return now if "sentinel" in now else None

    said: str = wait_until(seen, 5, "the sentinel to be seen")
    sentinel.kill()
    return said


def test_a_connection_that_owns_no_player_name_never_holds(
    bus_env: Desktop, players: Any, watch: Watching
) -> None:
    impostor = players()
    impostor.do("status Playing")
    assert settled(watch, players) == "sentinel plays"
    assert watch.events[1].condition == "sentinel plays"  # the first hold


def test_a_player_that_gives_up_its_name_is_no_player(
    bus_env: Desktop, players: Any, watch: Watching
) -> None:
    player = players()
    player.do("own quitter", "status Playing")
    assert watch.wait_for("acquired").condition == "quitter plays"
    player.do("release quitter")  # still connected, but no player any more
    assert watch.wait_for("released").condition == "no media plays"
    player.do("status Paused", "status Playing")  # what it says now counts for nothing
    assert settled(watch, players) == "sentinel plays"
    assert watch.kinds()[:4] == ["waiting", "acquired", "released", "acquired"]


def test_a_player_is_named_by_its_well_known_name_at_once(
    bus_env: Desktop, players: Any, watch: Watching
) -> None:
    """A player that starts after cocainate, already playing, and announces it at once: the
    announcement may come before the answer to cocainate's question."""
    for round in range(5):
        player = players()
        player.do(f"start late{round}")
        event = watch.wait_for("acquired", round + 1)
        assert event.condition == f"late{round} plays"
        player.kill()
        watch.wait_for("released", round + 1)


def test_a_program_with_two_names_is_one_player(
    bus_env: Desktop, players: Any, watch: Watching
) -> None:
    """VLC owns org.mpris.MediaPlayer2.vlc and .vlc.instance<PID>: one player, named
    by the shorter name, that plays until it owns neither."""
    vlc = players()
    vlc.do("quiet Playing", "own vlc", "own vlc.instance4242")
    assert watch.wait_for("acquired").condition == "vlc plays"
    vlc.do("release vlc.instance4242")  # one name given up: still a player, still playing
    assert settled(watch, players, new_hold=False) == "sentinel, vlc play"
    assert watch.kinds() == ["waiting", "acquired"]
    wait_until(lambda: watch.session.conditions_now == "vlc plays", 5, "the sentinel gone")
    vlc.do("release vlc")
    assert watch.wait_for("released").condition == "no media plays"


def test_nothing_stays_held_after_a_player_s_connection_is_gone(
    bus_env: Desktop, players: Any, watch: Watching
) -> None:
    for how in ("own gone", "quiet Playing"), ("quiet Playing", "own gone"):
        player = players()
        player.do(*how, "status Playing")
        watch.wait_for("acquired", 1 + (how[0] != "own gone"))
        player.kill()
        watch.wait_for("released", 1 + (how[0] != "own gone"))
        wait_until(lambda: not bus_env.held()["screensaver"], 3, "the inhibit let go")


def test_an_invalidated_status_is_asked_for(
    bus_env: Desktop, players: Any, watch: Watching
) -> None:
    player = players()
    player.do("own asked")
    player.do("quiet Playing", "invalidate")
    assert watch.wait_for("acquired").condition == "asked plays"


def test_a_player_flapping_costs_a_bounded_number_of_calls(
    bus_env: Desktop, players: Any, watch: Watching
) -> None:
    """200 turns between Playing and Paused in 2 s: at most one hold or release a
    second reaches the desktop, and what holds at the end follows the last word."""
    player = players()
    player.do("own flapper")
    bus_env.screensaver.reset()
    begin = time.monotonic()
    player.do("flap 200 10")  # ends Paused
    wait_until(lambda: watch.session.state == "waiting", 3, "the last word to be followed")
    seconds = time.monotonic() - begin
    calls = bus_env.screensaver.calls()
    assert len(calls) <= 2 * (seconds / SWITCH_SPACING + 1), (seconds, calls)
    assert not bus_env.screensaver.inhibitors()
