"""A watcher's bus: a :class:`~cocainate.bindings.buses.Link` of its own, which lives as
long as the session (the mechanisms' are opened for each hold and closed with it, which is
what makes every desktop drop an inhibit), with the signals the watcher listens to and
calls whose replies arrive as messages like any other, so nothing waits for a slow service.
"""

from typing import TYPE_CHECKING, Any, Callable

from ..bindings.buses import Link, ReplyCallback
from ..reactor import Source

if TYPE_CHECKING:
    from jeepney import MatchRule

FIRST_LOOK = 2.0
"""Seconds a service has, at start, to answer a watcher's first questions (it may have to
be started by the bus)."""


class BusWatch:
    """One link to the ``kind`` bus, with match ``rules``; ``on_signal(message)`` for each
    signal, ``on_connect()`` after each (re)connection, ``on_broken()`` when it breaks."""

    def __init__(
        self,
        kind: str,
        rules: "list[MatchRule]",
        on_signal: "Callable[[Any], None]",
        on_connect: "Callable[[], None]",
        on_broken: "Callable[[], None]",
    ) -> None:
        self.kind = kind
        self.link = link = Link(kind)
        for rule in rules:
            link.subscribe(rule, on_signal)
        link.on_connect.append(on_connect)
        link.on_broken.append(on_broken)
        self.source = _LinkSource(link)

    def connect(self) -> None:
        """Connect and subscribe (bounded); MechanismError saying why it cannot."""
        self.link.open()

    def call(
        self,
        address: "Any",
        method: str,
        signature: "str | None",
        body: "tuple[Any, ...]",
        on_reply: "ReplyCallback",
        auto_start: bool = False,
    ) -> None:
        """Send a call; ``on_reply`` gets its reply when it arrives (None if the connection
        is down or breaks first). Never waits."""
        if self.link.connection is not None:
            self.link.call(address, method, signature, body, on_reply, auto_start)

    def get(
        self,
        name: str,
        path: str,
        interface: str,
        prop: str,
        on_reply: "ReplyCallback",
        auto_start: bool = False,
    ) -> None:
        """:meth:`call` org.freedesktop.DBus.Properties.Get for ``prop`` of ``interface``
        on ``name``'s object at ``path``."""
        from jeepney import DBusAddress

        address = DBusAddress(path, name, "org.freedesktop.DBus.Properties")
        self.call(address, "Get", "ss", (interface, prop), on_reply, auto_start)

    def owner_of(self, name: str, then: "Callable[[str], None]") -> None:
        """Ask the bus who owns ``name``: ``then(unique_name)`` when it answers, nothing if
        nobody does. The bus answers in order with its signals: a change of owner after
        this answer comes after it, one before it is already in it."""
        from ..bindings.dbus import BUS

        def answer(reply: "Any") -> None:
            if reply is not None and error_name(reply) is None:
                then(str(reply.body[0]))

        self.call(BUS, "GetNameOwner", "s", (name,), answer)

    def first_look(
        self, what: str, service: str, known: "Callable[[], bool]", problem: "Callable[[], str]"
    ) -> "list[Source]":
        """Connect, and read until the first answers are in (at most :data:`FIRST_LOOK`
        seconds); the sources to watch, or ConditionError "cannot {what}: why" (``problem()``,
        else that ``service`` did not answer in time), the connection closed."""
        from ..errors import ConditionError, MechanismError

        try:
            self.connect()
        except MechanismError as err:
            raise ConditionError(f"cannot {what}: {err}") from err
        self.collect_replies(FIRST_LOOK)
        if not known():
            why = problem() or f"{service} did not answer within {FIRST_LOOK:g} s"
            self.close()
            raise ConditionError(f"cannot {what}: {why}")
        return [self.source]

    def collect_replies(self, timeout: float) -> None:
        """Read and handle messages until every call sent has its reply, at most
        ``timeout`` seconds: for the first look, at start."""
        self.link.collect_replies(timeout)

    def close(self) -> None:
        self.link.close()


class _LinkSource(Source):
    def __init__(self, link: "Link") -> None:
        self._link = link

    def waitable(self) -> "int | None":
        return self._link.fd()

    def when(self) -> "float | None":
        return self._link.due()

    def fire(self) -> bool:
        self._link.service()
        return True


def error_name(message: "Any") -> "str | None":
    """The D-Bus error a reply carries, or None for a method return."""
    from jeepney import HeaderFields, MessageType

    if message.header.message_type == MessageType.error:
        name: str = message.header.fields.get(HeaderFields.error_name, "an unknown error")
        return name
    return None


def sender(message: "Any") -> str:
    from jeepney import HeaderFields

    name: str = message.header.fields.get(HeaderFields.sender, "")
    return name
