"""Self-healing on real private buses: a service that restarts, one that leaves, a bus that
breaks and comes back, and a session that has lost everything."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import cocainate
from buses import Bus, StandIn, wait_until
from cocainate import EndReason, Event
from cocainate.core import holdings as session_module
from conftest import spawn_cli


class Running:
    """A session waiting in a thread, as a program or the CLI would wait."""

    def __init__(self, **kwargs: Any) -> None:
        self.events: list[Event] = []
        self.session = cocainate.Session(on_event=self.events.append, **kwargs).start()
        self.ended: list[object] = []
        self.thread = threading.Thread(target=lambda: self.ended.append(self.session.wait()))
        self.thread.start()

    def kinds(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(e.kind, e.mechanisms) for e in self.events]

    def close(self) -> None:
        self.session.stop()
        self.thread.join(10)


@pytest.fixture
def running() -> Iterator[list[Running]]:
    made: list[Running] = []
    yield made
    for r in made:
        r.close()


def test_a_restarted_service_is_inhibited_again_within_a_second(
    fresh_bus: Bus, running: list[Running]
) -> None:
    first = StandIn(fresh_bus, "screensaver")
    r = Running(methods=["screensaver"], reason="heal me")
    running.append(r)
    first.stop()
    second = StandIn(fresh_bus, "screensaver")
    back = time.monotonic()
    rows = wait_until(second.inhibitors, 1.0, "the new owner to be inhibited")
    assert time.monotonic() - back < 1.0
    assert rows[0][2] == "heal me"
    # the event is delivered once the session's dispatch is done, just after the Inhibit
    wait_until(lambda: ("reacquired", ("screensaver",)) in r.kinds(), 1.0, "the event")
    assert ("lost", ("screensaver",)) in r.kinds()
    r.close()
    assert second.inhibitors() == []  # and the release reached the new owner


def test_a_restarted_service_that_refuses_at_first_is_asked_again_until_it_grants(
    fresh_bus: Bus, running: list[Running]
) -> None:
    """Its first answers are errors: asked again, with a backoff, for as long as it runs;
    "lost" is said once, "reacquired" once, and it ends with exactly one inhibit."""
    first = StandIn(fresh_bus, "screensaver")
    StandIn(fresh_bus, "power")  # holds meanwhile, so the session has a reason to go on
    r = Running(methods=["screensaver", "power-management"])
    running.append(r)
    first.stop()
    second = StandIn(fresh_bus, "screensaver", "--refuse-first", "3")
    wait_until(second.inhibitors, 5, "the fourth call to be granted")
    wait_until(lambda: ("reacquired", ("screensaver",)) in r.kinds(), 2, "the event")
    time.sleep(0.5)
    assert len(second.inhibitors()) == 1
    assert len(second.calls("Inhibit")) == 1  # the refused three are not in its log
    assert r.kinds().count(("lost", ("screensaver",))) == 1
    assert r.kinds().count(("reacquired", ("screensaver",))) == 1
    assert "screensaver" in r.session.holding
    r.close()
    assert second.inhibitors() == []


def test_a_storm_of_slow_restarts_ends_with_exactly_one_inhibit(
    fresh_bus: Bus, running: list[Running]
) -> None:
    """Restarted eight times in a row, each instance answering its first two calls only
    2.5 s later (past the 2 s a call is given): the late grants count, the first is kept
    and any other given back, on the instance that runs at the end."""
    service = StandIn(fresh_bus, "screensaver")
    StandIn(fresh_bus, "power")
    r = Running(methods=["screensaver", "power-management"])
    running.append(r)
    for _ in range(8):
        service.stop()
        service = StandIn(fresh_bus, "screensaver", "--slow-first", "2", "2.5")
    wait_until(service.inhibitors, 5, "a grant on the last instance")
    wait_until(lambda: "screensaver" in r.session.holding, 2, "the hold to be taken back")
    time.sleep(3.5)  # every late answer has come by now
    assert len(service.inhibitors()) == 1, service.inhibitors()
    assert "screensaver" in r.session.holding and r.session.active
    r.close()
    assert service.inhibitors() == []


def test_a_service_that_leaves_is_reported_and_the_others_still_hold(
    fresh_bus: Bus, running: list[Running]
) -> None:
    screensaver, power = StandIn(fresh_bus, "screensaver"), StandIn(fresh_bus, "power")
    r = Running(methods=["screensaver", "power-management"])
    running.append(r)
    screensaver.stop()
    wait_until(lambda: ("lost", ("screensaver",)) in r.kinds(), 2, "the loss to be reported")
    lost = next(e for e in r.events if e.kind == "lost")
    assert lost.error == "org.freedesktop.ScreenSaver left the bus"
    assert r.session.holding == ("power-management",)
    assert power.inhibitors() and r.session.active
    holdings = r.session._run.holdings
    assert holdings is not None and holdings._grace.at is None  # one lost of two: it goes on
    assert r.session.active and not r.ended


def test_losing_everything_ends_the_session(
    fresh_bus: Bus, running: list[Running], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_module, "LOST_GRACE", 0.5)
    service = StandIn(fresh_bus, "screensaver")
    r = Running(methods=["screensaver"])
    running.append(r)
    service.stop()
    r.thread.join(5)
    assert r.ended and r.ended[0].reason is EndReason.LOST  # type: ignore[attr-defined]


def test_a_broken_bus_is_reconnected_and_reacquired(fresh_bus: Bus, running: list[Running]) -> None:
    StandIn(fresh_bus, "screensaver")
    r = Running(methods=["screensaver"])
    running.append(r)
    fresh_bus.kill()
    wait_until(lambda: ("lost", ("screensaver",)) in r.kinds(), 2, "the loss to be reported")
    # the service may be seen leaving before the daemon's own end is
    assert r.events[-1].error in (
        "the bus connection broke",
        "org.freedesktop.ScreenSaver left the bus",
    )
    assert r.session._run.holdings is not None
    resources = r.session._run.holdings._resources
    assert resources is not None
    wait_until(  # a retry or two against a bus that is not there
        lambda: (resources.link("session")._retry or (0, 0))[1] >= 0.5, 5, "two failed retries"
    )
    fresh_bus.restart()
    service = StandIn(fresh_bus, "screensaver")
    wait_until(service.inhibitors, 10, "the reconnected session to inhibit again")
    # the event comes after the Inhibit the service records: wait for it, not a moment
    wait_until(lambda: ("reacquired", ("screensaver",)) in r.kinds(), 5, "the reacquired event")


def test_the_cli_says_what_it_lost_and_exits_4_when_nothing_is_left(fresh_bus: Bus) -> None:
    import os

    service = StandIn(fresh_bus, "screensaver")
    process = spawn_cli("--method", "screensaver", env=dict(os.environ))
    assert process.stdout is not None
    process.stdout.readline()
    begin = time.monotonic()
    service.stop()
    _, err = process.communicate(timeout=20)
    assert process.returncode == 4
    assert "cocainate: lost screensaver: org.freedesktop.ScreenSaver left the bus" in err
    assert "nothing holds any more" in err
    assert time.monotonic() - begin >= session_module.LOST_GRACE - 0.5


def test_the_cli_reports_a_reacquisition(fresh_bus: Bus) -> None:
    import os

    first = StandIn(fresh_bus, "screensaver")
    process = spawn_cli("--method", "screensaver", env=dict(os.environ))
    assert process.stdout is not None
    process.stdout.readline()
    first.stop()
    second = StandIn(fresh_bus, "screensaver")
    wait_until(second.inhibitors, 2, "the re-acquisition")
    process.terminate()
    _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "cocainate: re-acquired screensaver" in err
