"""The library's Session on real private buses: every way it ends, and that it leaks nothing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from datetime import timedelta
from typing import Callable

import pytest

import cocainate
from buses import Bus, wait_until
from cocainate import EndReason, NoMechanismError, Session, SessionError, UsageError
from conftest import Desktop, signal_from_another_thread


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_inhibit_holds_every_service_for_the_block(bus_env: Desktop) -> None:
    with cocainate.inhibit(reason="library") as session:
        held = bus_env.held()
        assert all(held.values()), held
        assert [a.name for a in session.acquired] == [
            "screensaver",
            "gnome-session",
            "power-management",
            "logind",
        ]
        assert held["screensaver"][0][2] == "library"
    assert session.ended is not None and session.ended.reason is EndReason.STOPPED
    # UnInhibit was called, not merely the connection closed
    assert len(bus_env.screensaver.calls("UnInhibit")) == 1
    assert len(bus_env.gnome.calls("Uninhibit")) == 1


def test_system_mode_leaves_the_screensaver_alone(bus_env: Desktop) -> None:
    with Session(mode="system") as session:
        assert [a.name for a in session.acquired] == ["gnome-session", "power-management", "logind"]
        assert bus_env.screensaver.inhibitors() == []
        assert bus_env.logind.inhibitors()[0][0] == "sleep"


def test_display_mode_never_blocks_a_suspend_a_person_asks_for(bus_env: Desktop) -> None:
    """A logind lock on "sleep" in block mode is what makes the desktop's Suspend,
    ``systemctl suspend`` and the sleep key fail; display mode must take none, neither
    itself nor through gnome-session (whose stand-in takes one for the suspend flag, as
    gnome-session does). It keeps the screen on and idle sleep away all the same."""
    with Session(mode="display"):
        assert bus_env.screensaver.inhibitors() and bus_env.gnome.inhibitors()
        locks = bus_env.logind.inhibitors()
        assert ("idle", "cocainate", "cocainate is keeping the display awake", "block") in locks
        assert not [lock for lock in locks if "sleep" in lock[0].split(":")], locks


def test_system_mode_blocks_sleep_as_systemd_inhibit_does(bus_env: Desktop) -> None:
    with Session(mode="system"):
        whats = sorted(lock[0] for lock in bus_env.logind.inhibitors())
        assert whats == ["sleep", "sleep"]  # its own, and gnome-session's for the flag


def test_duration_ends_it(bus_env: Desktop) -> None:
    session = Session(duration=timedelta(milliseconds=200)).start()
    started = time.monotonic()
    ended = session.wait()
    elapsed = time.monotonic() - started
    assert ended is not None and ended.reason is EndReason.DURATION
    assert 0.19 <= elapsed < 1.0
    assert not session.active


def test_every_watched_process_must_exit(bus_env: Desktop) -> None:
    short = subprocess.Popen(["sleep", "0.1"])
    longer = subprocess.Popen(["sleep", "0.4"])
    session = Session(pids=[short.pid, longer.pid]).start()
    short.wait()
    assert session.wait(timeout=0.05) is None  # one still runs
    longer.wait()
    ended = session.wait()
    assert ended is not None and ended.reason is EndReason.PROCESS_EXIT
    assert ended.pid == longer.pid


def test_a_process_that_does_not_exist_is_refused_before_anything_is_held(bus_env: Desktop) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    with pytest.raises(cocainate.ProcessNotFoundError, match=f"no process with PID {dead.pid}"):
        Session(pids=[dead.pid]).start()
    assert bus_env.screensaver.calls() == []


def test_stop_from_another_thread_wakes_the_waiter(bus_env: Desktop) -> None:
    session = Session(duration=3600).start()
    timer = threading.Timer(0.1, session.stop)
    timer.start()
    ended = session.wait()
    timer.join()
    assert ended is not None and ended.reason is EndReason.STOPPED
    assert bus_env.nothing_held() or wait_until(bus_env.nothing_held, 2)


def test_stop_from_another_thread_returns_after_the_release(bus_env: Desktop) -> None:
    session = Session(duration=3600).start()
    waiter = threading.Thread(target=session.wait)
    waiter.start()
    wait_until(lambda: session._callers, 5, "the waiter to be waiting")
    session.stop()
    assert not session.active
    assert bus_env.screensaver.inhibitors() == []
    waiter.join()


def test_a_stop_made_whole_between_the_waiters_look_and_its_sleep_still_ends_the_wait(
    bus_env: Desktop,
) -> None:
    """The waiting thread looks whether the session ends, then sleeps; a stop that another
    thread makes whole in between (forced here: an observer, which runs in that window,
    waits for it) closes the reactor under it. The wait still ends, and the waker closes
    once the waiter is out. (It once slept on nothing, forever, and kept pytest from
    exiting.) The observer list is the session's own hook, as ``publish`` uses it."""
    session = Session(methods=["screensaver"], duration=3600).start()
    stopped: list[bool] = []

    def stop_in_another_thread() -> None:
        if not stopped:
            stopper = threading.Thread(target=session.stop)
            stopper.start()
            stopper.join(10)
            stopped.append(not stopper.is_alive())

    session._run.observers.append(stop_in_another_thread)
    waiter = threading.Thread(target=session.wait, daemon=True)  # a failure must not stall
    waiter.start()
    waiter.join(5)
    assert stopped == [True]
    assert not waiter.is_alive(), "the wait slept on after the stop"
    assert session._run.waker is None  # closed by the waiter on its way out
    assert bus_env.screensaver.inhibitors() == []


def test_stop_twice_and_before_start(bus_env: Desktop) -> None:
    never = Session()
    never.stop()
    with pytest.raises(SessionError):
        never.start()
    session = Session().start()
    session.stop()
    session.stop()
    assert session.wait() is not None
    with pytest.raises(SessionError, match="only once"):
        session.start()


def test_stop_from_a_signal_handler(bus_env: Desktop) -> None:
    session = Session(duration=3600).start()
    previous = signal.signal(signal.SIGUSR1, lambda *_: session.stop())
    try:
        threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        ended = session.wait()
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert ended is not None and ended.reason is EndReason.STOPPED


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGHUP])
def test_handled_signals_end_it_and_handlers_are_restored(bus_env: Desktop, signum: int) -> None:
    def mine(*_: object) -> None:
        pass

    before = signal.signal(signum, mine)
    try:
        session = Session(handle_signals=True).start()
        assert signal.getsignal(signum) != mine
        threading.Timer(0.05, os.kill, (os.getpid(), signum)).start()
        ended = session.wait()
        assert ended is not None and ended.reason is EndReason.SIGNAL and ended.signal == signum
        assert signal.getsignal(signum) is mine
    finally:
        signal.signal(signum, before)


def test_a_signal_ignored_at_start_stays_ignored(bus_env: Desktop) -> None:
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with Session(handle_signals=True):
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN)
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, before)


def test_a_signal_after_a_release_elsewhere_reaches_the_program_s_handler(
    bus_env: Desktop,
) -> None:
    """Released by another thread, which may not put the handlers back: the next signal
    finds the session's handler, which puts them back and passes the signal on to the
    program's own, not swallowing it."""
    got: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: got.append(signum))
    try:
        session = Session(handle_signals=True).start()
        stopper = threading.Thread(target=session.stop)
        stopper.start()
        stopper.join()
        assert session.state == "released"
        os.kill(os.getpid(), signal.SIGTERM)
        wait_until(lambda: got, 2, "the program's handler to get the signal")
        assert got == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_signals_are_left_alone_unless_asked(bus_env: Desktop) -> None:
    before = signal.getsignal(signal.SIGTERM)
    with Session():
        assert signal.getsignal(signal.SIGTERM) is before


def test_signal_handling_needs_the_main_thread(bus_env: Desktop) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            Session(handle_signals=True).start()
        except BaseException as err:
            errors.append(err)

    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    assert isinstance(errors[0], SessionError)
    assert bus_env.screensaver.calls() == []


def test_an_exception_in_the_block_releases(bus_env: Desktop) -> None:
    with pytest.raises(ZeroDivisionError), cocainate.inhibit():
        assert bus_env.screensaver.inhibitors()
        1 / 0  # noqa: B018
    assert bus_env.screensaver.inhibitors() == []


def test_keyboard_interrupt_while_waiting_releases(bus_env: Desktop) -> None:
    session = Session().start()
    threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        session.wait()
    assert not session.active
    assert bus_env.screensaver.inhibitors() == []


def test_a_signal_another_thread_caught_still_interrupts_the_wait(bus_env: Desktop) -> None:
    """Without the wakeup fd, the sleep went on until its timeout (the CLI has none)."""
    session = Session().start()
    began = time.monotonic()
    thread = signal_from_another_thread(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        session.wait(timeout=60)
    thread.join()
    assert time.monotonic() - began < 30, "the wait slept through the signal"
    assert not session.active
    assert bus_env.screensaver.inhibitors() == []
    assert signal.set_wakeup_fd(-1) == -1, "the wakeup fd was left set"


def test_a_handled_signal_another_thread_caught_ends_the_session(bus_env: Desktop) -> None:
    session = Session(handle_signals=True).start()
    began = time.monotonic()
    thread = signal_from_another_thread(signal.SIGTERM)
    ended = session.wait(timeout=60)
    thread.join()
    assert time.monotonic() - began < 30, "the wait slept through the signal"
    assert ended is not None and ended.reason is EndReason.SIGNAL
    assert ended.signal == signal.SIGTERM
    assert bus_env.screensaver.inhibitors() == []


def test_a_program_s_own_wakeup_fd_is_left_in_place(bus_env: Desktop) -> None:
    """An event loop's wakeup fd stays set; the session's wait does not take it over."""
    import socket

    theirs, other = socket.socketpair()
    theirs.setblocking(False)
    signal.set_wakeup_fd(theirs.fileno())
    try:
        with Session() as session:
            assert session.wait(timeout=0.01) is None
    finally:
        assert signal.set_wakeup_fd(-1) == theirs.fileno()
        theirs.close()
        other.close()


def test_nothing_usable_raises_with_every_reason(fresh_bus: Bus) -> None:
    with pytest.raises(NoMechanismError) as info:
        Session().start()
    names = [a.name for a in info.value.attempts]
    assert names == ["screensaver", "gnome-session", "power-management", "x11", "wayland", "logind"]
    assert all(a.error for a in info.value.attempts)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"duration": -1}, "duration must be a finite number"),
        ({"duration": float("nan")}, "duration must be a finite number"),
        ({"duration": "1h"}, "duration must be seconds"),
        ({"linger": "2s"}, "linger must be seconds"),
        ({"pids": [0]}, "not 0"),
        ({"pids": [-3]}, "not -3"),
        ({"pids": [True]}, "not True"),
        ({"pids": "4242"}, "not '4242'"),  # one wrong value, not four PIDs of one digit
        ({"pids": 4.5}, "pids must be a PID or PIDs"),
        ({"mode": "bright"}, "unknown mode"),
        ({"methods": ["nope"]}, "unknown method 'nope'"),
        ({"methods": 5}, "methods must be mechanism names"),
        ({"methods": [None]}, "a method is a mechanism's name"),
        ({"on_event": "print"}, "on_event must be callable"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, object], words: str) -> None:
    """Every wrong argument is a UsageError that names it: never a TypeError from deep
    inside, nor a message about something else (a string's first character)."""
    with pytest.raises(UsageError, match=re.escape(words)):
        Session(**kwargs)  # type: ignore[arg-type]


def test_bad_calls_on_a_running_session_are_named_and_it_goes_on(bus_env: Desktop) -> None:
    """A wrong argument to a running session's method is refused where it is made: a
    source without fileno() used to be taken, and then ended the session from inside its
    wait (AttributeError), far from the mistake."""
    calls: list[tuple[Callable[[Session], object], str]] = [
        (lambda s: s.watch(5), "watch() needs fileno() and on_readable(fd)"),
        (lambda s: s.watch(object()), "watch() needs fileno() and on_readable(fd)"),
        (lambda s: s.wait(timeout="1"), "timeout must be seconds"),  # type: ignore[call-overload]
        (lambda s: s.wait(timeout=-1), "timeout must be a finite number of seconds >= 0"),
        (lambda s: s.wait(timeout=float("nan")), "timeout must be a finite number"),
        (lambda s: s.extend("1h"), "extend's duration must be seconds"),  # type: ignore[arg-type]
        (lambda s: s.publish(5), "kind must be a word"),  # type: ignore[arg-type]
        (lambda s: s.add_pid("4242"), "a PID must be a positive 32-bit integer"),  # type: ignore[arg-type]
    ]
    with Session(methods=["screensaver"], duration=60) as session:
        for call, words in calls:
            with pytest.raises(UsageError, match=re.escape(words)):
                call(session)
        assert session.wait(timeout=0.2) is None
        assert session.state == "holding" and bus_env.screensaver.inhibitors()


def test_one_pid_or_one_method_needs_no_list(bus_env: Desktop) -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        with Session(pids=child.pid, methods="logind") as session:
            assert session.pids == (child.pid,)
            assert [a.name for a in session.acquired] == ["logind"]
            child.kill()
            ended = session.wait(timeout=5)
        assert ended is not None and ended.reason == EndReason.PROCESS_EXIT
    finally:
        child.kill()
        child.wait()


def test_methods_choose_the_mechanisms(bus_env: Desktop) -> None:
    with Session(methods=["logind"]) as session:
        assert [a.name for a in session.acquired] == ["logind"]
        assert bus_env.screensaver.inhibitors() == []


def test_a_release_reads_the_holds_connections_alone(
    bus_env: Desktop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop in one thread releases while another thread waits: the hold's sources leave
    the reactor before the UnInhibits go out, so the waiter's dispatch cannot read a reply
    from under the release (whose recv would then block for ever: seen once in CI, under
    load, in test_control)."""
    from cocainate.core.holdings import Holdings

    attached: list[int] = []
    release = Holdings.release

    def watched_release(self: Holdings) -> None:
        attached.append(len(self._sources))  # what a driver could still fire
        release(self)

    monkeypatch.setattr(Holdings, "release", watched_release)
    session = Session(methods=["screensaver"]).start()
    waiter = threading.Thread(target=session.wait, daemon=True)
    waiter.start()
    wait_until(lambda: session._callers, 5, "the waiter to be waiting")
    session.stop()
    waiter.join(5)
    assert attached == [0] and not waiter.is_alive()
    assert bus_env.screensaver.inhibitors() == []
