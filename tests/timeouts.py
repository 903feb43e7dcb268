"""A time limit on every test, as a pytest plugin (conftest imports its hooks): a test that
hangs fails on its own, with every thread's stack, and the run goes on.

``@pytest.mark.timeout(SECONDS)`` sets a test's own limit. POSIX only (SIGALRM); the
Windows suite under Wine has an outer limit in tests/test_wine.py.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator

import pytest

TEST_TIMEOUT = 150.0
"""Seconds a test's setup, call or teardown may take before it fails (the Wine suite, which
has a limit of its own, marks a longer one): a hang fails its test and the run goes on."""


class TimedOut(Exception):
    """Raised in the main thread when a test outlives its time."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "timeout(seconds): this test's own time limit")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    yield from _limited(item, "setup")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    yield from _limited(item, "call")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    yield from _limited(item, "teardown")


def _limited(item: pytest.Item, phase: str) -> Iterator[None]:
    """SIGALRM after the test's time: its handler raises in the main thread, wherever it
    waits (a sleep, a join, a read), so the test fails there with its traceback."""
    main = threading.current_thread() is threading.main_thread()
    if not hasattr(signal, "setitimer") or not main:
        yield
        return
    marker = item.get_closest_marker("timeout")
    seconds = float(marker.args[0]) if marker else TEST_TIMEOUT

    def expired(signum: int, frame: object) -> None:
        import faulthandler

        faulthandler.dump_traceback(all_threads=True)  # where every thread was
        raise TimedOut(f"{item.nodeid}: {phase} took more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_status = [0]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _status[0] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """A thread still running once every test is done would keep the interpreter from
    exiting, and the run would never end (conftest's no_thread_left_running fails the test
    that left it): say which, and exit without waiting for it."""
    left = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if left:
        import os
        import sys

        names = ", ".join(t.name for t in left)
        sys.stdout.flush()
        sys.stderr.write(f"tests: threads still running at exit ({names}): exiting without them\n")
        sys.stderr.flush()
        os._exit(_status[0] or 1)
