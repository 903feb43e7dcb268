"""The Wayland mechanism against a real headless sway (wlroots), observed with swayidle and
`swaymsg -t get_tree`. sway refuses to run as root, so it runs as nobody with a runtime
directory of its own; the clients (cocainate, swayidle) connect to its socket as root."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import cocainate
from buses import have, stop, wait_until
from cocainate.bindings.buses import Resources
from cocainate.mechanisms.wayland import WaylandIdleInhibitor
from conftest import spawn_cli
from sway import Sway, window

pytest.importorskip("pywayland")
pytestmark = pytest.mark.skipif(not have("sway", "swayidle", "swaymsg"), reason="needs sway")


@pytest.fixture(scope="module")
def sway() -> Iterator[Sway]:
    s = Sway()
    try:
        yield s
    finally:
        s.close()


def test_without_cocainate_swayidle_says_idle(sway: Sway, tmp_path: Path) -> None:
    """The control: this setup does go idle, so the tests below can fail."""
    log = tmp_path / "idle.log"
    watch = sway.idle_watch(log)
    try:
        wait_until(lambda: "IDLE" in log.read_text(), 5, "swayidle to report idle")
    finally:
        stop(watch)


def swaymsg(sway: Sway, *args: str) -> None:
    subprocess.run(["swaymsg", "-s", sway.ipc, *args], check=True, capture_output=True)


def holder(sway: Sway, *args: str) -> subprocess.Popen[str]:
    process = spawn_cli("-v", "--method", "wayland", *args, env=sway.env)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "(wayland)" in line, line + (process.stderr.read() if process.stderr else "")
    return process


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_no_idle_while_held_across_workspaces_and_outputs_and_idle_after(
    sway: Sway, tmp_path: Path, how: int
) -> None:
    """A layer surface: no window to tile, float or hide, so switching workspaces does not
    end the hold, nor does the output being turned off and on."""
    process = holder(sway)
    assert not [v for v in sway.views() if v.get("app_id") == "cocainate"]  # not a window
    log = tmp_path / "idle.log"
    watch = sway.idle_watch(log)
    try:
        time.sleep(1)  # each step below lasts longer than swayidle's 2 s timeout
        swaymsg(sway, "workspace", "2")
        time.sleep(2.5)
        assert "IDLE" not in log.read_text(), "idle after a workspace switch"
        swaymsg(sway, "output", "HEADLESS-1", "disable")
        time.sleep(2.5)
        swaymsg(sway, "output", "HEADLESS-1", "enable")
        time.sleep(2.5)
        assert "IDLE" not in log.read_text(), "idle after the output was off and on"
        assert process.poll() is None
        process.send_signal(how)
        _, err = process.communicate(timeout=10)
        wait_until(lambda: "IDLE" in log.read_text(), 5, "swayidle to report idle after release")
        if how == signal.SIGTERM:
            assert process.returncode == 0 and "layer-shell surface" in err, err
    finally:
        stop(watch)
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
        swaymsg(sway, "output", "HEADLESS-1", "enable")
        swaymsg(sway, "workspace", "1")


def test_the_users_window_keeps_the_focus(sway: Sway) -> None:
    def focused() -> list[str]:
        return [str(v.get("app_id")) for v in sway.views() if v.get("focused")]

    with window(sway.env, "user-window"):
        wait_until(lambda: focused() == ["user-window"], 5, "the user's window to have focus")
        process = holder(sway)
        try:
            assert focused() == ["user-window"]
            assert "cocainate" not in [v.get("app_id") for v in sway.views()]
        finally:
            process.terminate()
            process.communicate(timeout=10)
        assert focused() == ["user-window"]


def test_a_fullscreen_window_keeps_its_scanout_and_the_hold_holds(
    sway: Sway, tmp_path: Path
) -> None:
    """sway up to 1.8 and Hyprland refuse a fullscreen window direct scanout while any
    overlay-layer surface is mapped: cocainate's surface is in the background layer, as
    its requests on the wire say (WAYLAND_DEBUG), and holds under a fullscreen window."""
    log = tmp_path / "idle.log"
    with window(sway.env, "film", "--fullscreen"):
        wait_until(
            lambda: [v for v in sway.views() if v.get("app_id") == "film" and v["fullscreen_mode"]],
            5,
            "the film to be fullscreen",
        )
        process = spawn_cli("--method", "wayland", env=dict(sway.env, WAYLAND_DEBUG="1"))
        watch = sway.idle_watch(log)
        try:
            assert process.stdout is not None and "(wayland)" in process.stdout.readline()
            time.sleep(3)  # longer than swayidle's 2 s
            assert "IDLE" not in log.read_text(), "idle under a fullscreen window"
            process.terminate()
            _, err = process.communicate(timeout=10)
            (request,) = [line for line in err.splitlines() if ".get_layer_surface(" in line]
            layer = request.split(", ")[-2]  # (new id, surface, output, layer, namespace)
            assert layer == "0", request  # 0: background; 3 would be the overlay
            wait_until(lambda: "IDLE" in log.read_text(), 5, "idle after the release")
        finally:
            stop(watch)
            stop(process)


def test_without_layer_shell_a_floating_window_holds(
    sway: Sway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the compositor offers no layer shell (here: pretended), today's 1x1 window."""
    from cocainate.mechanisms import wayland

    monkeypatch.setattr(wayland, "LAYER_SHELL", "zwlr_layer_shell_v0_not_offered")
    for name, value in sway.env.items():
        monkeypatch.setenv(name, value)
    with cocainate.inhibit(methods=["wayland"]) as session:
        assert session.acquired[0].title == wayland.ON_TOPLEVEL
        (view,) = [v for v in sway.views() if v.get("app_id") == "cocainate"]
        assert view["inhibit_idle"] is True
        assert view["type"] == "floating_con"  # floated, not tiled over the user's windows
    assert not [v for v in sway.views() if v.get("app_id") == "cocainate"]


def test_losing_the_compositor_is_reported(tmp_path: Path) -> None:
    """The session watches the compositor's connection: a compositor that goes away wakes it
    and is reported, instead of going unnoticed."""
    own = Sway()
    try:
        session = cocainate.Session(methods=["wayland"])
        old = {k: os.environ.get(k) for k in ("WAYLAND_DISPLAY", "XDG_RUNTIME_DIR")}
        os.environ.update(WAYLAND_DISPLAY=own.display, XDG_RUNTIME_DIR=str(own.runtime))
        try:
            session.start()
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        stop(own.process)
        assert session.wait(timeout=1.0) is None  # still going: other mechanisms may hold
        session.stop()
        assert session.problems == ["wayland: lost the connection to the compositor"]
    finally:
        own.close()


def test_probe_reasons(sway: Sway, monkeypatch: pytest.MonkeyPatch) -> None:
    mechanism = WaylandIdleInhibitor(Resources())
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(sway.runtime))
    monkeypatch.setenv("WAYLAND_DISPLAY", sway.display)
    assert mechanism.probe() is None
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-404")
    assert mechanism.probe() == (
        "cannot connect to Wayland display wayland-404: No such file or directory"
    )
    monkeypatch.delenv("WAYLAND_DISPLAY")
    assert mechanism.probe() == "WAYLAND_DISPLAY is not set (not a Wayland session)"


def test_without_pywayland_methods_says_how_to_get_it(sway: Sway) -> None:
    code = (
        "import sys; sys.modules['pywayland'] = None\n"
        "from cocainate.cli import main; main(['methods'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=sway.env, capture_output=True, text=True, check=True
    ).stdout
    (line,) = [x for x in out.splitlines() if x.startswith("wayland")]
    assert line.endswith(
        "not usable: pywayland is not installed (pip install 'cocainate[wayland]')"
    )


def test_a_compositor_that_never_answers_fails_wayland_on_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A socket that accepts and never replies: the registry round trip gives up at 2 s."""
    import socket

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(tmp_path / "wayland-mute"))
    listener.listen(1)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-mute")
    begin = time.monotonic()
    with pytest.raises(cocainate.NoMechanismError, match="did not answer within 2 s"):
        cocainate.Session(methods=["wayland"]).start()
    assert 2.0 <= time.monotonic() - begin < 3.0
    listener.close()


def test_a_frozen_compositor_never_holds_the_session_hostage() -> None:
    """sway stopped (SIGSTOP) while cocainate holds an inhibitor on it: SIGTERM still ends
    the session at once; stopped before cocainate starts, the mechanism fails in 2 s."""
    own = Sway()
    try:
        process = spawn_cli("--method", "wayland", env=own.env)
        assert process.stdout is not None
        assert "(wayland)" in process.stdout.readline()
        own.process.send_signal(signal.SIGSTOP)
        begin = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
        assert time.monotonic() - begin < 1.0, err
        assert process.returncode == 0, err
        begin = time.monotonic()
        late = subprocess.run(
            [sys.executable, "-m", "cocainate", "--method", "wayland", "-d", "100ms"],
            env=own.env,
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert late.returncode == 3, late.stderr
        assert "the Wayland compositor did not answer within 2 s" in late.stderr
        assert time.monotonic() - begin < 4.0
    finally:
        own.process.send_signal(signal.SIGCONT)
        own.close()


def test_a_compositor_that_goes_away_is_a_lost_event_and_exit_4() -> None:
    own = Sway()
    try:
        process = spawn_cli("--json", "--method", "wayland", env=own.env)
        assert process.stdout is not None
        assert json.loads(process.stdout.readline())["event"] == "acquired"
        stop(own.process)
        lost = json.loads(process.stdout.readline())
        assert lost["event"] == "lost" and lost["mechanisms"] == ["wayland"]
        out, err = process.communicate(timeout=15)
        assert process.returncode == 4, err
        assert "Traceback" not in err
        ended = json.loads(out.splitlines()[0])
        assert ended["event"] == "ended" and ended["reason"] == "lost"
    finally:
        own.close()


def test_a_closed_layer_surface_is_made_again_without_waiting(
    sway: Sway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """White-box. A compositor closes a layer surface whose output goes away; sway 1.7
    does not when its only output is disabled (checked: no ``closed``, the output's global
    stays), and cannot unplug one, so the close is simulated here. What follows is real:
    a new surface is made on sway without waiting on it, gets its pixel and inhibitor at
    sway's configure (read by the session's own dispatch), and the old one is destroyed."""
    for name, value in sway.env.items():
        monkeypatch.setenv(name, value)
    with cocainate.Session(methods=["wayland"]) as session:
        assert session._run.holdings is not None
        (held,) = session._run.holdings.held
        assert isinstance(held, WaylandIdleInhibitor)
        mechanism = held
        first = list(mechanism._objects)
        assert len(first) == 6  # surface, region, layer surface, pool, buffer, inhibitor
        mechanism._on_closed()
        begin = time.monotonic()
        mechanism._remake()
        assert time.monotonic() - begin < 0.1  # sent, not waited for
        objects = mechanism._objects
        assert len(objects) == 3 and objects[0] is not first[0]  # the inhibitor comes later

        def inhibited() -> bool:
            session.wait(0.05)  # let the session read sway's configure
            return len(objects) == 6

        wait_until(inhibited, 5, "the new surface's inhibitor")
        assert session.holding == ("wayland",) and not session.problems
        mechanism._remake()
        assert mechanism._objects is objects  # once per outputs


@pytest.mark.skipif(not have("cage"), reason="needs cage (tools/test installs it)")
def test_where_there_is_no_layer_shell_the_focus_it_may_take_is_said() -> None:
    """cage, a kiosk compositor, offers idle-inhibit but no layer shell, and gives every
    new window the focus: the fallback window's cost is one line at start."""
    import glob
    import shutil
    import tempfile

    from sway import NOBODY

    runtime = Path(tempfile.mkdtemp(prefix="cocainate-cage-"))
    as_nobody: list[str] = []
    if os.geteuid() == 0:
        os.chown(runtime, NOBODY, NOBODY)
        as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "XDG_RUNTIME_DIR": str(runtime),
        "WLR_BACKENDS": "headless",
        "WLR_LIBINPUT_NO_DEVICES": "1",
        "WLR_RENDERER": "pixman",
    }
    cage = subprocess.Popen(
        [*as_nobody, "cage", "--", "sleep", "600"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    process = None
    try:
        found = wait_until(lambda: glob.glob(str(runtime / "wayland-[0-9]")), 10, "cage's socket")
        client = dict(os.environ, XDG_RUNTIME_DIR=str(runtime))
        client["WAYLAND_DISPLAY"] = os.path.basename(found[0])
        client["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent"
        client.pop("DISPLAY", None)
        process = spawn_cli("--method", "wayland", env=client)
        assert process.stdout is not None and "(wayland)" in process.stdout.readline()
        process.terminate()
        _, err = process.communicate(timeout=10)
        assert process.returncode == 0
        assert err.splitlines() == [
            "cocainate: warning: wayland: the compositor offers no layer shell, so the inhibit "
            "is on a 1x1 window of cocainate's, which may take the keyboard focus from your "
            "application while it holds (cage does)"
        ], err
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
        stop(cage)
        shutil.rmtree(runtime, ignore_errors=True)
