"""A stand-in for xdg-desktop-portal's Inhibit, on a real bus, for the answers the real
portal gives only in a sandbox or with a failing backend: a refusal at once, a refusal
later, or no Response at all (portals before 1.16).

Inhibit(s window, u flags, a{sv} options) -> o handle, at
/org/freedesktop/portal/desktop/request/<caller's unique name, ':' dropped, '.' -> '_'>/
<options' handle_token>, as the real portal makes it; then, unless --silent, the signal
Response(u code, a{sv} {}) on that handle. org.freedesktop.portal.Request.Close on the
handle ends the inhibit; so does the caller's leaving the bus.

Tests read its state through org.cocainate.Test at /org/cocainate/Test:
  Inhibitors() -> a(os)   handle and caller of each inhibit held
  Refuse(o handle)        send Response 2 on a held handle now, and drop it

Usage: portal.py [--respond CODE] [--silent]. Prints "ready" once it owns its name.
"""

from __future__ import annotations

import argparse
import sys
from collections import deque
from typing import Any

from jeepney import (
    HeaderFields,
    MatchRule,
    MessageType,
    message_bus,
    new_error,
    new_method_return,
    new_signal,
)
from jeepney.io.blocking import Proxy, open_dbus_connection
from jeepney.wrappers import DBusAddress

NAME = "org.freedesktop.portal.Desktop"
ROOT = "/org/freedesktop/portal/desktop"
REQUESTS = ROOT + "/request/"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--respond", type=int, default=0, help="the Response code to send")
    parser.add_argument("--silent", action="store_true", help="send no Response")
    args = parser.parse_args()
    conn = open_dbus_connection("SESSION")
    # Started by the bus, the call that started it may arrive while RequestName is
    # awaited: jeepney would drop it, unless a filter keeps it.
    early: deque[Any] = deque()
    conn.filter(MatchRule(type="method_call"), queue=early)
    bus = Proxy(message_bus, conn)
    bus.AddMatch(MatchRule(type="signal", sender="org.freedesktop.DBus", member="NameOwnerChanged"))
    if bus.RequestName(NAME, 4)[0] != 1:
        sys.exit(f"could not own {NAME}")
    print("ready", flush=True)
    held: dict[str, str] = {}  # handle -> caller

    def respond(handle: str, code: int) -> None:
        address = DBusAddress(handle, interface="org.freedesktop.portal.Request")
        conn.send(new_signal(address, "Response", "ua{sv}", (code, {})))

    while True:
        msg = early.popleft() if early else conn.receive()
        fields = msg.header.fields
        if msg.header.message_type == MessageType.signal:
            if fields.get(HeaderFields.member) == "NameOwnerChanged":
                gone, _old, new = msg.body
                if not new:
                    for handle in [h for h, c in held.items() if c == gone]:
                        del held[handle]
            continue
        if msg.header.message_type != MessageType.method_call:
            continue
        path, member = fields.get(HeaderFields.path), fields.get(HeaderFields.member)
        sender = fields.get(HeaderFields.sender, "")
        if path == "/org/cocainate/Test" and member == "Inhibitors":
            conn.send(new_method_return(msg, "a(os)", ([(h, c) for h, c in held.items()],)))
        elif path == "/org/cocainate/Test" and member == "Refuse":
            (handle,) = msg.body
            held.pop(handle, None)
            respond(handle, 2)
            conn.send(new_method_return(msg))
        elif path == ROOT and member == "Inhibit":
            _window, _flags, options = msg.body
            token = options.get("handle_token", ("s", "t"))[1]
            handle = REQUESTS + sender.lstrip(":").replace(".", "_") + "/" + token
            if args.respond == 0:
                held[handle] = sender
            conn.send(new_method_return(msg, "o", (handle,)))
            if not args.silent:
                respond(handle, args.respond)
        elif path in held and member == "Close":
            del held[path]
            conn.send(new_method_return(msg))
        else:
            conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))


if __name__ == "__main__":
    main()
