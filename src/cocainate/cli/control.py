"""The commands that control running sessions from outside them: ``toggle``, ``on``,
``off``, ``pause``, ``resume``, ``extend``, ``stop``, and ``status --json`` / ``--follow``.

Each finds this user's sessions on the session bus (:func:`cocainate.find_sessions`) and
calls them; every call is bounded. Each is idempotent: ``off`` when nothing holds, or
``resume`` of a session not paused, changes nothing and says so.
"""

import time
from typing import TYPE_CHECKING, Any

from ..errors import CocainateError
from .options import EXIT_FAILURE, EXIT_NOT_RUNNING, EXIT_OK, EXIT_USAGE, PROG
from .say import err, error, out, printable

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..core.remote import RemoteSession
    from ..core.session import Session

OWN_END = ("hold", "detached")
"""The kinds whose end ``on -d``/``--until`` and ``extend`` change: holds a person started.
A watch (a service) and a hold around a command keep theirs unless named by PID."""


def control(args: "Any", hold: "Callable[[Any, list[str]], int]") -> int:
    """Carry out the command ``args`` names; ``hold(args, [])`` holds as the command line
    does (for ``on`` with nothing running)."""
    from ..core.remote import find_sessions

    if args.command == "status":
        from .follow import follow, show

        return follow(args.json) if args.follow else show(args.json, find_sessions())
    sessions = find_sessions()
    say = _Say(args.quiet)
    try:
        if args.command == "toggle":
            if any(not s.paused for s in sessions):
                return _off(sessions, say)
            return _on(args, sessions, say, hold)
        if args.command == "on":
            return _on(args, sessions, say, hold)
        if args.command == "off":
            return _off(sessions, say)
        if not sessions:
            error("no cocainate session is running")
            return EXIT_NOT_RUNNING
        if args.command in ("pause", "resume"):
            return _pause(sessions, args.command == "pause", say)
        if args.command == "extend":
            return _extend(args, sessions, say)
        return _stop(args, sessions, say)
    except CocainateError as problem:
        error(str(problem).splitlines()[0])
        return EXIT_FAILURE


class _Say:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, text: str) -> None:
        if not self.quiet:
            out(printable(f"{PROG}: {text}"))


def describe(session: "RemoteSession") -> str:
    """A session in a few words: "pid 4242 (hold)"."""
    return f"pid {session.pid} ({session.kind})"


def _on(
    args: "Any",
    sessions: "list[RemoteSession]",
    say: "_Say",
    hold: "Callable[[Any, list[str]], int]",
) -> int:
    if not sessions:  # a hold of these options (the parser gave every one), detached
        from types import SimpleNamespace

        return hold(SimpleNamespace(**dict(vars(args), command=None, detach=True)), [])
    new_end = _new_end(args)
    for session in sessions:
        if new_end is not None and session.kind in OWN_END:
            session.end_at(new_end)
            say(f"{describe(session)} now ends at {_clock(new_end)}")
        if session.paused:
            session.resume()
            say(f"resumed {describe(session)}")
    if new_end is None and not any(s.paused for s in sessions):
        say("already on: " + "; ".join(describe(s) for s in sessions))
    return EXIT_OK


def _off(sessions: "list[RemoteSession]", say: "_Say") -> int:
    acted = False
    for session in sessions:
        if session.kind == "detached":
            session.stop()
            say(f"stopped {describe(session)}")
            acted = True
        elif not session.paused:
            session.pause()
            say(f"paused {describe(session)}")
            acted = True
    if not acted:
        say("nothing was holding")
    return EXIT_OK


def _pause(sessions: "list[RemoteSession]", pause: bool, say: "_Say") -> int:
    for session in sessions:
        if session.paused == pause:
            say(f"{describe(session)} was {'paused' if pause else 'not paused'} already")
            continue
        (session.pause if pause else session.resume)()
        say(f"{'paused' if pause else 'resumed'} {describe(session)}")
    return EXIT_OK


def _extend(args: "Any", sessions: "list[RemoteSession]", say: "_Say") -> int:
    if (args.by is None) == (args.until is None):
        error(
            "extend takes a DURATION or --until TIME: one of them (see 'cocainate extend --help')"
        )
        return EXIT_USAGE
    targets = [s for s in sessions if s.kind in OWN_END]
    if args.by is not None:
        targets = [s for s in targets if s.until is not None]
        if not targets:
            error("no running hold has an end to extend (give one a new end with --until)")
            return EXIT_NOT_RUNNING
    elif not targets:
        error("no running hold to give a new end (a watch or a command's hold keeps its own)")
        return EXIT_NOT_RUNNING
    new_end = _new_end(args)
    for session in targets:
        if new_end is None:
            session.extend(args.by)
        else:
            session.end_at(new_end)
    for session in _refreshed(targets):
        assert session.until is not None
        say(f"{describe(session)} now ends at {_clock(session.until)}")
    return EXIT_OK


def _stop(args: "Any", sessions: "list[RemoteSession]", say: "_Say") -> int:
    if args.target is not None:
        chosen = [s for s in sessions if s.pid == args.target]
        if not chosen:
            error(f"no cocainate session runs in process {args.target}")
            return EXIT_NOT_RUNNING
    elif args.all or len(sessions) == 1:
        chosen = sessions
    else:
        pids = ", ".join(str(s.pid) for s in sessions)
        error(f"{len(sessions)} sessions are running (pids {pids}): name one, or --all")
        return EXIT_USAGE
    status = EXIT_OK
    for session in chosen:
        if session.stop():
            say(f"stopped {describe(session)}")
        else:
            error(f"{describe(session)} did not let go in time")
            status = EXIT_FAILURE
    return status


def _new_end(args: "Any") -> "float | None":
    """The wall-clock end that -d or --until asks for, if either."""
    if getattr(args, "until", None) is not None:
        from ..duration import parse_until

        return parse_until(args.until)
    duration = getattr(args, "duration", None)
    return None if duration is None else time.time() + duration


def _refreshed(sessions: "list[RemoteSession]") -> "list[RemoteSession]":
    from ..core.remote import find_sessions

    names = {s.name for s in sessions}
    return [s for s in find_sessions() if s.name in names and s.until is not None]


def _clock(at: float) -> str:
    from ..duration import until_text  # as a hold says its end

    return until_text(at)


def publish(session: "Session", args: "Any", command: "list[str]", detached: bool) -> None:
    """Make the hold reachable on the session bus (``cocainate status``, ``stop``,
    ``toggle``...), if there is one: after the hold is in place, so start-up is not
    slowed."""
    if not session.active:
        return
    kind = "watch" if args.command == "watch" else "command" if command else "hold"
    try:
        session.publish("detached" if detached else kind)
    except (CocainateError, OSError, ImportError) as problem:  # no bus, or no jeepney
        if args.verbose:
            err(printable(f"{PROG}: not reachable for 'cocainate stop' and the like: {problem}"))
