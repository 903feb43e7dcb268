"""``MediaPlaying``: met while an MPRIS player on the session bus says "Playing".

A player is a connection that owns a name under ``org.mpris.MediaPlayer2.``, for as long
as it owns one: VLC owns two (``vlc`` and ``vlc.instance<PID>``) and is one player, named
by the shorter. Names and their owners are followed from the bus itself (ListNames and
GetNameOwner at start, then NameOwnerChanged, which the bus also sends for every name of a
connection that closes or crashes), and a player's ``PlaybackStatus`` from the player: one
Get when it becomes a player, then its PropertiesChanged. What a connection that owns no
player name announces counts for nothing. Every call is a message whose reply arrives like
any other, so a player that hangs delays nothing.

Messages from the bus and from a player reach us in the order they were sent, so a name's
new owner is known before anything that owner announces as a player.
"""

from functools import partial
from typing import TYPE_CHECKING, Any

from ..bindings.buses import variant
from ..errors import ConditionError, MechanismError
from . import Watcher
from .bus import BusWatch, error_name, sender

if TYPE_CHECKING:
    from ..reactor import Source

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
        self._owners: dict[str, str] = {}  # player name (without PREFIX) -> its unique name
        self._status: dict[str, str] = {}  # a player's unique name -> its PlaybackStatus
        self.detail = "no media plays"

    def open(self) -> "list[Source]":
        try:
            self._bus.connect()
        except MechanismError as err:
            raise ConditionError(f"cannot follow media players: {err}") from err
        self._bus.collect_replies(FIRST_LOOK)
        return [self._bus.source]

    def close(self) -> None:
        self._bus.close()
        self._owners.clear()
        self._status.clear()

    def _look(self) -> None:
        """After each (re)connection: list the players, learn each one's owner."""
        self._owners.clear()
        self._status.clear()
        from ..bindings.dbus import BUS

        self._bus.call(BUS, "ListNames", None, (), self._names)
        self._update()

    def _names(self, reply: "Any") -> None:
        if reply is None or error_name(reply) is not None:
            return
        for name in reply.body[0]:
            if isinstance(name, str) and name.startswith(PREFIX):
                self._bus.owner_of(name, partial(self._owned, name))

    def _owned(self, name: str, owner: str) -> None:
        """``owner`` owns player name ``name`` now: ask how it plays, if it is new."""
        self._owners[name[len(PREFIX) :]] = owner
        if owner not in self._status:
            self._status[owner] = ""
            self._ask(owner)
        self._update()

    def _ask(self, owner: str) -> None:
        def answer(reply: "Any") -> None:
            if reply is None or error_name(reply) is not None or owner not in self._status:
                return
            self._status[owner] = str(variant(reply.body[0]))
            self._update()

        self._bus.get(owner, PATH, PLAYER, "PlaybackStatus", answer)

    def _signal(self, message: "Any") -> None:
        from jeepney import HeaderFields

        if message.header.fields.get(HeaderFields.member) == "NameOwnerChanged":
            name, old, new = message.body
            self._owners.pop(name[len(PREFIX) :], None)
            if old and old not in self._owners.values():
                self._status.pop(old, None)  # it owns no player name any more
            if new:
                self._owned(name, new)
            self._update()
            return
        owner = sender(message)
        if owner not in self._status:
            return  # not a player (any more): what it says counts for nothing
        _interface, changed, invalidated = message.body
        if "PlaybackStatus" in changed:
            self._status[owner] = str(variant(changed["PlaybackStatus"]))
        elif "PlaybackStatus" in invalidated:
            self._ask(owner)
        self._update()

    def _gone(self) -> None:
        self._owners.clear()  # the bus went: nobody is known to play until it is back
        self._status.clear()
        self._update()

    def _update(self) -> None:
        names: dict[str, list[str]] = {}
        for name, owner in self._owners.items():
            names.setdefault(owner, []).append(name)
        playing = sorted(
            min(names[owner], key=lambda n: (len(n), n))
            for owner, status in self._status.items()
            if status == "Playing" and owner in names
        )
        self.met = bool(playing)
        if playing:
            self.detail = f"{', '.join(playing)} {'plays' if len(playing) == 1 else 'play'}"
        else:
            self.detail = "no media plays"
