"""The command line: a thin layer over :class:`cocainate.Session`."""

from __future__ import annotations

import os
import sys
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TextIO

from . import __version__, mechanisms
from .duration import format_duration, parse_duration, parse_until
from .errors import CocainateError, MechanismError, NoMechanismError, UsageError
from .mechanisms import Mode
from .session import EndReason

if TYPE_CHECKING:
    from argparse import Namespace
    from collections.abc import Sequence

    from .events import Event
    from .mechanisms import Attempt
    from .session import Ended, Session

EXIT_OK = 0
"""The session ended as asked: duration, signal, process exit."""
EXIT_FAILURE = 1
"""An unexpected error (the message says which)."""
EXIT_USAGE = 2
"""Bad usage: an unknown option, a bad duration, PID, mode or method."""
EXIT_NO_MECHANISM = 3
"""Nothing could keep this machine awake; one line per mechanism says why."""
EXIT_LOST = 4
"""Every mechanism was lost while holding (a service or the bus went away) and none came
back within a few seconds."""
EXIT_INTERRUPTED = 130
"""Interrupted before the session began (Ctrl-C during start-up)."""

PROG = "cocainate"


def _write(stream: TextIO | None, text: str) -> None:
    if stream is None:  # Python gives None for a standard stream whose fd was closed
        return
    try:
        stream.write(text + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass  # stdout closed or a broken pipe must not stop a session from being released


def _error(text: str) -> None:
    """One line on stderr: what a user typed may hold newlines and escapes."""
    _write(sys.stderr, f"{PROG}: {_printable(text)}")


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # Only before a session handles signals, or after it let go: nothing is held.
        return EXIT_INTERRUPTED


_FLAGS = {
    "-q": "quiet",
    "--quiet": "quiet",
    "-v": "verbose",
    "--verbose": "verbose",
    "--json": "json",
}
_VALUED = {
    "-d": "duration",
    "--duration": "duration",
    "-p": "pid",
    "--pid": "pid",
    "--mode": "mode",
    "--reason": "reason",
    "--method": "method",
    "--until": "until",
}


def fast_parse(argv: Sequence[str]) -> SimpleNamespace | None:
    """Parse the common invocations without importing argparse, which costs a few
    milliseconds of start-up (argparse, gettext, locale, shutil); return None for anything
    else, every error included, and argparse (:mod:`cocainate._parser`) decides. A property
    test holds that whatever this returns, argparse returns too."""
    found: dict[str, Any] = {
        "duration": None,
        "pid": [],
        "quiet": False,
        "verbose": False,
        "json": False,
        "until": None,
        "mode": Mode.DISPLAY.value,
        "reason": None,
        "method": None,
        "command": None,
    }
    rest = iter(argv)
    for arg in rest:
        if arg in _FLAGS:
            found[_FLAGS[arg]] = True
            continue
        if arg.startswith("--") and "=" in arg:
            option, _, value = arg.partition("=")
        elif arg in _VALUED:
            option, value = arg, next(rest, "-")
            if value.startswith("-"):
                return None
        else:
            return None
        key = _VALUED.get(option)
        if key == "duration":
            try:
                found[key] = parse_duration(value)
            except UsageError:
                return None
        elif key == "pid":
            if not (value.isascii() and value.isdigit() and int(value) > 0):
                return None
            found[key].append(int(value))
        elif key == "mode":
            if value not in {m.value for m in Mode}:
                return None
            found[key] = value
        elif key == "method":
            found[key] = [*(found[key] or ()), value]
        elif key == "reason":
            found[key] = value
        elif key == "until":
            try:
                parse_until(value)
            except UsageError:
                return None
            found[key] = value
        else:
            return None
    if sum((found["quiet"], found["verbose"], found["json"])) > 1:
        return None
    return SimpleNamespace(**found)


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in argv:  # cocainate [options] -- COMMAND [ARGS...]
        split = argv.index("--")
        argv, command = argv[:split], argv[split + 1 :]
        if not command:
            _error("no command after '--' (see 'cocainate --help')")
            return EXIT_USAGE
    args: Namespace | SimpleNamespace | None = fast_parse(argv)
    if args is None:
        from ._parser import parse

        args = parse(argv)
    if args.command == "version":
        return _version(args.verbose)
    if args.command == "methods":
        return _methods()
    if args.command == "status":
        return _status()
    if command and args.command:
        _error(f"'{args.command}' takes no command after '--'")
        return EXIT_USAGE
    return _hold(args, command)


def _version(verbose: bool) -> int:
    _write(sys.stdout, f"{PROG} {__version__}")
    if verbose:
        import platform

        _write(sys.stdout, f"Python {platform.python_version()} ({sys.executable})")
        _write(sys.stdout, f"Platform {platform.platform()}")
        usable = [name for name, _title, _modes, why in _probe_all() if why is None]
        _write(sys.stdout, f"Mechanisms usable here: {', '.join(usable) or 'none'}")
    return EXIT_OK


def _probe_all() -> list[tuple[str, str, str, str | None]]:
    """(name, title, modes, None or why not) for every mechanism of this platform."""
    from ._resources import Resources

    resources = Resources()
    rows: list[tuple[str, str, str, str | None]] = []
    try:
        for entry in mechanisms.entries():
            try:
                cls = entry.load()
            except MechanismError as err:
                rows.append((entry.name, entry.name, "-", str(err)))
                continue
            modes = ",".join(mode.value for mode in cls.blocks)
            rows.append((cls.name, cls.title, modes, cls(resources).probe()))
    finally:
        resources.close()
    return rows


def _status() -> int:
    if mechanisms.platform_key() != "linux":
        _write(sys.stdout, f"status lists D-Bus services' inhibitors; {sys.platform} has none")
        return EXIT_OK
    from ._status import report

    for line in report():
        _write(sys.stdout, line)
    return EXIT_OK


def _methods() -> int:
    rows = _probe_all()
    if not rows:
        _write(sys.stdout, f"no mechanism is known on {sys.platform}")
        return EXIT_OK
    width = max(len(name) for name, *_ in rows)
    for name, title, modes, why in rows:
        state = "usable" if why is None else f"not usable: {why}"
        _write(sys.stdout, f"{name:<{width}}  {title} [{modes}]  {state}")
    return EXIT_OK


def _hold(args: Namespace | SimpleNamespace, command: list[str]) -> int:
    from .session import Session, screen_blocked

    human = not (args.quiet or args.json)
    tomorrow = False
    try:
        until = None
        if args.until is not None:
            until, tomorrow = parse_until(args.until)
        session = Session(
            duration=args.duration / 1e9 if args.duration else None,
            pids=args.pid,
            until=until,
            reason=args.reason,
            mode=args.mode,
            methods=args.method,
            handle_signals=not command,  # with a command, signals go to the command
            on_event=_json_event if args.json else _say_event,
        )
        started = time.monotonic()
        session.start()
    except UsageError as err:
        _error(str(err))
        return EXIT_USAGE
    except NoMechanismError as err:
        first, *rest = str(err).split("\n")  # a line per mechanism tried, with its reason
        _error(first)
        for line in rest:
            _write(sys.stderr, _printable(line))
        return EXIT_NO_MECHANISM
    except CocainateError as err:
        _error(str(err))
        return EXIT_FAILURE
    child = keys = None
    status = EXIT_OK
    try:
        if command:
            from ._command import Command, CommandError

            try:
                child = Command(command)
            except CommandError as err:
                _error(str(err))
                return err.status
            session.add_pid(child.pid)
        if args.verbose:
            _report(session.attempts)
        if session.mode is Mode.DISPLAY and not screen_blocked(session.attempts):
            _error("warning: nothing held keeps the screen on; only sleep is blocked")
        if human and session.active:
            _write(sys.stdout, _announce(session, tomorrow, command))
        from ._terminal import interactive

        live = human and interactive()
        if live and not command:
            from ._terminal import Keys

            keys = Keys(session)
            session.watch(keys)
        ended = _wait(session, live, started, _until_text(session, tomorrow))
    finally:
        if keys is not None:
            keys.close()
        session.stop()
        if child is not None:
            status = child.finish()
    for problem in session.problems:
        _error(problem)
    if human:
        elapsed = format_duration(time.monotonic() - started)
        _write(sys.stdout, f"{PROG}: released after {elapsed} ({ended})")
    if ended is not None and ended.reason is EndReason.LOST:
        _error("nothing holds any more: every mechanism was lost and none came back")
        return status or EXIT_LOST
    return status


def _until_text(session: Session, tomorrow: bool) -> str:
    if session.until is None:
        return ""
    at = time.strftime("%H:%M:%S", time.localtime(session.until))
    return f"{at}{' tomorrow' if tomorrow else ''}"


def _json_event(event: Event) -> None:
    import json

    _write(sys.stdout, json.dumps(event.as_dict()))


def _say_event(event: Event) -> None:
    """A mechanism lost or regained while holding: always worth a line on stderr."""
    if event.kind == "lost":
        _error(f"lost {event.mechanisms[0]}: {event.error or 'no reason given'}")
    elif event.kind == "reacquired":
        _error(f"re-acquired {event.mechanisms[0]}")


def _wait(session: Session, live: bool, started: float, until: str) -> Ended | None:
    """Wait for the end; at a terminal with a time limit, redraw the progress line each
    second meanwhile. Otherwise nothing wakes the process until the session ends."""
    if not live or session.remaining is None:
        return session.wait()
    from ._terminal import Line, progress_line

    line = Line(sys.stdout)
    total = session.remaining
    try:
        while True:
            line.draw(progress_line(session, time.monotonic() - started, total, until))
            ended = session.wait(timeout=1.0)
            if ended is not None:
                return ended
    finally:
        line.clear()


def _report(attempts: Sequence[Attempt]) -> None:
    for attempt in attempts:
        if attempt.held:
            what = " and ".join(sorted(b.value for b in attempt.blocks))
            _write(sys.stderr, f"{PROG}: {attempt.name} [{attempt.title}]: held, blocks {what}")
        else:
            _write(
                sys.stderr, f"{PROG}: {attempt.name} [{attempt.title}]: not held: {attempt.error}"
            )


def _announce(session: Session, tomorrow: bool, command: list[str]) -> str:
    held = ", ".join(a.name for a in session.held)
    until = []
    if command:
        until.append(f"{command[0]} exits")
    if session.duration is not None:
        until.append(f"{format_duration(session.duration)} pass")
    if session.until is not None:
        until.append(_until_text(session, tomorrow))
    pids = session.pids[:-1] if command else session.pids
    if len(pids) == 1:
        until.append(f"process {pids[0]} exits")
    elif pids:
        until.append(f"processes {', '.join(str(p) for p in pids)} exit")
    until.append("Ctrl-C")
    what = session.mode.value
    return (
        f"{PROG}: keeping the {what} awake ({held}) until {' or '.join(until)} [pid {os.getpid()}]"
    )
