"""The command line: a thin layer over :class:`cocainate.Session`."""

from __future__ import annotations

import os
import sys
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TextIO

from . import __version__, mechanisms
from .duration import format_duration, parse_duration
from .errors import CocainateError, MechanismError, NoMechanismError, UsageError
from .mechanisms import Mode

if TYPE_CHECKING:
    from argparse import Namespace
    from collections.abc import Sequence

    from .mechanisms import Attempt
    from .session import Session

EXIT_OK = 0
"""The session ended as asked: duration, signal, process exit."""
EXIT_FAILURE = 1
"""An unexpected error (the message says which)."""
EXIT_USAGE = 2
"""Bad usage: an unknown option, a bad duration, PID, mode or method."""
EXIT_NO_MECHANISM = 3
"""Nothing could keep this machine awake; one line per mechanism says why."""
EXIT_INTERRUPTED = 130
"""Interrupted before the session began (Ctrl-C during start-up)."""

PROG = "cocainate"


def _write(stream: TextIO, text: str) -> None:
    try:
        stream.write(text + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass  # stdout closed or a broken pipe must not stop a session from being released


def _error(text: str) -> None:
    _write(sys.stderr, f"{PROG}: {text}")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # Only before a session handles signals, or after it let go: nothing is held.
        return EXIT_INTERRUPTED


_FLAGS = {"-q": "quiet", "--quiet": "quiet", "-v": "verbose", "--verbose": "verbose"}
_VALUED = {
    "-d": "duration",
    "--duration": "duration",
    "-p": "pid",
    "--pid": "pid",
    "--mode": "mode",
    "--reason": "reason",
    "--method": "method",
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
        else:
            return None
    if found["quiet"] and found["verbose"]:
        return None
    return SimpleNamespace(**found)


def _main(argv: Sequence[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args: Namespace | SimpleNamespace | None = fast_parse(argv)
    if args is None:
        from ._parser import parse

        args = parse(argv)
    if args.command == "version":
        return _version(args.verbose)
    if args.command == "methods":
        return _methods()
    return _hold(args)


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


def _hold(args: Namespace | SimpleNamespace) -> int:
    from .session import Session, screen_blocked

    out = None if args.quiet else sys.stdout
    try:
        session = Session(
            duration=args.duration / 1e9 if args.duration else None,
            pids=args.pid,
            reason=args.reason,
            mode=args.mode,
            methods=args.method,
            handle_signals=True,
        )
        started = time.monotonic()
        session.start()
    except UsageError as err:
        _error(str(err))
        return EXIT_USAGE
    except NoMechanismError as err:
        _error(str(err))  # a line per mechanism tried, with its reason
        return EXIT_NO_MECHANISM
    except CocainateError as err:
        _error(str(err))
        return EXIT_FAILURE
    try:
        if args.verbose:
            _report(session.attempts)
        if session.mode is Mode.DISPLAY and not screen_blocked(session.attempts):
            _error("warning: nothing held keeps the screen on; only sleep is blocked")
        if out is not None and session.active:
            _write(out, _announce(session))
        ended = session.wait()
    finally:
        session.stop()
    for problem in session.problems:
        _error(problem)
    if out is not None:
        elapsed = format_duration(time.monotonic() - started)
        _write(out, f"{PROG}: released after {elapsed} ({ended})")
    return EXIT_OK


def _report(attempts: Sequence[Attempt]) -> None:
    for attempt in attempts:
        if attempt.held:
            what = " and ".join(sorted(b.value for b in attempt.blocks))
            _write(sys.stderr, f"{PROG}: {attempt.name} [{attempt.title}]: held, blocks {what}")
        else:
            _write(
                sys.stderr, f"{PROG}: {attempt.name} [{attempt.title}]: not held: {attempt.error}"
            )


def _announce(session: Session) -> str:
    held = ", ".join(a.name for a in session.held)
    until = []
    if session.duration is not None:
        until.append(f"{format_duration(session.duration)} pass")
    if len(session.pids) == 1:
        until.append(f"process {session.pids[0]} exits")
    elif session.pids:
        until.append(f"processes {', '.join(str(p) for p in session.pids)} exit")
    until.append("Ctrl-C")
    what = session.mode.value
    return (
        f"{PROG}: keeping the {what} awake ({held}) until {' or '.join(until)} [pid {os.getpid()}]"
    )
