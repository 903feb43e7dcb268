"""A stand-in for a desktop's inhibit service, on a real bus, behaving as the real daemons do.

It serves one of org.freedesktop.ScreenSaver, org.gnome.SessionManager or
org.freedesktop.PowerManagement, hands out cookies, records every call with the caller's
unique name and the time it arrived, and drops a caller's inhibits when the caller's
connection leaves the bus (NameOwnerChanged), as KDE, GNOME, xscreensaver and friends do.
Unknown objects and methods get the bus's standard errors, so clients see what a daemon
that serves other paths would answer.

Tests read its state through org.cocainate.Test at /org/cocainate/Test:
  Inhibitors() -> a(ussu)   cookie, owner, reason, flags of each held inhibit
  Calls() -> a(sdsu)        method, time.time(), caller, cookie of every (Un)Inhibit
  Reset()                   forget the call log
  SetActive(b)              screensaver: become active or not, saying so with ActiveChanged
                            (GetActive answers it), as KDE's locker does when it locks
With --logind ADDRESS, the gnome kind does what gnome-session does with the suspend flag
(4): while any inhibit carries it, it holds a logind "sleep" lock of its own, in block
mode, on the system bus at ADDRESS (which blocks a suspend a person asks for).
GNOME's GetInhibitors with Inhibitor objects (GetAppId, GetReason, GetFlags) and
PowerManagement's HasInhibit are served too, for `cocainate status`.

Usage: inhibit_service.py KIND [--paths P1,P2] [--first-cookie N] [--hang]
                          [--refuse-first N] [--slow-first N SECONDS] ...
KIND: screensaver | gnome | power
--slow-first: the first N Inhibit calls are handled (granted) SECONDS after they arrive,
while the service goes on answering others; --refuse-first: the next N are refused.
Prints "ready" on stdout once it owns its name. The bus is $DBUS_SESSION_BUS_ADDRESS.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from jeepney import (
    DBusAddress,
    HeaderFields,
    MatchRule,
    Message,
    MessageType,
    message_bus,
    new_error,
    new_method_call,
    new_method_return,
    new_signal,
)
from jeepney.io.blocking import Proxy, open_dbus_connection

KINDS = {
    # name, default paths, interface, inhibit signature, uninhibit method
    "screensaver": (
        "org.freedesktop.ScreenSaver",
        ("/org/freedesktop/ScreenSaver", "/ScreenSaver"),
        "org.freedesktop.ScreenSaver",
        "ss",
        "UnInhibit",
    ),
    "gnome": (
        "org.gnome.SessionManager",
        ("/org/gnome/SessionManager",),
        "org.gnome.SessionManager",
        "susu",
        "Uninhibit",
    ),
    # logind's Inhibit, for replies of the wrong type only (python-dbusmock's is the real one)
    "logind": (
        "org.freedesktop.login1",
        ("/org/freedesktop/login1",),
        "org.freedesktop.login1.Manager",
        "ssss",
        "",
    ),
    "power": (
        "org.freedesktop.PowerManagement",
        ("/org/freedesktop/PowerManagement/Inhibit",),
        "org.freedesktop.PowerManagement.Inhibit",
        "ss",
        "UnInhibit",
    ),
}
TEST_PATH = "/org/cocainate/Test"
TEST_INTERFACE = "org.cocainate.Test"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--paths")
    parser.add_argument("--first-cookie", type=int, default=1)
    parser.add_argument("--hang", action="store_true", help="never answer Inhibit")
    parser.add_argument("--fail", help="answer Inhibit with this D-Bus error name")
    parser.add_argument("--fail-text", default="refused by the test service")
    parser.add_argument("--hang-release", action="store_true", help="never answer UnInhibit")
    parser.add_argument("--fail-release", action="store_true", help="refuse every UnInhibit")
    parser.add_argument("--malformed", action="store_true", help="a string for a cookie")
    parser.add_argument("--reply-type", help="answer Inhibit with a value of this type (u, t, s)")
    parser.add_argument("--system", action="store_true", help="serve on the system bus")
    parser.add_argument("--logind", help="gnome: take logind sleep locks on this system bus")
    parser.add_argument(
        "--refuse-first", type=int, default=0, help="refuse this many Inhibits (after the slow)"
    )
    # For `cocainate status`: the listing method is GetInhibitors (gnome), HasInhibit
    # (power) or ListInhibitors (logind).
    parser.add_argument(
        "--list-reply",
        nargs=2,
        metavar=("SIGNATURE", "JSON"),
        help="answer the listing method with this body, of this D-Bus type",
    )
    parser.add_argument("--list-many", type=int, default=0, help="list this many inhibitors")
    parser.add_argument("--slow-getters", type=float, default=0.0, help="gnome: seconds per Get*")
    parser.add_argument(
        "--slow-first",
        type=float,
        nargs=2,
        metavar=("N", "SECONDS"),
        default=(0, 0.0),
        help="handle the first N Inhibit calls SECONDS after they arrive (granting them then)",
    )
    args = parser.parse_args()
    name, paths, interface, signature, uninhibit = KINDS[args.kind]
    if args.paths:
        paths = tuple(args.paths.split(","))

    conn = open_dbus_connection("SYSTEM" if args.system else "SESSION")
    bus = Proxy(message_bus, conn)
    bus.AddMatch(MatchRule(type="signal", sender="org.freedesktop.DBus", member="NameOwnerChanged"))
    if bus.RequestName(name, 4)[0] != 1:  # DO_NOT_QUEUE; 1 = primary owner
        sys.exit(f"could not own {name}")
    print("ready", flush=True)

    held: dict[int, tuple[str, str, int]] = {}
    apps: dict[int, str] = {}
    calls: list[tuple[str, float, str, int]] = []
    next_cookie = args.first_cookie

    def reply(msg: Message, sig: str | None = None, body: tuple[Any, ...] = ()) -> None:
        conn.send(new_method_return(msg, sig, body))

    sleep_lock: list[Any] = []  # gnome-session's own logind lock, while a suspend flag is held

    def follow_suspend_flags() -> None:
        wanted = args.logind and any(h[2] & 4 for h in held.values())
        if wanted and not sleep_lock:
            system = open_dbus_connection(args.logind, enable_fds=True)
            login1 = "org.freedesktop.login1"
            address = DBusAddress("/org/freedesktop/login1", login1, f"{login1}.Manager")
            why = "user session inhibited"
            message = new_method_call(
                address, "Inhibit", "ssss", ("sleep", "gnome-session", why, "block")
            )
            fd = system.send_and_get_reply(message, timeout=5).body[0]
            sleep_lock.extend([system, fd])
        elif not wanted and sleep_lock:
            system, fd = sleep_lock
            fd.close()
            system.close()
            sleep_lock.clear()

    inhibits = 0  # Inhibit calls that arrived
    active = False  # the screensaver's GetActive
    deferred: list[tuple[float, object]] = []  # (when to handle it, the call) for --slow-first

    while True:
        late = False
        if deferred:
            try:
                msg = conn.receive(timeout=max(0.0, deferred[0][0] - time.monotonic()))
            except TimeoutError:
                msg, late = deferred.pop(0)[1], True  # its time has come: handled now
        else:
            msg = conn.receive()
        fields = msg.header.fields
        if msg.header.message_type == MessageType.signal:
            if fields.get(HeaderFields.member) == "NameOwnerChanged":
                gone, _old, new = msg.body
                if not new and gone.startswith(":"):
                    for cookie in [c for c, h in held.items() if h[0] == gone]:
                        del held[cookie]
                    follow_suspend_flags()
            continue
        if msg.header.message_type != MessageType.method_call:
            continue
        path = fields.get(HeaderFields.path)
        member = fields.get(HeaderFields.member)
        iface = fields.get(HeaderFields.interface)
        sender = fields.get(HeaderFields.sender, "")
        if path == TEST_PATH and iface in (TEST_INTERFACE, None):
            if member == "Inhibitors":
                rows = [(c, h[0], h[1], h[2]) for c, h in held.items()]
                reply(msg, "a(ussu)", (rows,))
            elif member == "Calls":
                reply(msg, "a(sdsu)", (calls,))
            elif member == "Reset":
                calls.clear()
                reply(msg)
            elif member == "SetActive":
                active = bool(msg.body[0])
                reply(msg)
                said = new_signal(DBusAddress(paths[0], interface=interface), "ActiveChanged")
                said.header.fields[HeaderFields.signature] = "b"
                said.body = (active,)
                conn.send(said)
            else:
                conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))
            continue
        listing = {"gnome": "GetInhibitors", "power": "HasInhibit", "logind": "ListInhibitors"}
        if member == listing.get(args.kind) and path in paths and args.list_reply:
            body = json.loads(args.list_reply[1])
            if args.list_reply[0].startswith("a("):  # an array of structs: rows as tuples
                body[0] = [tuple(row) for row in body[0]]
            reply(msg, args.list_reply[0] or None, tuple(body))
            continue
        if args.kind == "logind" and member == "ListInhibitors" and path in paths:
            locks = [("sleep", f"who{n}", "why", "block", 0, n) for n in range(args.list_many)]
            reply(msg, "a(ssssuu)", (locks,))
            continue
        if args.kind == "gnome" and member == "GetInhibitors" and path in paths:
            paths_held = [f"/org/gnome/SessionManager/Inhibitor{c}" for c in held]
            paths_held += [f"/org/gnome/SessionManager/Many{n}" for n in range(args.list_many)]
            reply(msg, "ao", (paths_held,))
            continue
        many = {"GetAppId": ("s", "many"), "GetReason": ("s", "many"), "GetFlags": ("u", 8)}
        if args.kind == "gnome" and path.startswith("/org/gnome/SessionManager/Many"):
            time.sleep(args.slow_getters)
            if member in many:
                reply(msg, many[member][0], (many[member][1],))
            else:
                conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))
            continue
        if args.kind == "gnome" and path.startswith("/org/gnome/SessionManager/Inhibitor"):
            cookie = int(path.rsplit("Inhibitor", 1)[1])
            if cookie not in held or member not in ("GetAppId", "GetReason", "GetFlags"):
                conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownObject"))
            elif member == "GetFlags":
                reply(msg, "u", (held[cookie][2],))
            else:
                reply(msg, "s", (apps[cookie] if member == "GetAppId" else held[cookie][1],))
            continue
        if args.kind == "screensaver" and member == "GetActive" and path in paths:
            reply(msg, "b", (active,))
            continue
        if args.kind == "power" and member == "HasInhibit" and path in paths:
            reply(msg, "b", (bool(held),))
            continue
        if path not in paths:
            conn.send(
                new_error(
                    msg,
                    "org.freedesktop.DBus.Error.UnknownObject",
                    "s",
                    (f"No such object path '{path}'",),
                )
            )
            continue
        if iface not in (interface, None) or member not in ("Inhibit", uninhibit):
            conn.send(
                new_error(
                    msg,
                    "org.freedesktop.DBus.Error.UnknownMethod",
                    "s",
                    (f"No such method '{member}'",),
                )
            )
            continue
        if member == "Inhibit":
            if fields.get(HeaderFields.signature) != signature:
                conn.send(
                    new_error(
                        msg,
                        "org.freedesktop.DBus.Error.InvalidArgs",
                        "s",
                        (f"expected signature {signature}",),
                    )
                )
                continue
            if args.hang:
                continue
            if not late:
                inhibits += 1
                if inhibits <= args.slow_first[0]:
                    deferred.append((time.monotonic() + args.slow_first[1], msg))
                    continue
                if inhibits <= args.slow_first[0] + args.refuse_first:
                    failed = "org.freedesktop.DBus.Error.Failed"
                    conn.send(new_error(msg, failed, "s", ("not yet, says the test service",)))
                    continue
            if args.fail:
                conn.send(new_error(msg, args.fail, "s", (args.fail_text,)))
                continue
            cookie = next_cookie
            next_cookie += 1
            reason = msg.body[2] if args.kind in ("gnome", "logind") else msg.body[1]
            flags = msg.body[3] if args.kind == "gnome" else 0
            held[cookie] = (sender, reason, flags)
            apps[cookie] = msg.body[0]
            follow_suspend_flags()
            calls.append(("Inhibit", time.time(), sender, cookie))
            if args.malformed or args.reply_type == "s":
                reply(msg, "s", (str(cookie),))
            elif args.reply_type:
                reply(msg, args.reply_type, (cookie,))
            else:
                reply(msg, "u", (cookie,))
        else:
            (cookie,) = msg.body
            calls.append((member, time.time(), sender, cookie))
            if args.hang_release:
                continue
            if args.fail_release:
                conn.send(new_error(msg, "org.freedesktop.DBus.Error.Failed", "s", ("no",)))
                continue
            if held.get(cookie, ("",))[0] != sender:
                conn.send(
                    new_error(
                        msg,
                        "org.freedesktop.DBus.Error.InvalidArgs",
                        "s",
                        (f"cookie {cookie} is not yours",),
                    )
                )
                continue
            del held[cookie]
            follow_suspend_flags()
            reply(msg)


if __name__ == "__main__":
    main()
