"""Control of running sessions over the session bus: ``Session.publish()`` serves a
session's state and methods, :func:`cocainate.find_sessions` finds them from another
process, and the commands (``toggle``, ``on``, ``off``, ``pause``, ``resume``, ``extend``,
``stop``, ``status --json`` and ``--follow``) are their clients. On the test desktop's
private session bus with its stand-in services, which record every Inhibit and UnInhibit;
the sessions under control are real ``cocainate`` processes and library sessions."""

from __future__ import annotations

import threading
import time

import pytest

import cocainate
from buses import wait_until
from cocainate import Session, SessionError
from conftest import Desktop


def held(desktop: Desktop) -> int:
    return len(desktop.held()["screensaver"])


def test_a_published_session_is_found_and_steered(bus_env: Desktop) -> None:
    session = Session(methods=["screensaver"], duration=600, reason="the build").start()
    waiter = threading.Thread(target=session.wait, args=(30,))
    try:
        name = session.publish("program")
        waiter.start()
        (found,) = cocainate.find_sessions()
        assert found.name == name and found.kind == "program" and found.state == "holding"
        assert found.holding == ("screensaver",) and found.reason == "the build"
        assert found.until is not None and 595 < found.until - time.time() <= 600
        assert found.toggle() is True
        wait_until(lambda: held(bus_env) == 0, 3, "the pause to let go")
        assert cocainate.find_sessions()[0].paused
        found.resume()
        wait_until(lambda: held(bus_env) == 1, 3, "the resume to hold")
        found.extend(60)
        assert session.ends_at is not None and 655 < session.ends_at - time.time() <= 660
        assert abs(cocainate.find_sessions()[0].until - session.ends_at) < 0.01  # type: ignore[operator]
        found.end_at(time.time() + 0.3)
        waiter.join(5)  # it ends at the new end
        assert not waiter.is_alive() and session.ended is not None
        assert session.ended.reason == "until"
    finally:
        session.stop()
        waiter.join(5)
    assert cocainate.find_sessions() == []  # its name left the bus with the release


def test_stop_waits_for_the_release(bus_env: Desktop) -> None:
    session = Session(methods=["screensaver"]).start()
    waiter = threading.Thread(target=session.wait)
    try:
        session.publish()
        waiter.start()
        (found,) = cocainate.find_sessions()
        assert found.until is None
        with pytest.raises(SessionError, match="no end to extend"):
            found.extend(60)
        assert found.stop() is True
        assert held(bus_env) == 0  # let go before stop() returned
        waiter.join(5)
        assert session.ended is not None and session.ended.reason == "stopped"
    finally:
        session.stop()
        waiter.join(5)
