"""``RemoteLogin``: met while a remote login session of any user exists (SSH, or any
session logind marks ``Remote``), from systemd-logind on the system bus.

At start, and whenever logind (re)appears, its sessions are listed (ListSessions) and each
one's properties asked for; then SessionNew and SessionRemoved are followed, each asking
logind about that session (so a signal from anyone else can only cause a question: the
signals' rules cannot name logind's unique name before it is known). Nothing is polled:
a session's ``Remote`` is fixed when it is made.
If logind leaves, the last list stands until it is back.
"""

from typing import TYPE_CHECKING, Any

from . import Watcher
from .bus import BusWatch, error_name

if TYPE_CHECKING:
    from ..reactor import Source

NAME = "org.freedesktop.login1"
PATH = "/org/freedesktop/login1"
MANAGER = "org.freedesktop.login1.Manager"
SESSION = "org.freedesktop.login1.Session"


class RemoteWatcher(Watcher):
    def __init__(self) -> None:
        super().__init__()
        from jeepney import MatchRule

        from ..bindings.dbus import owner_changes

        rules = [owner_changes(NAME)]
        for member in ("SessionNew", "SessionRemoved"):
            rules.append(MatchRule(type="signal", interface=MANAGER, member=member, path=PATH))
        self._bus = BusWatch("system", rules, self._signal, self._ask, self._left)
        self.remote: dict[str, str] = {}  # session path: who, from where
        self._known = False
        self._problem = ""
        self.detail = "remote logins unknown"

    def open(self) -> "list[Source]":
        return self._bus.first_look(
            "follow remote logins", "logind", lambda: self._known, lambda: self._problem
        )

    def close(self) -> None:
        self._bus.close()

    def _ask(self) -> None:
        from jeepney import DBusAddress

        manager = DBusAddress(PATH, NAME, MANAGER)
        self._bus.call(manager, "ListSessions", None, (), self._listed)

    def _listed(self, reply: "Any") -> None:
        if reply is None:
            return
        error = error_name(reply)
        if error is not None:
            from ..bindings.dbus import NO_OWNER

            self._problem = (
                "logind (org.freedesktop.login1) is not running"
                if error in NO_OWNER
                else f"logind answered ListSessions with {error}"
            )
            return
        self.remote.clear()
        self._known = True
        for _id, _uid, _user, _seat, path in reply.body[0]:
            self._look_at(str(path))
        self._update()

    def _look_at(self, path: str) -> None:
        from jeepney import DBusAddress

        address = DBusAddress(path, NAME, "org.freedesktop.DBus.Properties")
        self._bus.call(address, "GetAll", "s", (SESSION,), lambda r: self._session(path, r))

    def _session(self, path: str, reply: "Any") -> None:
        if reply is None:
            return  # the bus broke: the list is made again on reconnection
        if error_name(reply) is not None:  # gone (since it was listed, or removed)
            self.remote.pop(path, None)
            self._update()
            return
        props = {key: value for key, (_sig, value) in reply.body[0].items()}
        if props.get("Remote") is True:
            user, host = props.get("RemoteUser") or props.get("Name", "?"), props.get("RemoteHost")
            self.remote[path] = f"{user} from {host}" if host else str(user)
        self._update()

    def _signal(self, message: "Any") -> None:
        from jeepney import HeaderFields

        member = message.header.fields.get(HeaderFields.member)
        if member == "NameOwnerChanged":
            if message.body[2]:
                self._ask()  # logind (re)started: list again
            else:
                self._left("logind left the system bus")
        elif member == "SessionNew":
            self._look_at(str(message.body[1]))
        elif member == "SessionRemoved":
            self._look_at(str(message.body[1]))  # gone, as logind says, not as anyone does

    def _left(self, why: str = "lost the system bus") -> None:
        if self._known:
            self.report(f"{why}; going by its last list ({self.detail}) until it is back", False)

    def _update(self) -> None:
        logins = sorted(self.remote.values())
        self.met = bool(logins)
        if not logins:
            self.detail = "no remote login"
        elif len(logins) == 1:
            self.detail = f"a remote login ({logins[0]})"
        else:
            self.detail = f"{len(logins)} remote logins ({', '.join(logins)})"
