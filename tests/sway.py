"""A real headless sway (wlroots) of the tests' own. sway refuses to run as root, so it
runs as nobody with a runtime directory of its own; clients connect to its socket as root."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from buses import stop, wait_until

NOBODY = 65534


def idle_watch(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """swayidle printing IDLE to ``log`` after 2 s without input, unless idling is inhibited
    (on sway by ext-idle-notify, on KWin by its org_kde_kwin_idle)."""
    with log.open("w") as out:
        return subprocess.Popen(
            ["swayidle", "-w", "timeout", "2", "echo IDLE"],
            env=env,
            stdout=out,
            stderr=subprocess.DEVNULL,
        )


@contextlib.contextmanager
def window(env: dict[str, str], app_id: str, *flags: str) -> Iterator[subprocess.Popen[str]]:
    """A person's window (tests/wayland_window.py, with ``flags`` such as --fullscreen),
    mapped on the compositor of ``env``; killed on the way out."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "wayland_window.py"), app_id, *flags],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "mapped"
        yield process
    finally:
        process.kill()
        process.communicate(timeout=10)


class Sway:
    def __init__(self, extra: str = "") -> None:
        """``extra``: more of sway's configuration (a bar, say)."""
        self.runtime = Path(tempfile.mkdtemp(prefix="cocainate-sway-"))
        config = self.runtime / "config"
        config.write_text("output HEADLESS-1 resolution 640x480\n" + extra)
        as_nobody: list[str] = []
        if os.geteuid() == 0:
            os.chown(self.runtime, NOBODY, NOBODY)
            os.chown(config, NOBODY, NOBODY)
            as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "XDG_RUNTIME_DIR": str(self.runtime),
            "WLR_BACKENDS": "headless",
            "WLR_LIBINPUT_NO_DEVICES": "1",
            "WLR_RENDERER": "pixman",
        }
        self.process = subprocess.Popen(
            [*as_nobody, "sway", "-c", str(config)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        sockets = wait_until(lambda: self._sockets(), 10, "sway's sockets")
        self.display, self.ipc = sockets
        self.env = dict(os.environ, XDG_RUNTIME_DIR=str(self.runtime), WAYLAND_DISPLAY=self.display)
        self.env.pop("DISPLAY", None)
        self.env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent"

    def _sockets(self) -> tuple[str, str] | None:
        displays = [
            p for p in glob.glob(str(self.runtime / "wayland-*")) if not p.endswith(".lock")
        ]
        ipc = glob.glob(str(self.runtime / "sway-ipc.*.sock"))
        if displays and ipc:
            return os.path.basename(displays[0]), ipc[0]
        return None

    def views(self) -> list[dict[str, Any]]:
        tree = json.loads(
            subprocess.run(
                ["swaymsg", "-s", self.ipc, "-r", "-t", "get_tree"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        found: list[dict[str, Any]] = []

        def walk(node: dict[str, Any]) -> None:
            if node.get("app_id") is not None or node.get("pid"):
                found.append(node)
            for child in node.get("nodes", []) + node.get("floating_nodes", []):
                walk(child)

        walk(tree)
        return found

    def idle_watch(self, log: Path) -> subprocess.Popen[bytes]:
        return idle_watch(self.env, log)

    def close(self) -> None:
        stop(self.process)
        shutil.rmtree(self.runtime, ignore_errors=True)
