"""The command line: a thin layer over :class:`cocainate.Session`."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING, NoReturn, TextIO

from . import __version__, mechanisms
from .duration import format_duration, parse_duration
from .errors import CocainateError, MechanismError, NoMechanismError, UsageError
from .mechanisms import Mode

if TYPE_CHECKING:
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


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        _error(f"{message} (see '{self.prog} --help')")
        sys.exit(EXIT_USAGE)


def _duration(text: str) -> int:
    try:
        return parse_duration(text)
    except UsageError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _pid(text: str) -> int:
    try:
        pid = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid PID {text!r}: not a number") from None
    if pid <= 0:
        raise argparse.ArgumentTypeError(f"invalid PID {text!r}: it must be positive")
    return pid


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Keep the screen (or only the system) awake until a duration passes, "
        "processes exit, or you press Ctrl-C; then let go.",
        epilog="Exit status: 0 when the session ended as asked (duration, process exit, "
        "signal), 2 on bad usage, 3 when no mechanism could be acquired, 1 on other errors.",
    )
    parser.add_argument(
        "-d",
        "--duration",
        type=_duration,
        metavar="DURATION",
        help="end after DURATION, in Go syntax: 300ms, 1.5h, 1h10m10s (0: no limit)",
    )
    parser.add_argument(
        "-p",
        "--pid",
        type=_pid,
        action="append",
        default=[],
        metavar="PID",
        help="end when process PID exits; repeat to wait until all of them have exited",
    )
    talk = parser.add_mutually_exclusive_group()
    talk.add_argument("-q", "--quiet", action="store_true", help="print nothing on stdout")
    talk.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="say on stderr which mechanisms were tried, which hold, and why others could not",
    )
    parser.add_argument(
        "--mode",
        choices=[m.value for m in Mode],
        default=Mode.DISPLAY.value,
        help="display: the screen stays on (default); system: only the system stays awake",
    )
    parser.add_argument("--reason", metavar="TEXT", help="the reason given to the services")
    parser.add_argument(
        "--method",
        action="append",
        metavar="NAME",
        help="use only this mechanism (repeatable); see 'cocainate methods'",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    version = commands.add_parser("version", help="print the version")
    version.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also print Python, the platform and the mechanisms usable here",
    )
    commands.add_parser(
        "methods", help="list this platform's mechanisms and whether each can be used here"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # Only before a session handles signals, or after it let go: nothing is held.
        return EXIT_INTERRUPTED


def _attach_values(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[str]:
    """Let ``-d -5s`` and ``-p -4`` reach our validators, which name the problem, instead of
    argparse's "expected one argument"."""
    out: list[str] = []
    rest = iter(argv)
    for arg in rest:
        if arg in _TAKES_VALUE:
            value = next(rest, None)
            if value is None:
                out.append(arg)
            elif value.startswith("-") and value not in parser._option_string_actions:
                out.append(f"{arg}={value}")
            else:
                out += [arg, value]
        else:
            out.append(arg)
    return out


_TAKES_VALUE = ("-d", "--duration", "-p", "--pid")


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(_attach_values(parser, sys.argv[1:] if argv is None else argv))
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


def _hold(args: argparse.Namespace) -> int:
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
