"""The session core under faults and misuse: replies of the wrong type, services restarting
again and again, fork(), callbacks that call back or raise, one inhibit() object shared by
threads, stops during start, signals during release. Real private buses throughout."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import cocainate
from buses import Bus, StandIn, wait_until
from cocainate import EndReason, Session, SessionError, UsageError
from conftest import Desktop


@pytest.fixture
def system_bus(tmp_path: Path, fresh_bus: Bus, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bus]:
    bus = Bus(tmp_path / "system", "system")
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address)
    yield bus
    bus.close()


def test_replies_of_the_wrong_type_fail_that_mechanism_alone(
    fresh_bus: Bus, system_bus: Bus
) -> None:
    """A cookie that is not ``u`` and a lock that is not ``h``: those two fail with a clear
    line; the rest holds and is released normally; a second stop() and the repr say so."""
    screensaver = StandIn(fresh_bus, "screensaver", "--reply-type", "t")
    StandIn(system_bus, "logind", "--reply-type", "u")
    gnome = StandIn(fresh_bus, "gnome")
    session = Session().start()
    errors = {a.name: a.error for a in session.attempts if not a.held}
    del errors["x11"], errors["wayland"]  # no display in this test
    assert errors == {
        "screensaver": "org.freedesktop.ScreenSaver answered Inhibit with a reply of type 't',"
        " not 'u'",
        "power-management": "org.freedesktop.PowerManagement is not running",
        "logind": "org.freedesktop.login1 answered Inhibit with a reply of type 'u', not 'h'",
    }
    assert session.holding == ("gnome-session",)
    assert repr(session) == "<Session holding mode=display holding gnome-session>"
    session.stop()
    session.stop()
    assert repr(session) == "<Session released mode=display holding nothing>"
    assert not session.holding and session.problems == []
    assert len(gnome.calls("Uninhibit")) == 1 and gnome.inhibitors() == []
    assert screensaver.calls("UnInhibit") == []  # no cookie to give back: the close drops it
    wait_until(lambda: not screensaver.inhibitors(), 3, "the closed connection to drop it")


def drive(session: Session, until: object, timeout: float = 5) -> None:
    """Run the session's own wait until ``until()`` holds (it sleeps on its sources)."""
    deadline = time.monotonic() + timeout
    while not until():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out driving the session"
        session.wait(timeout=0.05)


def test_a_service_restarting_again_and_again_ends_with_one_inhibit(fresh_bus: Bus) -> None:
    """Five restarts while nobody drives the session (its messages queue up): once it looks,
    exactly one Inhibit goes to the instance that runs now, and the release sends exactly
    one UnInhibit there. Restarts after the release reach nothing."""
    first = StandIn(fresh_bus, "screensaver")
    events: list[cocainate.Event] = []
    session = Session(methods=["screensaver"], on_event=events.append).start()
    assert len(first.calls("Inhibit")) == 1
    instances = [first]
    for _ in range(5):
        instances[-1].stop()
        instances.append(StandIn(fresh_bus, "screensaver"))
    final = instances[-1]
    drive(session, lambda: any(e.kind == "reacquired" for e in events))
    end = time.monotonic() + 0.3  # and nothing more arrives afterwards
    while time.monotonic() < end:
        session.wait(timeout=0.05)
    assert len(final.calls("Inhibit")) == 1
    assert [e.kind for e in events] == ["acquired", "lost", "reacquired"]
    session.stop()
    assert len(final.calls("UnInhibit")) == 1 and final.inhibitors() == []
    final.stop()
    after = StandIn(fresh_bus, "screensaver")
    assert after.calls() == []


def test_a_forked_child_never_releases_the_parents_inhibits(bus_env: Desktop) -> None:
    session = Session().start()
    pid = os.fork()
    if pid == 0:  # the child leaves as a careless program would: through the session's stop
        try:
            session.stop()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    held = bus_env.held()
    assert all(held.values()), held  # the parent still holds everything
    assert bus_env.screensaver.calls("UnInhibit") == []
    session.stop()
    assert len(bus_env.screensaver.calls("UnInhibit")) == 1


def test_a_forked_child_s_wait_ends_at_once_and_leaves_the_parents_inhibits(
    bus_env: Desktop,
) -> None:
    """A child made by fork() that waits on the session (as a program's worker would): its
    copy ends at once, without a word to the services; the parent still holds."""
    session = Session().start()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            ended = session.wait(timeout=5)
            status = 0 if ended is not None else 2
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(status)
    began = time.monotonic()
    while time.monotonic() - began < 8:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.02)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        raise AssertionError("the child's wait() did not end")
    assert os.waitstatus_to_exitcode(status) == 0  # ended, not timed out
    assert time.monotonic() - began < 2
    held = bus_env.held()
    assert all(held.values()), held
    assert bus_env.screensaver.calls("UnInhibit") == []
    session.stop()


def test_callbacks_may_call_the_session(bus_env: Desktop) -> None:
    """on_event runs with no lock held: it may add a PID and stop the session."""
    child = os.posix_spawn("/bin/sleep", ["sleep", "30"], os.environ)
    calls: list[str] = []

    def on_event(event: cocainate.Event) -> None:
        calls.append(event.kind)
        if event.kind == "acquired":
            session.add_pid(child)
            session.add_pid(child)  # already watched: nothing changes
            assert session.pids == (child,)
            session.stop()

    session = Session(methods=["screensaver"], on_event=on_event)
    with pytest.raises(SessionError, match="stopped while starting"):
        session.start()
    assert session.state == "released"
    assert calls == ["acquired", "ended", "released"]
    assert bus_env.nothing_held()
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)


@pytest.mark.parametrize("when", ["acquired", "lost"])
def test_a_keyboard_interrupt_from_a_callback_leaves_nothing_held(
    fresh_bus: Bus, when: str
) -> None:
    kept = StandIn(fresh_bus, "screensaver")
    leaving = StandIn(fresh_bus, "gnome")

    def on_event(event: cocainate.Event) -> None:
        if event.kind == when:
            raise KeyboardInterrupt

    session = Session(methods=["screensaver", "gnome-session"], on_event=on_event)
    with pytest.raises(KeyboardInterrupt):
        session.start()
        leaving.stop()  # its service leaves: "lost"
        session.wait()
    assert session.state == "released"
    assert kept.inhibitors() == [] and len(kept.calls("UnInhibit")) == 1


def test_one_inhibit_object_shared_by_threads_gives_each_its_own(bus_env: Desktop) -> None:
    shared = cocainate.inhibit(methods=["screensaver"])
    inside = threading.Barrier(4)
    order = [threading.Event() for _ in range(4)]
    mine: dict[int, Session] = {}
    states: dict[int, list[str]] = {}

    def worker(n: int) -> None:
        with shared as session:
            mine[n] = session
            inside.wait()
            order[n].wait()
        states[n] = [mine[k].state for k in range(4)]

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for n in (2, 0, 3, 1):  # leave in another order than they came
        wait_until(lambda: len(mine) == 4, 5, "every thread inside")
        order[n].set()
        threads[n].join()
        assert states[n][n] == "released"
    assert len({id(s) for s in mine.values()}) == 4
    assert states[2] == ["holding", "holding", "released", "holding"]
    assert bus_env.nothing_held()


def test_a_session_stopped_while_starting_raises_having_released(fresh_bus: Bus) -> None:
    held = StandIn(fresh_bus, "screensaver")
    StandIn(fresh_bus, "gnome", "--hang")  # start waits for it, up to 2 s
    session = Session(methods=["screensaver", "gnome-session"])

    def stop_once_held() -> None:
        wait_until(lambda: held.inhibitors(), 5, "the first inhibit")
        session.stop()

    stopper = threading.Thread(target=stop_once_held)
    stopper.start()
    with pytest.raises(SessionError, match="stopped while starting"):
        session.start()
    stopper.join()
    assert session.state == "released" and session.holding == ()
    assert held.inhibitors() == [] and len(held.calls("UnInhibit")) == 1


def test_add_pid_refuses_a_thread_id(bus_env: Desktop) -> None:
    gate = threading.Event()
    thread = threading.Thread(target=gate.wait)
    thread.start()
    try:
        with Session(methods=["screensaver"]) as session:
            assert thread.native_id is not None
            with pytest.raises(UsageError, match=f"is a thread of process {os.getpid()}"):
                session.add_pid(thread.native_id)
    finally:
        gate.set()
        thread.join()


def test_wait_without_a_timeout_returns_ended(bus_env: Desktop) -> None:
    with Session(duration=0.05, methods=["screensaver"]) as session:
        ended = session.wait()
        assert ended.reason is EndReason.DURATION  # an Ended, never None


def test_a_second_signal_during_a_slow_release_is_no_keyboard_interrupt(fresh_bus: Bus) -> None:
    """handle_signals: SIGTERM starts the release, whose UnInhibit hangs (1 s limit); a SIGINT
    then must neither cut it short nor leave wait() as a KeyboardInterrupt."""
    slow = StandIn(fresh_bus, "screensaver", "--hang-release")
    before = signal.getsignal(signal.SIGINT)
    session = Session(methods=["screensaver"], handle_signals=True).start()

    def interrupt_during_release() -> None:
        wait_until(lambda: slow.calls("UnInhibit"), 5, "the release to begin")
        os.kill(os.getpid(), signal.SIGINT)

    helper = threading.Thread(target=interrupt_during_release)
    helper.start()
    os.kill(os.getpid(), signal.SIGTERM)
    ended = session.wait()
    helper.join()
    assert ended.reason is EndReason.SIGNAL and ended.signal == signal.SIGTERM
    assert session.problems == [
        "screensaver: release failed: org.freedesktop.ScreenSaver /org/freedesktop/ScreenSaver"
        " did not answer UnInhibit within 1 s"
    ]
    assert signal.getsignal(signal.SIGINT) == before


def test_two_async_waiters_one_cancelled(bus_env: Desktop) -> None:
    async def main() -> EndReason:
        with Session(duration=0.3, methods=["screensaver"]) as session:
            first = asyncio.ensure_future(session.wait_async())
            second = asyncio.ensure_future(session.wait_async())
            await asyncio.sleep(0.05)
            first.cancel()
            ended = await asyncio.wait_for(second, 5)
            assert first.cancelled()
            return ended.reason

    assert asyncio.run(main()) is EndReason.DURATION
    assert bus_env.nothing_held()


def test_wait_async_under_trio(bus_env: Desktop) -> None:
    trio = pytest.importorskip("trio")

    async def main() -> EndReason:
        with Session(duration=0.3, methods=["screensaver"]) as session:
            with trio.move_on_after(0.05):  # a cancelled waiter leaves the session alone
                await session.wait_async()
            assert session.state == "holding"
            ended = await session.wait_async()
            return ended.reason

    assert trio.run(main) is EndReason.DURATION
    assert bus_env.nothing_held()


def test_one_inhibit_object_shared_by_tasks_gives_each_its_own(bus_env: Desktop) -> None:
    """Two tasks in one ``inhibit`` object: the one that entered first leaves first, and the
    other's session must still hold (a shared stack would have released it instead)."""
    shared = cocainate.inhibit(methods=["screensaver"])

    async def main() -> None:
        first_in, second_in, first_out = asyncio.Event(), asyncio.Event(), asyncio.Event()
        sessions: dict[str, Session] = {}

        async def first() -> None:
            async with shared as session:
                sessions["first"] = session
                first_in.set()
                await second_in.wait()
            assert session.state == "released"
            first_out.set()

        async def second() -> None:
            await first_in.wait()
            async with shared as session:
                sessions["second"] = session
                second_in.set()
                await first_out.wait()
                assert session.state == "holding"  # the first task's exit left it alone
            assert session.state == "released"

        await asyncio.gather(first(), second())
        assert sessions["first"] is not sessions["second"]

    asyncio.run(main())
    assert bus_env.nothing_held()
