"""``cocainate tray`` against real trays: swaybar's StatusNotifierWatcher and host, on a
headless sway (swaybar runs as root beside it, on the test's private session bus, with
its debug log on, which says what it read of the item); and a second, unrelated pair, the
Haskell status-notifier-watcher with gtk-sni-tray-standalone's host on Xvfb. The menu is
read and clicked by the dbusmenu calls a host makes; the hold is seen at the stand-in
screensaver."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from buses import Bus, StandIn, have, wait_until
from conftest import named_program
from test_sleeping import assert_asleep

WATCHER = "org.kde.StatusNotifierWatcher"
MENU = "com.canonical.dbusmenu"
ITEM = "org.kde.StatusNotifierItem"
BAR = "bar {\n  id bar-0\n  swaybar_command /bin/true\n}\n"

HOSTS = {
    "swaybar": ("sway", "swaybar"),
    "gtk-sni-tray": ("status-notifier-watcher", "gtk-sni-tray-standalone", "Xvfb"),
}


class Desk:
    def __init__(self, root: Path, host: str, display: str) -> None:
        self.root, self.host = root, host
        self.bus = Bus(root / "bus", "session")
        self.screensaver = StandIn(self.bus, "screensaver")
        env = dict(os.environ, DISPLAY=display)
        self.sway: Any = None
        if host == "swaybar":
            from sway import Sway

            self.sway = Sway(BAR)
            env = dict(self.sway.env, SWAYSOCK=self.sway.ipc)
        self.env = dict(
            env,
            DBUS_SESSION_BUS_ADDRESS=self.bus.address,
            DBUS_SYSTEM_BUS_ADDRESS="unix:path=" + str(root / "no-system-bus"),
        )
        self.bar: list[subprocess.Popen[bytes]] = []
        self.bars = 0
        self.tray: subprocess.Popen[str] | None = None

    def start_bar(self) -> None:
        self.bars += 1
        with (self.root / f"bar{self.bars}.log").open("w") as log:
            if self.host == "swaybar":
                argv = ["swaybar", "-d", "-s", self.sway.ipc, "-b", "bar-0"]
                self.bar = [subprocess.Popen(argv, env=self.env, stderr=log)]
            else:
                watcher = ["status-notifier-watcher"]
                out = subprocess.DEVNULL
                self.bar = [subprocess.Popen(watcher, env=self.env, stderr=out, stdout=out)]
                wait_until(lambda: self.bus.has_owner(WATCHER), 10, "the watcher")
                host = ["gtk-sni-tray-standalone", "-l", "DEBUG"]
                self.bar.append(subprocess.Popen(host, env=self.env, stderr=log, stdout=log))
        wait_until(lambda: self.bus.has_owner(WATCHER), 10, "the watcher")

    def stop_bar(self) -> None:
        for process in self.bar:
            process.terminate()
            process.wait(10)
        wait_until(lambda: not self.bus.has_owner(WATCHER), 5, "the watcher to go")

    def bar_log(self) -> str:
        return (self.root / f"bar{self.bars}.log").read_text(errors="replace")

    def host_read(self, prop: str, value: str) -> bool:
        """Whether the host's log says it read ``value`` of the item's ``prop``."""
        if self.host == "swaybar":
            return f"{prop} = '{value}'" in self.bar_log()
        key = {"IconName": "iconName = ", "Status": "itemStatus = Just "}[prop]
        return f'{key}"{value}"' in self.bar_log()

    def start_tray(self, *args: str) -> subprocess.Popen[str]:
        self.tray = subprocess.Popen(
            [sys.executable, "-m", "cocainate", "tray", "--method", "screensaver", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return self.tray

    @property
    def name(self) -> str:
        assert self.tray is not None
        return f"org.kde.StatusNotifierItem-{self.tray.pid}-1"

    def items(self) -> list[str]:
        props = "org.freedesktop.DBus.Properties"
        reply = self.bus.call(
            WATCHER,
            "/StatusNotifierWatcher",
            props,
            "Get",
            "ss",
            (WATCHER, "RegisteredStatusNotifierItems"),
        )
        return [str(i) for i in reply[0][1]]

    def listed(self) -> bool:  # swaybar lists name/path; the Haskell watcher, the name
        return bool({self.name, f"{self.name}/StatusNotifierItem"} & set(self.items()))

    def menu(self, method: str, signature: str, *body: Any) -> tuple[Any, ...]:
        return self.bus.call(self.name, "/MenuBar", MENU, method, signature, body)

    def item(self, method: str, signature: str | None = None, *body: Any) -> tuple[Any, ...]:
        return self.bus.call(self.name, "/StatusNotifierItem", ITEM, method, signature, body)

    def prop(self, name: str) -> Any:
        props = "org.freedesktop.DBus.Properties"
        return self.bus.call(self.name, "/StatusNotifierItem", props, "Get", "ss", (ITEM, name))[0][
            1
        ]

    def click(self, item_id: int) -> None:
        self.menu("Event", "isvu", item_id, "clicked", ("i", 0), 0)

    def held(self) -> int:
        return len(self.screensaver.inhibitors())

    def close(self) -> None:
        for process in (self.tray, *self.bar):
            if process is not None:
                if process.poll() is None:
                    process.kill()
                process.communicate(timeout=10)  # and its pipes closed
        if self.sway is not None:
            self.sway.close()
        self.bus.close()


@pytest.fixture
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desk]:
    host = getattr(request, "param", "swaybar")
    if not have(*HOSTS[host]):
        pytest.skip(f"needs {', '.join(HOSTS[host])} (.ci/run installs them)")
    display = ""
    if host != "swaybar":
        display = request.getfixturevalue("x_display")
    d = Desk(tmp_path, host, display)
    try:
        yield d
    finally:
        d.close()


BOTH = pytest.mark.parametrize("desk", list(HOSTS), indirect=True)


def labels(layout: Any) -> list[str]:
    _id, _props, children = layout
    return [c[1][1].get("label", ("s", "-"))[1] for c in children]


@BOTH
def test_the_tray_lists_it_and_its_menu_holds_and_lets_go(desk: Desk) -> None:
    desk.start_bar()
    tray = desk.start_tray("--reason", "tray test")
    assert tray.stdout is not None
    assert tray.stdout.readline().strip() == "cocainate tray: the icon is in the tray"
    wait_until(desk.listed, 5, "the watcher to list the item")
    wait_until(lambda: desk.host_read("IconName", "weather-clear-night"), 15, "the host to read it")
    _revision, layout = desk.menu("GetLayout", "iias", 0, -1, [])
    assert labels(layout) == [
        "Hold for 15 minutes",
        "Hold for 1 hour",
        "Hold for 4 hours",
        "Hold until turned off",
        "-",
        "Let go",
        "-",
        "Quit",
    ]
    assert desk.prop("Status") == "Passive" and desk.held() == 0
    # drawn too, for a host whose theme has no such icon
    ((width, height, pixels),) = desk.prop("IconPixmap")
    assert (width, height, len(pixels)) == (22, 22, 22 * 22 * 4)
    if desk.host == "swaybar":  # it logs the pixmap a moment after the name
        drawn = "IconPixmap no. of icons = 1"
        wait_until(lambda: drawn in desk.bar_log(), 15, "swaybar to read the drawn icon")

    desk.click(2)  # an hour
    wait_until(lambda: desk.held() == 1, 5, "the hold")
    assert tray.stdout.readline().startswith("cocainate tray: holding (screensaver) until ")
    wait_until(lambda: desk.host_read("Status", "Active"), 15, "the host to see the change")
    assert desk.prop("IconName") == "weather-clear"
    tooltip = desk.prop("ToolTip")
    assert tooltip[2] == "cocainate" and tooltip[3].startswith("keeping the display awake until ")
    ((_id, props),) = desk.menu("GetGroupProperties", "aias", [6], ["enabled"])[0]
    assert props == {"enabled": ("b", True)}  # Let go

    desk.item("Activate", "ii", 0, 0)  # a click on the icon toggles: let go
    wait_until(lambda: desk.held() == 0, 5, "the release")
    assert tray.stdout.readline().strip() == "cocainate tray: let go"
    desk.item("Activate", "ii", 0, 0)  # and holds again, until turned off
    wait_until(lambda: desk.held() == 1, 5, "the hold")
    assert tray.stdout.readline().strip().endswith("until turned off")

    tray.send_signal(signal.SIGUSR1)  # toggles, as for any hold: let go
    wait_until(lambda: desk.held() == 0, 5, "the release")
    assert tray.stdout.readline().strip() == "cocainate tray: let go"
    tray.send_signal(signal.SIGUSR1)
    wait_until(lambda: desk.held() == 1, 5, "the hold")
    assert tray.stdout.readline().strip().endswith("until turned off")

    desk.click(8)  # Quit: lets go first
    assert tray.wait(10) == 0
    assert desk.held() == 0
    assert tray.stdout.read().strip().endswith("cocainate tray: quit")


def wait_listed(desk: Desk, tray: subprocess.Popen[str], what: str) -> None:
    """Wait for the watcher to list the item; if it does not, say what the tray said."""
    try:
        wait_until(desk.listed, 5, what)
    except AssertionError as err:
        tray.terminate()
        raise AssertionError(f"{err}; the tray said {tray.communicate(timeout=5)}") from err


@BOTH
def test_the_icon_comes_back_with_the_tray(desk: Desk) -> None:
    tray = desk.start_tray()  # before any tray runs
    assert tray.stdout is not None
    first = tray.stdout.readline()
    assert (
        first.strip() == "cocainate tray: no tray is running yet; the icon appears when one starts"
    )
    desk.start_bar()  # a panel started later
    wait_listed(desk, tray, "the item registered with the new watcher")
    desk.click(4)
    wait_until(lambda: desk.held() == 1, 5, "the hold")
    desk.stop_bar()  # the panel restarted: the hold goes on, the icon comes back
    desk.start_bar()
    wait_listed(desk, tray, "the item registered again")
    assert desk.held() == 1
    tray.send_signal(signal.SIGTERM)
    assert tray.wait(10) == 0
    assert desk.held() == 0


def test_malformed_calls_are_answered_with_errors(desk: Desk) -> None:
    desk.start_bar()
    tray = desk.start_tray()
    wait_until(desk.listed, 5, "the item")
    for call in (
        lambda: desk.menu("GetLayout", "iias", 99, -1, []),
        lambda: desk.menu("GetProperty", "is", 1, "no-such-property"),
        lambda: desk.menu("GetLayout", "s", "nonsense"),
        lambda: desk.prop("NoSuchProperty"),
        lambda: desk.item("Frobnicate"),
    ):
        with pytest.raises(Exception) as caught:
            call()
        assert "org.freedesktop.DBus.Error" in str(caught.value)
    desk.menu("Event", "isvu", 99, "clicked", ("i", 0), 0)  # an unknown item: nothing happens
    assert desk.menu("EventGroup", "a(isvu)", [(99, "clicked", ("i", 0), 0)])[0] == [99]
    desk.click(4)  # and it still works
    wait_until(lambda: desk.held() == 1, 5, "the hold")
    tray.send_signal(signal.SIGINT)
    assert tray.wait(10) == 0
    assert desk.held() == 0


def test_the_tray_sleeps_while_nobody_calls(desk: Desk) -> None:
    """0 CPU and 0 context switches while idle and while holding: no timer, no poll."""
    desk.start_bar()
    tray = desk.start_tray()
    wait_until(desk.listed, 5, "the item")
    assert_asleep(tray)
    desk.click(4)
    wait_until(lambda: desk.held() == 1, 5, "the hold")
    assert_asleep(tray)
    tray.send_signal(signal.SIGTERM)
    assert tray.wait(10) == 0


def test_without_a_session_bus_one_line_and_status_3(desk: Desk) -> None:
    env = dict(desk.env, DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent/bus")
    done = subprocess.run(
        [sys.executable, "-m", "cocainate", "tray"],
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 3
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("cocainate: tray: cannot connect to the session bus")
    assert os.environ.get("PYTEST_CURRENT_TEST")  # (runs under pytest)


def test_a_hold_with_tray_pauses_and_resumes_from_its_icon(desk: Desk) -> None:
    desk.start_bar()
    desk.tray = hold = subprocess.Popen(
        [sys.executable, "-m", "cocainate", "--tray", "--method", "screensaver"],
        env=desk.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert hold.stdout is not None
    assert "keeping the display awake (screensaver)" in hold.stdout.readline()
    wait_until(desk.listed, 5, "the watcher to list the hold's icon")
    assert desk.held() == 1 and desk.prop("Status") == "Active"
    assert desk.prop("ToolTip")[3] == "holding (screensaver)"
    assert_asleep(hold)  # the icon is served by the session's own loop: still asleep

    desk.item("Activate", "ii", 0, 0)  # pause
    assert hold.stdout.readline().strip() == "cocainate: let go: paused"
    assert desk.held() == 0
    wait_until(lambda: desk.prop("ToolTip")[3] == "paused", 3, "the icon to say so")
    _revision, layout = desk.menu("GetLayout", "iias", 0, -1, [])
    assert labels(layout) == ["Resume", "-", "Quit"]
    desk.click(1)  # Resume
    assert hold.stdout.readline().strip() == "cocainate: holding (screensaver): resumed"
    assert desk.held() == 1
    desk.click(3)  # Quit ends the hold
    assert hold.wait(10) == 0
    assert desk.held() == 0
    assert "released after" in hold.stdout.read()


def test_watch_with_tray_true(desk: Desk, tmp_path: Path) -> None:
    name, running = named_program(tmp_path, "cctray", 'method = ["screensaver"]\ntray = true\n')
    desk.start_bar()
    desk.tray = watch = subprocess.Popen(
        [sys.executable, "-m", "cocainate", "watch", "--json"],
        env=dict(desk.env, XDG_CONFIG_HOME=str(tmp_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(desk.listed, 5, "the watch's icon")
        wait_until(lambda: desk.held() == 1, 5, "the hold")
        assert desk.prop("ToolTip")[3] == f"holding (screensaver): {name} runs (pid {running.pid})"
        _revision, layout = desk.menu("GetLayout", "iias", 0, -1, [])
        assert labels(layout) == ["Pause", "-", f"{name} runs", "-", "Quit"]
        assert layout[2][2][1][1]["toggle-state"] == ("i", 1)  # the condition is on
        desk.click(3)  # the condition paused alone: nothing calls for a hold
        wait_until(lambda: desk.held() == 0, 5, "the condition's pause")
        wait_until(lambda: desk.prop("ToolTip")[3].endswith("(paused)"), 3, "the icon to say")
        ((_id, props),) = desk.menu("GetGroupProperties", "aias", [3], ["toggle-state"])[0]
        assert props == {"toggle-state": ("i", 0)}
        desk.click(3)  # on again
        wait_until(lambda: desk.held() == 1, 5, "the hold again")
        desk.item("Activate", "ii", 0, 0)
        wait_until(lambda: desk.held() == 0, 5, "the pause")
        wait_until(lambda: desk.prop("ToolTip")[3] == "paused", 3, "the icon to say so")
        watch.send_signal(signal.SIGTERM)
        assert watch.wait(10) == 0
    finally:
        running.kill()
        running.wait()


@pytest.mark.parametrize("argv", [["tray"], ["--tray", "-d", "1s"]])
def test_where_there_is_no_d_bus_one_line_and_status_3(argv: list[str]) -> None:
    """As on macOS and Windows, where jeepney is not installed (made unimportable here)."""
    code = (
        "import sys; sys.modules['jeepney'] = None; from cocainate.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 3
    (line,) = done.stderr.strip().splitlines()
    assert line == (
        "cocainate: a tray icon needs D-Bus (StatusNotifierItem), which this platform does not have"
    )
