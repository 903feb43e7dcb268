"""The Wayland mechanism against a real KWin (``kwin_wayland --virtual``), observed with
swayidle through KWin's idle protocol: the layer-shell surface holds, also after a switch
to another virtual desktop (told to KWin over a private session bus), and idling returns
after SIGTERM and after SIGKILL; the user's window keeps the focus (asked of KWin by a
script of its own). (Its outputs are not turned off and on here: that needs KScreen;
sway's tests cover it.)"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from buses import have, stop, wait_until
from conftest import spawn_cli
from sway import window

pytest.importorskip("pywayland")
pytestmark = pytest.mark.skipif(
    not (os.path.exists("/usr/bin/kwin_wayland") and have("swayidle")),
    reason="needs kwin_wayland (Debian's kwin-wayland) and swayidle",
)


@pytest.fixture
def kwin() -> Iterator[object]:
    from kwin import KWin

    k = KWin()
    try:
        yield k
    finally:
        k.close()


def test_without_cocainate_kwin_goes_idle(kwin: object, tmp_path: Path) -> None:
    """The control: KWin does report idle here, so the test below can fail."""
    log = tmp_path / "idle.log"
    watch = kwin.idle_watch(log)  # type: ignore[attr-defined]
    try:
        wait_until(lambda: "IDLE" in log.read_text(), 5, "swayidle to report idle")
    finally:
        stop(watch)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_no_idle_while_held_and_idle_after(kwin: object, tmp_path: Path, how: int) -> None:
    process = spawn_cli("-v", "--method", "wayland", env=kwin.env)  # type: ignore[attr-defined]
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "(wayland)" in line, line + (process.stderr.read() if process.stderr else "")
    log = tmp_path / "idle.log"
    watch = kwin.idle_watch(log)  # type: ignore[attr-defined]
    try:
        time.sleep(1)  # each step lasts longer than swayidle's 2 s timeout
        kwin.switch_to_a_new_desktop()  # type: ignore[attr-defined]
        time.sleep(2.5)
        assert "IDLE" not in log.read_text()
        process.send_signal(how)
        _, err = process.communicate(timeout=10)
        wait_until(lambda: "IDLE" in log.read_text(), 5, "swayidle to report idle after release")
        if how == signal.SIGTERM:
            assert "layer-shell surface" in err, err  # KWin offers wlr-layer-shell
    finally:
        stop(watch)
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)


def test_the_users_window_keeps_the_focus(kwin: object) -> None:
    with window(kwin.env, "user-window"):  # type: ignore[attr-defined]
        wait_until(
            lambda: kwin.active_window() == "user-window",  # type: ignore[attr-defined]
            5,
            "the user's window to be active",
        )
        process = spawn_cli("--method", "wayland", env=kwin.env)  # type: ignore[attr-defined]
        try:
            assert process.stdout is not None
            assert "(wayland)" in process.stdout.readline()
            assert kwin.active_window() == "user-window"  # type: ignore[attr-defined]
        finally:
            process.terminate()
            process.communicate(timeout=10)


def test_a_fullscreen_window_does_not_end_the_hold(kwin: object, tmp_path: Path) -> None:
    """The background-layer surface, under a fullscreen window, still holds on KWin."""
    log = tmp_path / "idle.log"
    with window(kwin.env, "film", "--fullscreen"):  # type: ignore[attr-defined]
        wait_until(
            lambda: kwin.active_window() == "film",  # type: ignore[attr-defined]
            5,
            "the film to be active",
        )
        process = spawn_cli("--method", "wayland", env=kwin.env)  # type: ignore[attr-defined]
        watch = kwin.idle_watch(log)  # type: ignore[attr-defined]
        try:
            assert process.stdout is not None and "(wayland)" in process.stdout.readline()
            time.sleep(3)
            assert "IDLE" not in log.read_text(), "idle under a fullscreen window"
            process.terminate()
            process.communicate(timeout=10)
            wait_until(lambda: "IDLE" in log.read_text(), 5, "idle after the release")
        finally:
            stop(watch)
            stop(process)
