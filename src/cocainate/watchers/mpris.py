"""``MediaPlaying``: met while an MPRIS player on the session bus says "Playing".

Every player owns a name under ``org.mpris.MediaPlayer2.`` and announces changes of its
``PlaybackStatus`` with PropertiesChanged. So: at start, list the names and ask each player
once; then follow NameOwnerChanged (players arriving and leaving, crashed ones included)
and PropertiesChanged. Players are kept by their unique name, which is the sender of their
signals; no call waits for a player, so one that hangs delays nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ConditionError, MechanismError
from . import Watcher
from .bus import BusWatch, error_name, sender, variant

if TYPE_CHECKING:
    from ..core.reactor import Source

PREFIX = "org.mpris.MediaPlayer2."
PLAYER = "org.mpris.MediaPlayer2.Player"
PATH = "/org/mpris/MediaPlayer2"
FIRST_LOOK = 1.0
"""Seconds the players have, at start, to say whether they play."""


class MediaWatcher(Watcher):
    def __init__(self) -> None:
        super().__init__()
        from ..bindings.dbus import owner_changes, property_changes

        rules = [owner_changes(PREFIX.rstrip("."), namespace=True), property_changes(PATH, PLAYER)]
        self._bus = BusWatch("session", rules, self._signal, self._look, self._gone)
        self._players: dict[str, list[str]] = {}  # unique name -> [player name, status]
        self.detail = "no media plays"

    def open(self) -> list[Source]:
        try:
            self._bus.connect()
        except MechanismError as err:
            raise ConditionError(f"cannot follow media players: {err}") from err
        self._bus.settle(FIRST_LOOK)
        return [self._bus.source]

    def close(self) -> None:
        self._bus.close()
        self._players.clear()

    def _look(self) -> None:
        """After each (re)connection: list the players and ask each how it plays."""
        from jeepney import DBusAddress

        self._players.clear()
        bus = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
        self._bus.call(bus, "ListNames", None, (), self._names)
        self._update()

    def _names(self, reply: Any) -> None:
        if reply is None or error_name(reply) is not None:
            return
        for name in reply.body[0]:
            if name.startswith(PREFIX):
                self._ask(name)

    def _ask(self, name: str, label: str | None = None) -> None:
        """Ask player ``name`` (a well-known or unique name) how it plays."""
        label = label or name[len(PREFIX) :]

        def answer(reply: Any) -> None:
            if reply is None or error_name(reply) is not None:
                return
            owner = sender(reply)
            self._players[owner] = [label, str(variant(reply.body[0]))]
            self._update()

        self._bus.get(name, PATH, PLAYER, "PlaybackStatus", answer)

    def _signal(self, message: Any) -> None:
        from jeepney import HeaderFields

        if message.header.fields.get(HeaderFields.member) == "NameOwnerChanged":
            name, old, new = message.body
            if old:
                self._players.pop(old, None)
            if new:
                self._ask(name)
        else:
            _interface, changed, invalidated = message.body
            owner = sender(message)
            player = self._players.get(owner)
            if player is None:  # its name's arrival is still on its way: learn it now
                self._players[owner] = player = [owner, ""]
            if "PlaybackStatus" in changed:
                player[1] = str(variant(changed["PlaybackStatus"]))
            elif "PlaybackStatus" in invalidated:
                self._ask(owner, player[0])
        self._update()

    def _gone(self) -> None:
        self._players.clear()  # the bus went: nobody is known to play until it is back
        self._update()

    def _update(self) -> None:
        playing = [p[0] for p in self._players.values() if p[1] == "Playing"]
        self.met = bool(playing)
        if playing:
            self.detail = f"{', '.join(sorted(playing))} {'plays' if len(playing) == 1 else 'play'}"
        else:
            self.detail = "no media plays"
