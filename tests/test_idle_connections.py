"""Sessions in one process share one connection per bus: a hold that let go cleanly gives
its connection back, and the next hold takes it (no connect, no Hello). Real dbus-daemon,
stand-in services that drop an inhibit when its owner's connection closes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from buses import Bus, StandIn, wait_until
from cocainate import Session
from cocainate.bindings import idle


@pytest.fixture
def screensaver(fresh_bus: Bus) -> Iterator[StandIn]:
    idle.close_idle()
    service = StandIn(fresh_bus, "screensaver")
    try:
        yield service
    finally:
        idle.close_idle()


def callers(service: StandIn) -> list[str]:
    return [caller for _method, _when, caller, _cookie in service.calls("Inhibit")]


def hold_once() -> Session:
    session = Session(methods=["screensaver"]).start()
    session.stop()
    return session


def test_sessions_in_a_row_use_one_connection(screensaver: StandIn) -> None:
    for _ in range(5):
        hold_once()
    assert len(set(callers(screensaver))) == 1
    assert screensaver.inhibitors() == []
    # and it is closed when asked (at exit): the bus sees the name go
    (name,) = set(callers(screensaver))
    idle.close_idle()
    wait_until(lambda: not screensaver.bus.has_owner(name), 3, "the idle connection to close")


def test_a_failed_release_closes_the_connection_which_drops_the_inhibit(
    fresh_bus: Bus,
) -> None:
    idle.close_idle()
    refusing = StandIn(fresh_bus, "screensaver", "--fail-release")
    try:
        first = hold_once()
        assert any("release failed" in p for p in first.problems)
        wait_until(lambda: refusing.inhibitors() == [], 3, "the inhibit to go with its connection")
        hold_once()
        a, b = callers(refusing)
        assert a != b, "a connection whose release failed was used again"
    finally:
        idle.close_idle()


def test_a_service_that_restarted_while_idle_is_one_inhibit_and_no_loss(
    screensaver: StandIn, fresh_bus: Bus
) -> None:
    """The name's changes reach the idle connection (its match stays); they are old news
    to the next hold, which must neither report a loss nor ask twice."""
    hold_once()
    screensaver.stop()
    wait_until(lambda: not fresh_bus.has_owner(screensaver.name), 3, "the service to leave")
    again = StandIn(fresh_bus, "screensaver")
    events: list[str] = []
    session = Session(methods=["screensaver"], on_event=lambda e: events.append(e.kind))
    session.start()
    try:
        session.wait(0.5)
        assert len(again.inhibitors()) == 1
        assert session.holding == ("screensaver",)
    finally:
        session.stop()
    assert "lost" not in events and "reacquired" not in events, events
    assert again.inhibitors() == []
    assert len(set(callers(again))) == 1


def test_a_connection_the_bus_closed_while_idle_is_replaced(fresh_bus: Bus) -> None:
    idle.close_idle()
    StandIn(fresh_bus, "screensaver")
    try:
        hold_once()
        fresh_bus.kill()  # the idle connection reads an end of file now
        fresh_bus.restart()
        again = StandIn(fresh_bus, "screensaver")
        session = Session(methods=["screensaver"]).start()
        try:
            assert session.holding == ("screensaver",)
            assert len(again.inhibitors()) == 1
        finally:
            session.stop()
        assert again.inhibitors() == []
    finally:
        idle.close_idle()


def test_a_forked_child_never_uses_its_parents_connection(screensaver: StandIn) -> None:
    hold_once()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one hold, then say nothing and leave at once
        try:
            Session(methods=["screensaver"]).start().stop()
            os.write(write, b"ok")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 2) == b"ok"
    os.close(read)
    hold_once()  # the parent's connection still works
    parent, child, parent_again = callers(screensaver)
    assert child != parent and parent_again == parent
    assert screensaver.inhibitors() == []


def test_the_idle_connection_is_closed_at_exit(screensaver: StandIn, fresh_bus: Bus) -> None:
    code = (
        "import cocainate\n"
        "s = cocainate.Session(methods=['screensaver']).start(); s.stop()\n"
        "from cocainate.bindings import idle\n"
        "assert len(idle._idle) == 1\n"
    )
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=fresh_bus.address)
    done = subprocess.run([sys.executable, "-c", code], env=env, timeout=30)
    assert done.returncode == 0
    (name,) = callers(screensaver)
    assert not fresh_bus.has_owner(name)
