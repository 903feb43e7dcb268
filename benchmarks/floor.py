"""The floor: the least a Python program can do to hold an inhibit with jeepney.

Import the D-Bus library, connect, call Inhibit, hold until SIGTERM, then UnInhibit.
"""

import signal

from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import open_dbus_connection

connection = open_dbus_connection("SESSION")
address = DBusAddress(
    "/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver", "org.freedesktop.ScreenSaver"
)
reply = connection.send_and_get_reply(
    new_method_call(address, "Inhibit", "ss", ("floor", "benchmark"))
)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
signal.sigwait({signal.SIGTERM})
connection.send_and_get_reply(new_method_call(address, "UnInhibit", "u", (reply.body[0],)))
