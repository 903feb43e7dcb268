"""The floor for four services: what cocainate's default policy holds, done by hand with
jeepney as plainly as possible, to measure what a release of four costs on this machine
whoever does it.

Connect to both buses, Inhibit at org.freedesktop.ScreenSaver, org.gnome.SessionManager,
org.freedesktop.PowerManagement and logind; on SIGTERM close logind's fd, send the three
UnInhibits (the screensaver's last, as cocainate does), then read their replies.
"""

import os
import signal

from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import open_dbus_connection

session = open_dbus_connection("SESSION")
system = open_dbus_connection("SYSTEM", enable_fds=True)


def at(name: str, path: str, interface: str = "") -> DBusAddress:
    return DBusAddress(path, name, interface or name)


screensaver = at("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver")
gnome = at("org.gnome.SessionManager", "/org/gnome/SessionManager")
power = at(
    "org.freedesktop.PowerManagement",
    "/org/freedesktop/PowerManagement/Inhibit",
    "org.freedesktop.PowerManagement.Inhibit",
)
logind = at("org.freedesktop.login1", "/org/freedesktop/login1", "org.freedesktop.login1.Manager")


def inhibit(connection, address, signature, body):  # type: ignore[no-untyped-def]
    return connection.send_and_get_reply(new_method_call(address, "Inhibit", signature, body))


cookies = [
    (screensaver, "UnInhibit", inhibit(session, screensaver, "ss", ("floor", "bench")).body[0]),
    (gnome, "Uninhibit", inhibit(session, gnome, "susu", ("floor", 0, "bench", 8)).body[0]),
    (power, "UnInhibit", inhibit(session, power, "ss", ("floor", "bench")).body[0]),
]
lock = inhibit(system, logind, "ssss", ("idle", "floor", "bench", "block")).body[0].to_raw_fd()
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
signal.sigwait({signal.SIGTERM})
os.close(lock)
serials = []
for address, method, cookie in reversed(cookies):
    serial = next(session.outgoing_serial)
    session.send(new_method_call(address, method, "u", (cookie,)), serial=serial)
    serials.append(serial)
while serials:
    reply = session.receive(timeout=2)
    serials = [s for s in serials if s != reply.header.fields.get(5)]
