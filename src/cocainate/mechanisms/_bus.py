"""The base of every D-Bus mechanism: a pair of calls on a bus service, Inhibit then
UnInhibit(cookie), and healing when the service's name changes hands."""

from __future__ import annotations

from typing import Any, ClassVar

from ..bindings.dbus import NO_OWNER, NOT_HERE, RELEASE_TIMEOUT, CallError, call, call_reply
from ..errors import MechanismError
from . import Mechanism, Mode


class BusInhibitor(Mechanism):
    """Subclasses are data: which bus and service, the object paths to try in order, the
    interface and method names, and the Inhibit arguments for a mode.

    The inhibit belongs to the process that granted it (a unique name): UnInhibit goes to
    that process, never to whoever owns the service's name by then, and a new owner means
    the inhibit is gone and is asked for again, once, from the owner of the moment.
    """

    bus: ClassVar[str] = "session"
    service: ClassVar[str]
    paths: ClassVar[tuple[str, ...]]
    interface: ClassVar[str]
    inhibit_method: ClassVar[str] = "Inhibit"
    inhibit_signature: ClassVar[str]
    reply_signature: ClassVar[str] = "u"
    uninhibit_method: ClassVar[str] = "UnInhibit"

    _cookie: Any = None
    _path: str | None = None
    _owner: str | None = None  # the unique name that granted the inhibit
    _wanted: tuple[Mode, str] | None = None  # what to re-acquire with

    def inhibit_args(self, mode: Mode, reason: str) -> tuple[Any, ...]:
        raise NotImplementedError

    def probe(self) -> str | None:
        from ..bindings.dbus import name_has_owner

        try:
            if name_has_owner(self.resources.bus(self.bus), self.service):
                return None
        except MechanismError as err:
            return str(err)
        return f"{self.service} is not running on the {self.bus} bus"

    def acquire(self, mode: Mode, reason: str) -> None:
        # Watch the name first: a change between the grant and the watch would go unseen.
        self.resources.subscribe(self.bus, self.service, self._owner_changed)
        try:
            self._inhibit(mode, reason)
        except BaseException:
            self.resources.unsubscribe(self.bus, self.service, self._owner_changed)
            raise
        self._wanted = (mode, reason)

    def _owner_changed(self, owner: str | None) -> None:
        """The service's name has a new owner ("": nobody; None: the bus connection broke)."""
        if self._wanted is None or (owner is not None and owner == self._owner):
            return
        if self._owner is not None:
            self._forget()
            if owner is None:
                self.report("lost", "the bus connection broke")
            elif not owner:
                self.report("lost", f"{self.service} left the bus")
            else:
                self.report("lost", f"{self.service} restarted")
        if owner:
            try:
                self._inhibit(*self._wanted)
            except MechanismError as err:
                self.report("lost", f"could not re-acquire: {err}")
                return
            self.report("reacquired", None)

    def _forget(self) -> None:
        """Forget an inhibit whose service has gone (it went with the service)."""
        self._cookie = self._path = self._owner = None

    def _inhibit(self, mode: Mode, reason: str) -> None:
        from jeepney import DBusAddress, HeaderFields

        connection = self.resources.bus(self.bus)
        args = self.inhibit_args(mode, reason)
        for path in self.paths:
            address = DBusAddress(path, self.service, self.interface)
            try:
                reply = call_reply(
                    connection, address, self.inhibit_method, self.inhibit_signature, args
                )
            except CallError as err:
                if err.error_name in NOT_HERE:
                    continue
                raise
            owner = reply.header.fields.get(HeaderFields.sender)
            signature = reply.header.fields.get(HeaderFields.signature, "")
            if signature != self.reply_signature or len(reply.body) != 1:
                raise MechanismError(
                    f"{self.service} answered {self.inhibit_method} with a reply of type "
                    f"{signature!r}, not {self.reply_signature!r}"
                )
            self._cookie, self._path, self._owner = self.take(reply.body[0]), path, owner
            return
        paths = " or ".join(self.paths)
        raise MechanismError(
            f"{self.service} has no {self.interface}.{self.inhibit_method} at {paths}"
        )

    def take(self, value: Any) -> Any:
        """What to keep from Inhibit's reply until release: by default, the cookie."""
        return value

    def release(self) -> None:
        from jeepney import DBusAddress

        self._wanted = None
        cookie, path, owner = self._cookie, self._path, self._owner
        self._forget()
        if owner is None or path is None:
            return
        self.resources.unsubscribe(self.bus, self.service, self._owner_changed)
        try:
            connection = self.resources.bus(self.bus)
            address = DBusAddress(path, owner, self.interface)  # the granting process itself
            call(
                connection,
                address,
                self.uninhibit_method,
                "u",
                (cookie,),
                RELEASE_TIMEOUT,
                label=self.service,
            )
        except CallError as err:
            if err.error_name not in NO_OWNER:  # gone: and our inhibit with it
                self.problems.append(f"{self.name}: release failed: {err}")
        except MechanismError as err:
            # Closing the connection, next, drops the inhibit on every real daemon.
            self.problems.append(f"{self.name}: release failed: {err}")

    def abandon(self) -> None:
        self._wanted = None
        self._forget()
