"""A media player's MPRIS side, on a real bus, driven line by line from stdin.

Commands (each answered with "ok" on stdout once the bus has it):
  own SUFFIX        own org.mpris.MediaPlayer2.SUFFIX
  release SUFFIX    give that name up (the connection stays)
  status STATUS     PlaybackStatus becomes STATUS, announced with PropertiesChanged
  invalidate        announce PlaybackStatus as invalidated (no value)
  quiet STATUS      PlaybackStatus becomes STATUS, announced to nobody
  start SUFFIX      own that name and announce "Playing" at once, as a player starting does
  flap N MS         announce "Playing" and "Paused" in turn, N times, MS milliseconds apart
                    (a call that comes meanwhile is answered after)
It answers org.freedesktop.DBus.Properties.Get for PlaybackStatus at /org/mpris/MediaPlayer2.
With no name owned, what it announces comes from a connection that is no player at all.
Its unique name is the first line it prints. The bus is $DBUS_SESSION_BUS_ADDRESS.
"""

from __future__ import annotations

import select
import sys
import time

from jeepney import (
    DBusAddress,
    HeaderFields,
    MatchRule,
    MessageType,
    new_error,
    new_method_call,
    new_method_return,
    new_signal,
)
from jeepney.io.blocking import open_dbus_connection

PATH = "/org/mpris/MediaPlayer2"
PLAYER = "org.mpris.MediaPlayer2.Player"
BUS = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")


def main() -> None:
    conn = open_dbus_connection("SESSION")
    # calls to us, also those that arrive while we wait for the bus's own replies
    calls = conn.filter(MatchRule(type="method_call"), bufsize=1000).queue
    print(conn.unique_name, flush=True)
    status = "Stopped"

    def call(method: str, signature: str | None, body: tuple[object, ...]) -> None:
        reply = conn.send_and_get_reply(new_method_call(BUS, method, signature, body), timeout=5)
        assert reply.header.message_type == MessageType.method_return, reply.body

    def announce(changed: dict[str, object], invalidated: list[str]) -> None:
        signal = new_signal(
            DBusAddress(PATH, interface="org.freedesktop.DBus.Properties"), "PropertiesChanged"
        )
        signal.header.fields[HeaderFields.signature] = "sa{sv}as"
        signal.body = (PLAYER, changed, invalidated)
        conn.send(signal)

    def serve(msg: object) -> None:
        header = msg.header  # type: ignore[attr-defined]
        if header.message_type != MessageType.method_call:
            return
        member = header.fields.get(HeaderFields.member)
        if member == "Get" and msg.body == (PLAYER, "PlaybackStatus"):  # type: ignore[attr-defined]
            conn.send(new_method_return(msg, "v", (("s", status),)))
        else:
            conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))

    def drain() -> None:
        """Read every message that has arrived: also those a blocking call read from the
        socket with its reply and left in jeepney's buffer, where no select sees them."""
        try:
            while True:
                conn.recv_messages(timeout=0)
        except TimeoutError:
            pass
        while calls:
            serve(calls.popleft())

    while True:
        ready, _, _ = select.select([sys.stdin, conn.sock], [], [])
        drain()
        if sys.stdin not in ready:
            continue
        line = sys.stdin.readline()
        if not line:
            return
        command, _, argument = line.strip().partition(" ")
        if command == "own":
            call("RequestName", "su", (f"org.mpris.MediaPlayer2.{argument}", 4))
        elif command == "release":
            call("ReleaseName", "s", (f"org.mpris.MediaPlayer2.{argument}",))
        elif command == "status":
            status = argument
            announce({"PlaybackStatus": ("s", status)}, [])
        elif command == "start":
            status = "Playing"
            call("RequestName", "su", (f"org.mpris.MediaPlayer2.{argument}", 4))
            announce({"PlaybackStatus": ("s", status)}, [])
        elif command == "flap":
            count, gap = argument.split()
            for turn in range(int(count)):
                status = "Paused" if turn % 2 else "Playing"
                announce({"PlaybackStatus": ("s", status)}, [])
                time.sleep(int(gap) / 1000)
        elif command == "quiet":
            status = argument
        elif command == "invalidate":
            announce({}, ["PlaybackStatus"])
        call("GetId", None, ())  # a round trip: what was sent before it has reached the bus
        drain()
        print("ok", flush=True)


if __name__ == "__main__":
    main()
