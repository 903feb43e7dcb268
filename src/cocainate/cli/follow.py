"""``cocainate status``'s sessions, once (:func:`show`) or at each change (:func:`follow`:
the input of a Waybar, i3blocks or polybar custom module).

``--follow`` sleeps in one blocking read of the session bus, woken only by a session's
PropertiesChanged or a session's name coming or going; it then reads every session again
and prints a line (or a JSON object) if what it shows differs from the last one printed.
Nothing else wakes it.
"""

import sys
import time
from typing import TYPE_CHECKING, Any

from .options import EXIT_FAILURE, EXIT_OK

if TYPE_CHECKING:
    from ..core.remote import RemoteSession


def summary(sessions: "list[RemoteSession]") -> "dict[str, Any]":
    """The sessions as a status bar shows them: ``text``, ``alt`` and ``class`` ("holding",
    "waiting", "paused" or "off"), a ``tooltip`` of a line per session, and ``sessions``."""
    holding = [s for s in sessions if s.state == "holding" and not s.paused]
    waiting = [s for s in sessions if s.state == "waiting" and not s.paused]
    state = "holding" if holding else "waiting" if waiting else "paused" if sessions else "off"
    ends = [s.until for s in holding if s.until is not None]
    text = state + (f" until {clock(min(ends))}" if ends and len(ends) == len(holding) else "")
    lines = [_line(s) for s in sessions] or ["no cocainate session is running"]
    return {
        "text": text,
        "alt": state,
        "class": state,
        "tooltip": "\n".join(lines),
        "sessions": [s.as_dict() for s in sessions],
    }


def _line(session: "RemoteSession") -> str:
    state = "paused" if session.paused else session.state
    words = f"pid {session.pid} ({session.kind}): {state}"
    if session.holding and not session.paused:
        words += f" ({', '.join(session.holding)})"
    if session.until is not None:
        words += f" until {clock(session.until)}"
    if session.why:
        words += f": {session.why}"
    return words


def clock(at: float) -> str:
    """A wall-clock time as a status bar shows it: to the minute, and the date if not today
    (:func:`cocainate.duration.until_text` says it to the second, for a line)."""
    same_day = time.localtime(at)[:3] == time.localtime()[:3]
    return time.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M", time.localtime(at))


def render(sessions: "list[RemoteSession]", as_json: bool) -> str:
    found = summary(sessions)
    if as_json:
        import json

        return json.dumps(found, ensure_ascii=False, separators=(",", ":"))
    from .say import printable

    details = found["tooltip"].replace("\n", "; ") if sessions else ""
    return printable(found["text"] + (f": {details}" if details else ""))


def show(as_json: bool, sessions: "list[RemoteSession]") -> int:
    """``status``: with --json the sessions alone; else the services' inhibitors, then the
    sessions (if any run)."""
    from .say import out, printable

    if as_json:
        out(render(sessions, True))
        return EXIT_OK
    from .status import show_status

    status = show_status()
    if sessions:
        out("")
        out("cocainate sessions:")
        for session in sessions:
            out(printable(f"  {_line(session)}"))
    return status


def follow(as_json: bool) -> int:
    from jeepney import MatchRule, message_bus

    from ..bindings import control, dbus
    from ..core.remote import RemoteSession
    from ..errors import MechanismError
    from .say import error

    try:
        connection = dbus.connect("session")
    except MechanismError as err:
        error(str(err))
        return EXIT_FAILURE
    signals: list[Any] = []  # what came during the reads: read again, without sleeping
    connection.filter(MatchRule(type="signal"), queue=signals)
    last = None
    try:
        connection.send(message_bus.AddMatch(dbus.owner_changes(control.NAMESPACE, True)))
        connection.send(
            message_bus.AddMatch(dbus.property_changes(control.PATH, control.INTERFACE))
        )
        while True:
            signals.clear()
            names = control.names(connection)
            props = control.read_all(connection, names, dbus.SEND_TIMEOUT * 2)
            sessions = [RemoteSession.of(n, props[n]) for n in names if n in props]
            line = render(sessions, as_json)
            if line != last:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
                last = line
            if not signals:
                connection.receive()  # the one sleep: until a session changes, comes or goes
            for _message in dbus.arrived(connection):
                pass  # a burst is one change
    except BrokenPipeError:
        return EXIT_OK  # the bar that read us has gone
    except (MechanismError, OSError, EOFError, ValueError) as err:
        error(f"lost the session bus: {err}")
        return EXIT_FAILURE
    finally:
        dbus.close_quietly(connection)
