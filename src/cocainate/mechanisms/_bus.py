"""The base of every D-Bus mechanism: a pair of calls on a bus service, Inhibit then
UnInhibit(cookie), and healing when the service's name changes hands."""

import time
from typing import Any, Callable, ClassVar

from ..bindings.buses import FIRST_RETRY
from ..bindings.dbus import (
    CALL_TIMEOUT,
    NO_OWNER,
    NOT_HERE,
    RELEASE_TIMEOUT,
    CallError,
    NoAnswer,
    Pending,
    Prepared,
)
from ..errors import MechanismError
from . import Mechanism, Mode

LAST_HEAL_RETRY = 30.0
"""Seconds between two re-acquisitions of a service that runs but refuses or does not
answer, at most: the delay doubles from 0.25 s to this, and the retries never stop while
the service runs."""
MAX_UNANSWERED = 8
"""Inhibit calls a mechanism keeps waiting for at once; a late answer to each is taken (if
nothing holds yet) or undone (if something does), so that exactly one inhibit is held."""


class BusInhibitor(Mechanism):
    """Subclasses are data: which bus and service, the object paths to try in order, the
    interface and method names, and the Inhibit arguments for a mode.

    The inhibit belongs to the process that granted it (a unique name): UnInhibit goes to
    that process, never to whoever owns the service's name by then. A new owner means the
    inhibit is gone: it is asked for again from that process, without waiting for its
    answer. An error or no answer within :data:`~cocainate.bindings.dbus.CALL_TIMEOUT`
    is reported once as "lost", and the call is made again with a backoff for as long as
    that process owns the name. A late answer still counts: the first grant is kept, and
    any other is undone at once, so a service ends with exactly one inhibit of ours.
    """

    bus: "ClassVar[str]" = "session"
    service: "ClassVar[str]"
    paths: "ClassVar[tuple[str, ...]]"
    interface: "ClassVar[str]"
    inhibit_method: "ClassVar[str]" = "Inhibit"
    inhibit_signature: "ClassVar[str]"
    reply_signature: "ClassVar[str]" = "u"
    uninhibit_method: "ClassVar[str]" = "UnInhibit"
    auto_start: "ClassVar[bool]" = False
    """Whether the bus may start the service to answer (the portal is started on demand)."""

    _cookie: "Any" = None
    _uninhibit: "Prepared | None" = None  # the UnInhibit of the inhibit held, built ahead
    _path: "str | None" = None
    _owner: "str | None" = None  # the unique name that granted the inhibit held now
    _wanted: "tuple[Mode, str] | None" = None  # what to re-acquire with
    _service_owner = ""  # who owns the service's name, as last heard
    _known_path: "str | None" = None  # the path that granted last
    _delay = FIRST_RETRY
    _said_lost = False  # since the last hold: the loss is said once, not at every retry

    def inhibit_args(self, mode: "Mode", reason: str) -> "tuple[Any, ...]":
        raise NotImplementedError

    def uninhibit_call(
        self, cookie: "Any", path: str, owner: str
    ) -> "tuple[Any, str, str | None, tuple[Any, ...]]":
        """The call that gives back the inhibit ``cookie`` granted at ``path`` by ``owner``
        (the process itself, not whoever owns the name by then): its address, method,
        signature and arguments."""
        from jeepney import DBusAddress

        return DBusAddress(path, owner, self.interface), self.uninhibit_method, "u", (cookie,)

    @classmethod
    def inhibitors(cls, ask: "Any") -> "tuple[str, list[str]]":
        """A service that cannot list its inhibitors: whether it runs."""
        bus = "org.freedesktop.DBus"
        try:
            (running,) = ask.call(
                cls.bus, bus, "/org/freedesktop/DBus", bus, "NameHasOwner", "b", cls.service
            )
        except MechanismError as err:
            return str(err), []
        return ("running; it cannot list its inhibitors" if running else "not running"), []

    def probe(self) -> "str | None":
        from ..bindings.dbus import name_has_owner

        try:
            if name_has_owner(self.resources.bus(self.bus), self.service):
                return None
        except MechanismError as err:
            return str(err)
        return f"{self.service} is not running on the {self.bus} bus"

    def __init__(self, resources: "Any") -> None:
        super().__init__(resources)
        self._unanswered: dict[int, str] = {}  # an Inhibit call's serial -> who was asked

    def acquire(self, mode: "Mode", reason: str) -> None:
        self.start_acquire(mode, reason)()

    def start_acquire(self, mode: "Mode", reason: str) -> "Callable[[], None]":
        """Send Inhibit at the first path, without waiting; the finish reads the answer
        (and tries the other paths, one by one, if that one is not there)."""
        # Watch the name first: a change between the grant and the watch would go unseen.
        self.resources.subscribe(self.bus, self.service, self._owner_changed)
        try:
            pending = self._ask_at(self.paths[0], mode, reason)
        except BaseException:
            self.resources.unsubscribe(self.bus, self.service, self._owner_changed)
            raise

        def finish() -> None:
            try:
                self._inhibit(mode, reason, pending)
            except BaseException:
                self.resources.unsubscribe(self.bus, self.service, self._owner_changed)
                raise
            self._wanted = (mode, reason)
            self._service_owner = self._owner or ""

        return finish

    # -- healing ----------------------------------------------------------------------

    def _owner_changed(self, owner: "str | None") -> None:
        """The service's name has a new owner ("": nobody; None: the bus connection broke)."""
        if self._wanted is None or (owner is not None and owner == self._owner):
            return
        if self._owner is not None:
            self._forget()
            if owner is None:
                self._lost("the bus connection broke")
            elif not owner:
                self._lost(f"{self.service} left the bus")
            else:
                self._lost(f"{self.service} restarted")
        self._service_owner = owner or ""
        self._delay = FIRST_RETRY
        self.resources.cancel(self.bus, self)
        if owner:
            self._ask()

    def _lost(self, why: str) -> None:
        if not self._said_lost:
            self._said_lost = True
            self.report("lost", why)

    def _ask(self, path: "str | None" = None) -> None:
        """Ask the service's owner of the moment for an inhibit, without waiting: the
        answer comes to :meth:`_answered`; no answer in time, to :meth:`_no_answer`."""
        from jeepney import DBusAddress, new_method_call

        owner = self._service_owner
        if self._wanted is None or self._owner is not None or not owner:
            return
        path = path or self._known_path or self.paths[0]
        message = new_method_call(
            DBusAddress(path, owner, self.interface),
            self.inhibit_method,
            self.inhibit_signature,
            self.inhibit_args(*self._wanted),
        )
        unanswered = self._unanswered
        if len(unanswered) >= MAX_UNANSWERED:
            unanswered.pop(next(iter(unanswered)))  # the oldest: its answer goes unread
        try:
            serial = self.resources.send(self.bus, message)
        except MechanismError:
            return  # the bus broke: its reconnection says who owns the name then
        unanswered[serial] = owner
        self.resources.expect(self.bus, serial, self._answer_to(serial, path))
        self.resources.later(self.bus, self, time.monotonic() + CALL_TIMEOUT, self._no_answer)

    def _answer_to(self, serial: int, path: str) -> "Callable[[Any], None]":
        return lambda reply: self._answered(reply, serial, path)

    def _no_answer(self) -> None:
        """An Inhibit call had no answer in time: say so, and ask again later (its answer,
        if it comes, still counts)."""
        if self._wanted is None or self._owner is not None or not self._service_owner:
            return
        self._lost(f"{self.service} did not answer {self.inhibit_method} in time")
        self._retry()

    def _retry(self) -> None:
        at = time.monotonic() + self._delay
        self._delay = min(self._delay * 2, LAST_HEAL_RETRY)
        self.resources.later(self.bus, self, at, self._ask)

    def _answered(self, reply: "Any", serial: int, path: str) -> None:
        """An answer to an Inhibit call that nobody waits for: keep the grant if it is
        the one wanted (nothing holds, and the service's owner of the moment granted it),
        else give it back."""
        from jeepney import HeaderFields, MessageType

        asked = self._unanswered.pop(serial, None)
        if reply is None or asked is None:
            return  # the bus broke (its reconnection asks again), or given up on
        if reply.header.message_type == MessageType.error:
            error = reply.header.fields.get(HeaderFields.error_name, "an unknown error")
            if error in NOT_HERE and path in self.paths[:-1]:
                self._ask(self.paths[self.paths.index(path) + 1])
            elif asked == self._service_owner and self._owner is None and self._wanted:
                self._lost(f"could not re-acquire: {self.service} answered with {error}")
                self._retry()
            return
        signature = reply.header.fields.get(HeaderFields.signature, "")
        if signature != self.reply_signature or len(reply.body) != 1:
            self.resources.taint(self.bus)  # if it was a grant, only closing gives it back
            return
        cookie = self.take(reply.body[0])
        granted_by = reply.header.fields.get(HeaderFields.sender, asked)
        if self._wanted and self._owner is None and asked and asked == self._service_owner:
            self._cookie, self._path, self._owner = cookie, path, asked
            self._known_path, self._delay, self._said_lost = path, FIRST_RETRY, False
            self._prepare_release()
            self.resources.cancel(self.bus, self)
            self.report("reacquired", None)
        else:
            self._undo(cookie, path, granted_by)  # one holds already, or none is wanted

    def _undo(self, cookie: "Any", path: str, owner: str) -> None:
        """Give back an inhibit granted late, without waiting for the answer."""
        from jeepney import MessageFlag, new_method_call

        message = new_method_call(*self.uninhibit_call(cookie, path, owner))
        message.header.flags |= MessageFlag.no_reply_expected
        self.resources.taint(self.bus)  # should it be refused, closing gives it back
        try:
            self.resources.bus(self.bus).send(message)
        except (OSError, MechanismError):
            pass  # the connection is gone, and the inhibit with it

    def _forget(self) -> None:
        """Forget an inhibit whose service has gone (it went with the service)."""
        self._cookie = self._path = self._owner = self._uninhibit = None

    def _prepare_release(self) -> None:
        """Build the UnInhibit of the inhibit just granted, while nothing waits for it."""
        if self._owner is None or self._path is None:
            return
        call = self.uninhibit_call(self._cookie, self._path, self._owner)
        try:
            connection = self.resources.bus(self.bus)
        except MechanismError:
            return  # made at release, if the connection is back by then
        self._uninhibit = Prepared(connection, *call)

    # -- the first acquisition and the release ----------------------------------------------

    def _ask_at(self, path: str, mode: "Mode", reason: str) -> "Pending":
        from jeepney import DBusAddress

        connection = self.resources.bus(self.bus)
        address = DBusAddress(path, self.service, self.interface)
        args = self.inhibit_args(mode, reason)
        method, signature = self.inhibit_method, self.inhibit_signature
        return Pending(Prepared(connection, address, method, signature, args, self.auto_start))

    def _inhibit(self, mode: "Mode", reason: str, first: "Pending") -> None:
        """Read the answer to ``first`` (Inhibit at the first path); where that object or
        method is not there, ask at the next path, and so on."""
        from jeepney import HeaderFields

        pending: Pending | None = first
        for path in self.paths:
            if pending is None:
                pending = self._ask_at(path, mode, reason)
            try:
                reply = pending.reply()
            except CallError as err:
                if err.error_name in NOT_HERE:
                    pending = None
                    continue
                raise
            except NoAnswer as err:
                # Not held; should the grant come after all, it is given back at once.
                self._unanswered[err.serial] = ""
                self.resources.expect(self.bus, err.serial, self._answer_to(err.serial, path))
                raise
            owner = reply.header.fields.get(HeaderFields.sender)
            signature = reply.header.fields.get(HeaderFields.signature, "")
            if signature != self.reply_signature or len(reply.body) != 1:
                self.resources.taint(self.bus)  # if it was a grant, only closing gives it back
                raise MechanismError(
                    f"{self.service} answered {self.inhibit_method} with a reply of type "
                    f"{signature!r}, not {self.reply_signature!r}"
                )
            self._cookie, self._path, self._owner = self.take(reply.body[0]), path, owner
            self._known_path = path
            try:
                self.confirm()
            except MechanismError:
                self._forget()
                raise
            self._prepare_release()
            return
        paths = " or ".join(self.paths)
        raise MechanismError(
            f"{self.service} has no {self.interface}.{self.inhibit_method} at {paths}"
        )

    def confirm(self) -> None:
        """After the first grant: raise MechanismError if the service then says that
        nothing is held after all (the portal's Response). Nothing to wait for, by default."""

    def take(self, value: "Any") -> "Any":
        """What to keep from Inhibit's reply until release: by default, the cookie."""
        return value

    def release(self) -> None:
        finish = self.start_release()
        if finish is not None:
            finish()

    def start_release(self) -> "Callable[[], None] | None":
        """Send UnInhibit to the process that granted the inhibit; the finish reads its
        answer, within :data:`~cocainate.bindings.dbus.RELEASE_TIMEOUT` of the sending."""
        self._wanted = None
        self.resources.cancel(self.bus, self)
        cookie, path, owner, prepared = self._cookie, self._path, self._owner, self._uninhibit
        self._forget()
        if owner is None or path is None:
            return None
        self.resources.unsubscribe(self.bus, self.service, self._owner_changed)
        try:
            connection = self.resources.bus(self.bus)
            if prepared is None or prepared.connection is not connection:  # made again since
                prepared = Prepared(connection, *self.uninhibit_call(cookie, path, owner))
            pending = Pending(prepared, RELEASE_TIMEOUT, self.service)
        except MechanismError as err:
            self._release_failed(err)
            return None

        def finish() -> None:
            try:
                pending.reply()
            except MechanismError as err:
                self._release_failed(err)

        return finish

    def _release_failed(self, err: "MechanismError") -> None:
        if isinstance(err, CallError) and err.error_name in NO_OWNER:
            return  # gone: and our inhibit with it
        # Closing the connection, next, drops the inhibit on every real daemon.
        self.resources.taint(self.bus)
        self.problems.append(f"{self.name}: release failed: {err}")

    def abandon(self) -> None:
        self._wanted = None
        self._forget()
