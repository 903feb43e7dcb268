"""What the command line says, on stdout and stderr, without ever blocking on them; and
what a hold says (its start line, its events, its failures).

Both streams go through :class:`~cocainate.bindings.output.Output`: a reader that does not
read never holds up the session; the session's reactor sends what is pending when the
stream turns writable, and at exit a slow reader gets :data:`DRAIN_SECONDS` to catch up.
"""

import os
import sys
from typing import TYPE_CHECKING, Any

from .options import PROG

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ..bindings.output import Output
    from ..core.events import Event
    from ..core.session import Session
    from ..mechanisms import Attempt

DRAIN_SECONDS = 1.0
_streams: "dict[str, Output]" = {}


def stream(name: str) -> "Output":
    """The non-blocking writer of ``"stdout"`` or ``"stderr"``, made on first use."""
    found = _streams.get(name)
    current = getattr(sys, name)
    if found is None or found.stream is not current:
        from ..bindings.output import Output

        if found is not None:
            found.close()
        found = _streams[name] = Output(current)
    return found


live: "Any" = None
"""The progress line drawn at the terminal now (:class:`~cocainate.cli.terminal.Line`), if
any: cleared before any other line is written, and drawn again at the next redraw."""


def out(text: str) -> None:
    if live is not None:
        live.clear()
    stream("stdout").write(text + "\n")


def err(text: str) -> None:
    if live is not None:
        live.clear()
    stream("stderr").write(text + "\n")


def error(text: str) -> None:
    """One line on stderr: what a user typed, or a service said, may hold newlines and
    escapes, which are shown, not obeyed."""
    err(f"{PROG}: {printable(text)}")


LONGEST = 300
"""Characters of a message from outside (a service's error, an address) shown at most."""


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters and escapes shown, not obeyed, and
    cut to :data:`LONGEST` characters."""
    if len(text) > LONGEST:
        text = text[:LONGEST] + f"... ({len(text) - LONGEST} more characters)"
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def finish() -> None:
    """At exit: give slow readers a moment, then close what was opened."""
    for output in _streams.values():
        output.drain(DRAIN_SECONDS)
        output.close()
    _streams.clear()


def table(header: "tuple[str, ...]", rows: "Sequence[tuple[str, ...]]") -> "list[str]":
    """Aligned columns, the header first; every cell made safe with :func:`printable`, and
    the last column left free to run on."""
    cells = [tuple(printable(str(c)) for c in row) for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header) - 1)]
    return [
        "  ".join([*(c.ljust(w) for c, w in zip(row, widths)), row[-1]]).rstrip() for row in cells
    ]


# -- what a hold says -------------------------------------------------------------------


def say_failure(problem: "Exception") -> None:
    # a line per mechanism tried, with its reason (which may hold newlines of its own)
    error(str(problem).split("\n", 1)[0])
    for attempt in getattr(problem, "attempts", ()):
        err(printable(f"  {attempt.name}: {attempt.error}"))


def until_text_of(session: "Session") -> str:
    if session.until is None:
        return ""
    from ..duration import until_text

    return until_text(session.until)


def json_dropped(count: int) -> str:
    import json
    import time

    dropped = {"event": "dropped", "time": round(time.time(), 6), "lines": count}
    return json.dumps(dropped) + "\n"


class Said:
    """What is said as the session goes: its events as JSON lines, or for a person."""

    def __init__(self, human: bool, say: "Callable[[str], None]") -> None:
        self.human = human
        self.say = say  # out, or err when a command owns stdout
        self.started = False  # the start line says what start did; events after it, here
        self.icon: Any = None  # --tray's icon, shown anew after each event

    def json(self, event: "Event") -> None:
        import json

        self.say(json.dumps(event.as_dict()))
        if self.icon is not None:
            self.icon.refresh()

    def event(self, event: "Event") -> None:
        self._event(event)
        if self.icon is not None:
            self.icon.refresh()

    def _event(self, event: "Event") -> None:
        if event.kind == "lost" and not event.mechanisms:  # a condition's source went
            error(event.error or "lost what a condition follows")
        elif event.kind == "lost":  # always worth a line on stderr
            error(f"lost {event.mechanisms[0]}: {event.error or 'no reason given'}")
        elif event.kind == "reacquired":
            error(f"re-acquired {event.mechanisms[0]}")
        elif not self.human or not self.started or event.condition is None:
            return
        elif event.kind == "acquired":
            held = ", ".join(event.mechanisms)
            self.say(printable(f"{PROG}: holding ({held}): {event.condition}"))
        elif event.kind == "released":
            self.say(printable(f"{PROG}: let go: {event.condition}"))


def report_attempts(attempts: "Sequence[Attempt]") -> None:
    for attempt in attempts:
        if attempt.held:
            what = " and ".join(sorted(b.value for b in attempt.blocks))
            err(printable(f"{PROG}: {attempt.name} [{attempt.title}]: held, blocks {what}"))
        else:
            err(printable(f"{PROG}: {attempt.name} [{attempt.title}]: not held: {attempt.error}"))


def announce(session: "Session", command: "list[str]") -> str:
    from ..duration import format_duration

    held = ", ".join(session.holding)
    until: list[str] = []
    if command:
        until.append(f"{command[0]} exits")
    if session.duration is not None:
        until.append(f"{format_duration(session.duration)} pass")
    if session.until is not None:
        until.append(until_text_of(session))
    pids = session.pids[:-1] if command else session.pids
    if len(pids) == 1:
        until.append(f"process {pids[0]} exits")
    elif pids:
        until.append(f"processes {', '.join(str(p) for p in pids)} exit")
    until.append("Ctrl-C")
    from ..mechanisms import screen_blocked

    what = session.mode.value
    if session.holding and not screen_blocked(session.acquired):
        what = "system"  # what holds keeps only the system awake (--method logind, say)
    if session.conditional:
        now = f"holding ({held})" if held else "waiting"
        return (
            f"{PROG}: keeping the {what} awake while {session.describe_conditions()}, "
            f"until {' or '.join(until)} [pid {os.getpid()}]; {now}: {session.conditions_now}"
        )
    return (
        f"{PROG}: keeping the {what} awake ({held}) until {' or '.join(until)} [pid {os.getpid()}]"
    )
