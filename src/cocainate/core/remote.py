"""Other processes' sessions, as this user's session bus shows them
(:meth:`Session.publish`): :func:`find_sessions` lists them, and each
:class:`RemoteSession` pauses, resumes, toggles, extends or stops its own. Every call is
bounded; a connection is opened for each and closed after it."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import MechanismError, SessionError

if TYPE_CHECKING:
    from datetime import datetime

    from .arguments import DurationLike

TIMEOUT = 2.0
"""Seconds a session has to answer a call."""
STOP_WAIT = 12.0
"""Seconds :meth:`RemoteSession.stop` waits for the session to let go (its release is
bounded by 10 s, and takes milliseconds)."""


@dataclass(frozen=True)
class RemoteSession:
    """A running session of this user's, as it was when it was found."""

    name: str
    """Its name on the session bus."""
    pid: int
    kind: str
    """What it is: "hold", "watch", "command", "detached" (the command line's), "program"."""
    state: str
    paused: bool
    holding: "tuple[str, ...]"
    mode: str
    reason: str
    why: str
    """What its conditions say now ("" without conditions)."""
    since: float
    """When it started (a timestamp)."""
    until: "float | None"
    """When it ends (a timestamp), or None without an end."""
    conditions: "tuple[tuple[str, bool, bool, str], ...]"
    """Each condition as ``(what, met, on, why)``."""

    @classmethod
    def of(cls, name: str, props: "dict[str, Any]") -> "RemoteSession":
        return cls(
            name=name,
            pid=int(props.get("Pid", 0)),
            kind=str(props.get("Kind", "")),
            state=str(props.get("State", "")),
            paused=bool(props.get("Paused", False)),
            holding=tuple(props.get("Holding", ())),
            mode=str(props.get("Mode", "")),
            reason=str(props.get("Reason", "")),
            why=str(props.get("Why", "")),
            since=float(props.get("Since", 0.0)),
            until=float(props.get("Until", 0.0)) or None,
            conditions=tuple(tuple(c) for c in props.get("Conditions", ())),
        )

    def as_dict(self) -> "dict[str, Any]":
        """What ``cocainate status --json`` says of it."""
        return {
            "pid": self.pid,
            "kind": self.kind,
            "state": "paused" if self.paused else self.state,
            "holding": list(self.holding),
            "mode": self.mode,
            "reason": self.reason,
            "why": self.why,
            "since": round(self.since, 3),
            "until": None if self.until is None else round(self.until, 3),
            "conditions": [
                {"condition": what, "met": met, "on": on, "why": why}
                for what, met, on, why in self.conditions
            ],
        }

    # -- what it can be asked -----------------------------------------------------------

    def pause(self) -> None:
        """Let go until :meth:`resume`; its conditions are still followed."""
        self._call("Pause")

    def resume(self) -> None:
        self._call("Resume")

    def toggle(self) -> bool:
        """Pause or resume it; whether it is paused now."""
        return bool(self._call("Toggle")[0])

    def extend(self, duration: "DurationLike") -> None:
        """Make it end ``duration`` later (a :class:`SessionError` if it has no end)."""
        from .arguments import seconds

        by = seconds(duration)
        self._call("Extend", (by or 0.0,))

    def end_at(self, until: "datetime | float | None") -> None:
        """Make it end at ``until`` (None: no end)."""
        from .arguments import timestamp

        self._call("EndAt", (timestamp(until) or 0.0,))

    def stop(self, wait: float = STOP_WAIT) -> bool:
        """End it, and wait up to ``wait`` seconds for it to have let go (its name leaves
        the bus once everything is released); whether it has."""
        from ..bindings import control, dbus

        connection = _connect()
        try:
            from jeepney import HeaderFields, message_bus

            connection.send(message_bus.AddMatch(dbus.owner_changes(self.name)))
            owner = dbus.name_owner(connection, self.name)
            if not owner:
                return True  # gone already
            try:
                control.command(connection, self.name, "Stop", timeout=TIMEOUT)
            except dbus.CallError as err:
                if not dbus.name_owner(connection, self.name):
                    return True  # it ended meanwhile
                raise SessionError(f"pid {self.pid}: {err}") from None
            gone = dbus.wait_for(
                connection,
                lambda m: (
                    m.header.fields.get(HeaderFields.member) == "NameOwnerChanged"
                    and m.body[0] == self.name
                    and not m.body[2]
                ),
                wait,
            )
            return gone is not None or not dbus.name_owner(connection, self.name)
        finally:
            dbus.close_quietly(connection)

    def _call(self, member: str, body: "tuple[Any, ...]" = ()) -> "tuple[Any, ...]":
        from ..bindings import control, dbus

        connection = _connect()
        try:
            return control.command(connection, self.name, member, body, TIMEOUT)
        except dbus.CallError as err:
            if err.error_name in dbus.NO_OWNER:
                raise SessionError(f"the session of pid {self.pid} has ended") from None
            raise SessionError(f"pid {self.pid}: {_text(err)}") from None
        except MechanismError as err:
            raise SessionError(f"pid {self.pid}: {err}") from None
        finally:
            dbus.close_quietly(connection)


def _text(err: "Exception") -> str:
    """What a session said when it refused, without the call's address."""
    text = str(err)
    return text.split(": ", 1)[1] if ": " in text else text


def _connect() -> "Any":
    from ..bindings import dbus

    try:
        return dbus.connect("session")
    except MechanismError as err:
        raise SessionError(f"no session bus to find sessions on: {err}") from None


def find_sessions(timeout: float = TIMEOUT) -> "list[RemoteSession]":
    """This user's running sessions that are published on the session bus (every
    ``cocainate`` hold and watch), oldest process first; none without a session bus."""
    from ..bindings import control, dbus
    from .arguments import timeout as checked

    timeout = checked(timeout)
    try:
        connection = dbus.connect("session")
    except MechanismError:
        return []
    try:
        names = control.names(connection)
        found = control.read_all(connection, names, timeout)
    except MechanismError:
        return []
    finally:
        dbus.close_quietly(connection)
    return [RemoteSession.of(name, found[name]) for name in names if name in found]
