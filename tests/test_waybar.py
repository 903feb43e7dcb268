"""``cocainate status --follow --json`` as the input of a real Waybar custom module, on a
headless sway: the bar's style gives the module one colour per ``class``, and a
screenshot of the bar (grim) shows the colour change as holds start and end."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from buses import have, stop, wait_until
from conftest import Desktop, run_cli

pytestmark = pytest.mark.skipif(
    not have("sway", "waybar", "grim"), reason="needs sway, waybar and grim"
)

COLOURS = {"off": (0, 0, 255), "holding": (255, 0, 0), "paused": (0, 255, 0)}
STYLE = "* { border: none; border-radius: 0; font-size: 12px; }\n" + "".join(
    f"#custom-cocainate.{name} {{ background: rgb{colour}; min-width: 200px; }}\n"
    for name, colour in COLOURS.items()
)


class Bar:
    def __init__(self, root: Path, desktop: Desktop) -> None:
        from sway import Sway

        self.sway = Sway()
        self.env = dict(self.sway.env, DBUS_SESSION_BUS_ADDRESS=desktop.session_bus.address)
        self.shot = root / "bar.ppm"
        module = {
            "exec": f"{sys.executable} -m cocainate status --follow --json",
            "return-type": "json",
            "format": "{}",
            "on-click": "cocainate toggle -q",
        }
        config = {
            "layer": "top",
            "position": "top",
            "height": 30,
            "modules-left": ["custom/cocainate"],
            "custom/cocainate": module,
        }
        (root / "config").write_text(json.dumps(config))
        (root / "style.css").write_text(STYLE)
        self.log = (root / "waybar.log").open("w")
        argv = ["waybar", "-c", str(root / "config"), "-s", str(root / "style.css")]
        self.process = subprocess.Popen(argv, env=self.env, stdout=self.log, stderr=self.log)

    def colour(self) -> tuple[int, ...]:
        """The colour of the module's first pixels, on a screenshot of the bar."""
        subprocess.run(["grim", "-t", "ppm", str(self.shot)], env=self.sway.env, check=True)
        _magic, size, _depth, pixels = self.shot.read_bytes().split(b"\n", 3)
        width = int(size.split()[0])
        at = (15 * width + 20) * 3
        return tuple(pixels[at : at + 3])

    def shows(self, state: str) -> None:
        wait_until(lambda: self.colour() == COLOURS[state], 10, f"the bar to show {state}")

    def close(self) -> None:
        stop(self.process)
        self.log.close()
        self.sway.close()


@pytest.fixture
def bar(bus_env: Desktop, tmp_path: Path) -> Iterator[Bar]:
    made = Bar(tmp_path, bus_env)
    try:
        yield made
    finally:
        made.close()


def test_waybar_shows_each_change(bar: Bar, bus_env: Desktop) -> None:
    bar.shows("off")
    done = run_cli("on", "-q", "--method", "screensaver", env=bus_env.env)
    assert done.returncode == 0, done.stderr
    bar.shows("holding")
    assert run_cli("pause", "-q", env=bus_env.env).returncode == 0
    bar.shows("paused")
    assert run_cli("off", "-q", env=bus_env.env).returncode == 0  # stops the background hold
    bar.shows("off")
    assert bus_env.nothing_held()
