"""Private D-Bus daemons and the services on them, started by the tests themselves."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import DBusConnection, open_dbus_connection

SERVICE = Path(__file__).parent / "services" / "inhibit_service.py"

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>{kind}</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>{servicedir}
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Test-side helper: retry ``predicate`` until it is truthy (the product never polls)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class Bus:
    """A dbus-daemon of our own (``kind`` "session" or "system"), run with --nofork under us."""

    def __init__(self, directory: Path, kind: str, services: Path | None = None) -> None:
        """``services``: a directory of .service files the bus starts services from."""
        self.kind = kind
        directory.mkdir(parents=True, exist_ok=True)
        socket = directory / f"{kind}_bus_socket"
        config = directory / f"{kind}.conf"
        servicedir = f"\n  <servicedir>{services}</servicedir>" if services else ""
        config.write_text(_CONFIG.format(kind=kind, socket=socket, servicedir=servicedir))
        self.config = config
        self.children: list[subprocess.Popen[str]] = []
        self._connection: DBusConnection | None = None
        self._start()

    def _start(self) -> None:
        self.process = subprocess.Popen(
            ["dbus-daemon", "--nofork", "--print-address=1", f"--config-file={self.config}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        self.address = self.process.stdout.readline().strip()
        assert self.address.startswith("unix:"), self.address

    def kill(self) -> None:
        """The bus goes away: the daemon dies (its services with it), as when it crashes."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        stop(self.process)
        for child in self.children:
            stop(child)

    def restart(self) -> None:
        """A new daemon at the same address."""
        self._start()

    @property
    def env_name(self) -> str:
        return f"DBUS_{self.kind.upper()}_BUS_ADDRESS"

    def connection(self) -> DBusConnection:
        if self._connection is None:
            self._connection = open_dbus_connection(self.address)
        return self._connection

    def call(
        self,
        name: str,
        path: str,
        interface: str,
        method: str,
        signature: str | None = None,
        body: tuple[Any, ...] = (),
    ) -> tuple[Any, ...]:
        from jeepney.wrappers import unwrap_msg

        msg = new_method_call(DBusAddress(path, name, interface), method, signature, body)
        reply = self.connection().send_and_get_reply(msg, timeout=5)
        result: tuple[Any, ...] = unwrap_msg(reply)
        return result

    def has_owner(self, name: str) -> bool:
        return bool(
            self.call(
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                "NameHasOwner",
                "s",
                (name,),
            )[0]
        )

    def spawn(
        self, argv: list[str], name: str | None = None, **kwargs: Any
    ) -> subprocess.Popen[str]:
        """Start a service with this bus as its session (or system) bus; wait for ``name``."""
        env = dict(kwargs.pop("env", os.environ))
        env[self.env_name] = self.address
        process = subprocess.Popen(argv, env=env, text=True, **kwargs)
        self.children.append(process)
        if name is not None:
            wait_until(lambda: self.has_owner(name) or process.poll() is not None, 20, name)
            assert process.poll() is None, f"{argv[0]} exited with {process.returncode}"
        return process

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        for process in reversed(self.children):
            stop(process)
        stop(self.process)


def stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdout, process.stderr, process.stdin):
        if stream is not None:
            stream.close()


class StandIn:
    """One stand-in service (tests/services/inhibit_service.py) on a bus."""

    NAMES = {
        "screensaver": "org.freedesktop.ScreenSaver",
        "gnome": "org.gnome.SessionManager",
        "power": "org.freedesktop.PowerManagement",
        "logind": "org.freedesktop.login1",
    }

    def __init__(self, bus: Bus, kind: str, *options: str) -> None:
        self.bus, self.kind, self.name = bus, kind, self.NAMES[kind]
        if bus.kind == "system":
            options = (*options, "--system")
        self.process = bus.spawn(
            [sys.executable, str(SERVICE), kind, *options],
            name=None,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.strip() == "ready", f"{kind} service did not start: {line!r}"

    def _test(self, method: str, signature: str | None = None) -> tuple[Any, ...]:
        return self.bus.call(self.name, "/org/cocainate/Test", "org.cocainate.Test", method)

    def inhibitors(self) -> list[tuple[int, str, str, int]]:
        """(cookie, owner, reason, flags) of every inhibit held."""
        return [(int(c), str(o), str(r), int(f)) for c, o, r, f in self._test("Inhibitors")[0]]

    def calls(self, method: str | None = None) -> list[tuple[str, float, str, int]]:
        rows = [(str(m), float(t), str(c), int(k)) for m, t, c, k in self._test("Calls")[0]]
        return [r for r in rows if method is None or r[0] == method]

    def reset(self) -> None:
        self._test("Reset")

    def set_active(self, active: bool) -> None:
        """The screensaver becomes active (locks) or not, and says so (ActiveChanged)."""
        self.bus.call(
            self.name, "/org/cocainate/Test", "org.cocainate.Test", "SetActive", "b", (active,)
        )

    def stop(self) -> None:
        stop(self.process)


class Logind:
    """python-dbusmock's logind template: a real third-party implementation on the system bus."""

    name = "org.freedesktop.login1"

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.process = bus.spawn(
            [dbusmock_python(), "-m", "dbusmock", "--system", "--template", "logind"],
            name=self.name,
            stdout=subprocess.DEVNULL,
        )

    def inhibitors(self) -> list[tuple[str, str, str, str]]:
        """(what, who, why, mode) of every lock held."""
        rows = self.bus.call(
            self.name, "/org/freedesktop/login1", "org.freedesktop.login1.Manager", "ListInhibitors"
        )[0]
        return [(str(w), str(who), str(why), str(mode)) for w, who, why, mode, *_ in rows]


def dbusmock_python() -> str:
    """An interpreter that can run python-dbusmock: this one, or the system's, where Debian's
    python3-dbusmock brings it with its GObject and dbus bindings."""
    probe = "import dbusmock, gi"
    for python in (sys.executable, "/usr/bin/python3"):
        if subprocess.run([python, "-c", probe], capture_output=True).returncode == 0:
            return python
    raise RuntimeError("python-dbusmock is not installed (Debian/Ubuntu: python3-dbusmock)")


def have(*programs: str) -> bool:
    return all(shutil.which(p) for p in programs)


LOGIN = "org.freedesktop.login1"
MANAGER = "/org/freedesktop/login1"
MOCK = "org.freedesktop.DBus.Mock"


class Logins:
    def __init__(self, desktop: Any) -> None:
        self.bus = desktop.system_bus
        self.made: list[tuple[str, str]] = []

    def add(self, name: str, remote: bool, host: str = "") -> str:
        number = f"c{len(self.made) + 100}"
        path = str(
            self.bus.call(
                LOGIN,
                MANAGER,
                MOCK,
                "AddSession",
                "ssusb",
                (number, "seat0", 1000 + len(self.made), name, True),
            )[0]
        )
        props = "org.freedesktop.DBus.Properties"
        session = "org.freedesktop.login1.Session"
        self.bus.call(LOGIN, path, props, "Set", "ssv", (session, "Remote", ("b", remote)))
        self.bus.call(LOGIN, path, props, "Set", "ssv", (session, "RemoteHost", ("s", host)))
        self.emit("SessionNew", number, path)
        self.made.append((number, path))
        return path

    def remove(self, path: str) -> None:
        (number,) = [n for n, p in self.made if p == path]
        self.made.remove((number, path))
        self.bus.call(LOGIN, MANAGER, MOCK, "RemoveObject", "o", (path,))
        self.emit("SessionRemoved", number, path)

    def emit(self, member: str, number: str, path: str) -> None:
        self.bus.call(
            LOGIN,
            MANAGER,
            MOCK,
            "EmitSignal",
            "sssav",
            ("org.freedesktop.login1.Manager", member, "so", [("s", number), ("o", path)]),
        )
