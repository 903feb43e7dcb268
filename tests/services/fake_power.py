"""A laptop's power supplies for a real upowerd: an AC adapter and a battery in a umockdev
testbed (a /sys of our own), and upowerd run on it, as upower's own test suite runs it.

Run by an interpreter with GObject and umockdev's introspection data (Debian's python3
with gir1.2-umockdev-1.0), under umockdev-wrapper, with DBUS_SYSTEM_BUS_ADDRESS set to the
bus upowerd should serve on. Arguments: a directory for upowerd's config and history, on
battery or not ("battery" or "ac"), the battery's charge in percent. It prints "ready" once
upowerd owns its name, then reads lines from stdin and answers each with "ok":
  ac 0|1           the adapter unplugged or plugged in (the battery then discharges or charges)
  charge PERCENT   the battery's charge
upowerd sees each change as the kernel's uevent, as on a laptop.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402

FULL = 60_000_000  # µWh


def main() -> None:
    root, power, percent = sys.argv[1], sys.argv[2], float(sys.argv[3])
    testbed = UMockdev.Testbed.new()
    online = "1" if power == "ac" else "0"
    ac = testbed.add_device("power_supply", "AC", None, ["type", "Mains", "online", online], [])
    battery = testbed.add_device(
        "power_supply",
        "BAT0",
        None,
        [
            "type", "Battery", "present", "1",
            "status", "Charging" if power == "ac" else "Discharging",
            "energy_full", str(FULL), "energy_full_design", str(FULL),
            "energy_now", str(int(FULL * percent / 100)), "voltage_now", "12000000",
        ],
        [],
    )  # fmt: skip
    config = os.path.join(root, "UPower.conf")
    with open(config, "w") as out:
        out.write("[UPower]\nUsePercentageForPolicy=true\nCriticalPowerAction=HybridSleep\n")
    os.makedirs(os.path.join(root, "history"), exist_ok=True)
    env = dict(os.environ, UMOCKDEV_DIR=testbed.get_root_dir())
    env["UPOWER_CONF_FILE_NAME"] = config
    env["UPOWER_HISTORY_DIR"] = os.path.join(root, "history") + "/"
    daemon = subprocess.Popen(
        ["/usr/libexec/upowerd"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    owned = ["gdbus", "call", "--system", "--dest", "org.freedesktop.DBus"]
    owned += ["--object-path", "/org/freedesktop/DBus", "--method"]
    owned += ["org.freedesktop.DBus.NameHasOwner", "org.freedesktop.UPower"]
    for _ in range(100):
        if "true" in subprocess.run(owned, capture_output=True, text=True).stdout:
            break
        time.sleep(0.1)
    print("ready", flush=True)
    try:
        for line in sys.stdin:
            command, _, argument = line.strip().partition(" ")
            if command == "ac":
                testbed.set_attribute(ac, "online", argument)
                status = "Charging" if argument == "1" else "Discharging"
                testbed.set_attribute(battery, "status", status)
                testbed.uevent(ac, "change")
                testbed.uevent(battery, "change")
            elif command == "charge":
                energy = str(int(FULL * float(argument) / 100))
                testbed.set_attribute(battery, "energy_now", energy)
                testbed.uevent(battery, "change")
            print("ok", flush=True)
    finally:
        daemon.terminate()
        daemon.wait(5)


if __name__ == "__main__":
    main()
