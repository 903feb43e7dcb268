"""A real KWin (KDE's compositor, ``kwin_wayland --virtual``) of the tests' own.

Debian's kwin_wayland carries a file capability (cap_sys_resource), and as root in a
container exec'ing it fails with EPERM; a copy of the binary has no capability and runs.
The copy keeps the name kwin_wayland: KWin's built-in Qt platform plugin is not found
under another name."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from buses import Bus, stop, wait_until
from sway import idle_watch

BINARY = "/usr/bin/kwin_wayland"


class KWin:
    def __init__(self) -> None:
        self.runtime = Path(tempfile.mkdtemp(prefix="cocainate-kwin-"))
        os.chmod(self.runtime, 0o700)
        (self.runtime / "bin").mkdir()
        binary = self.runtime / "bin" / "kwin_wayland"
        shutil.copy(BINARY, binary)  # copies the mode, not the capability
        self.display = "wayland-kwin"
        self.bus = Bus(self.runtime / "bus", "session")  # KWin's own, to be told what to do
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.runtime),
            "XDG_RUNTIME_DIR": str(self.runtime),
            "DBUS_SESSION_BUS_ADDRESS": self.bus.address,
        }
        log = (self.runtime / "kwin.log").open("wb")
        self.process = subprocess.Popen(
            [
                str(binary),
                "--virtual",
                "--socket",
                self.display,
                "--no-lockscreen",
                "--no-global-shortcuts",
                "--width",
                "640",
                "--height",
                "480",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,  # where its scripts print
        )
        log.close()  # KWin has its own copy
        self._scripts = 0
        wait_until(lambda: (self.runtime / self.display).exists(), 20, "KWin's socket")
        self.env = dict(os.environ, XDG_RUNTIME_DIR=str(self.runtime), WAYLAND_DISPLAY=self.display)
        self.env.pop("DISPLAY", None)
        self.env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent"

    def idle_watch(self, log: Path) -> subprocess.Popen[bytes]:
        return idle_watch(self.env, log)

    def kwin(self, path: str, method: str, *args: str) -> str:
        """Call KWin's D-Bus interface (org.kde.KWin) with dbus-send; its printed reply."""
        send = ["dbus-send", f"--bus={self.bus.address}", "--print-reply", "--dest=org.kde.KWin"]
        return subprocess.run(
            [*send, path, method, *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout

    def switch_to_a_new_desktop(self) -> None:
        """Make a second virtual desktop and show it."""
        manager = "org.kde.KWin.VirtualDesktopManager"
        self.kwin("/VirtualDesktopManager", f"{manager}.createDesktop", "uint32:1", "string:two")
        self.kwin("/KWin", "org.kde.KWin.setCurrentDesktop", "int32:2")
        assert "int32 2" in self.kwin("/KWin", "org.kde.KWin.currentDesktop")

    def active_window(self) -> str:
        """The resource class (app_id) of the window KWin has made active, or "none": a
        KWin script, loaded and run over D-Bus, prints it to KWin's log."""
        self._scripts += 1
        mark = f"cocainate-active-{self._scripts}:"
        script = self.runtime / f"active{self._scripts}.js"
        script.write_text(
            f'print("{mark}" + (workspace.activeClient ? '
            'workspace.activeClient.resourceClass : "none"));\n'
        )
        scripting = "org.kde.kwin.Scripting"
        self.kwin("/Scripting", f"{scripting}.loadScript", f"string:{script}", f"string:{mark}")
        self.kwin("/Scripting", f"{scripting}.start")
        log = self.runtime / "kwin.log"
        line = wait_until(
            lambda: next((x for x in log.read_text().splitlines() if mark in x), None),
            10,
            "KWin's script to print the active window",
        )
        return str(line).split(mark, 1)[1].strip()

    def close(self) -> None:
        stop(self.process)
        self.bus.close()
        shutil.rmtree(self.runtime, ignore_errors=True)
