"""The argparse parser: help, errors, subcommands, and everything the fast path in
:func:`cocainate.cli.fast_parse` leaves to it. Imported only when needed."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, NoReturn

from .cli import EXIT_USAGE, PROG, _error
from .duration import parse_duration, parse_until
from .errors import UsageError
from .mechanisms import Mode

if TYPE_CHECKING:
    from collections.abc import Sequence


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, sized without shutil, which would cost a millisecond of start-up
    on every run (argparse builds a formatter in each add_argument)."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            try:
                width = int(os.environ["COLUMNS"])
            except (KeyError, ValueError):
                try:
                    width = os.get_terminal_size(
                        sys.__stdout__.fileno() if sys.__stdout__ else 1
                    ).columns
                except (AttributeError, ValueError, OSError):
                    width = 80
            width -= 2
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        _error(f"{message} (see '{self.prog} --help')")
        sys.exit(EXIT_USAGE)


def _duration(text: str) -> int:
    try:
        return parse_duration(text)
    except UsageError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _until(text: str) -> str:
    try:
        parse_until(text)
    except UsageError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def _pid(text: str) -> int:
    try:
        pid = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid PID {text!r}: not a number") from None
    if pid <= 0:
        raise argparse.ArgumentTypeError(f"invalid PID {text!r}: it must be positive")
    return pid


def build_parser() -> argparse.ArgumentParser:
    """The parser: the reference for help, completions and the man page."""
    parser = _Parser(
        prog=PROG,
        usage="%(prog)s [options] [-- COMMAND [ARG...]]\n       %(prog)s SUBCOMMAND ...",
        formatter_class=_Formatter,
        description="Keep the screen (or only the system) awake until a duration passes, "
        "processes exit, or you press Ctrl-C; then let go.",
        epilog="With '-- COMMAND', hold while COMMAND runs and exit with its status (128+N if "
        "signal N killed it). Exit status otherwise: 0 when the session ended as asked "
        "(duration, time, process exit, signal, q), 2 on bad usage, 3 when no mechanism "
        "could be acquired, 4 when every mechanism was lost while holding, 1 on other errors.",
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
    parser.add_argument(
        "--until",
        type=_until,
        metavar="TIME",
        help="end at TIME: 17:30, 17:30:15 (tomorrow if past) or an ISO 8601 date-time",
    )
    talk = parser.add_mutually_exclusive_group()
    talk.add_argument("-q", "--quiet", action="store_true", help="print nothing on stdout")
    talk.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="say on stderr which mechanisms were tried, which hold, and why others could not",
    )
    talk.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per event on stdout (acquired, lost, ended, released)",
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
    commands = parser.add_subparsers(
        dest="command", metavar="SUBCOMMAND", parser_class=_Parser, prog=PROG
    )
    version = commands.add_parser("version", help="print the version", formatter_class=_Formatter)
    version.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also print Python, the platform and the mechanisms usable here",
    )
    commands.add_parser(
        "status",
        help="list the inhibitors held on this machine by the services that can tell",
        formatter_class=_Formatter,
    )
    commands.add_parser(
        "methods",
        help="list this platform's mechanisms and whether each can be used here",
        formatter_class=_Formatter,
    )
    return parser


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv``; on bad usage print one line and exit with status 2."""
    parser = build_parser()
    return parser.parse_args(_attach_values(parser, argv))


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
