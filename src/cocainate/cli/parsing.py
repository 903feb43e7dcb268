"""Command-line parsing, both ways built from the one table in :mod:`.options`.

:func:`fast_parse` handles every command line that holds (the common case) without
importing argparse, which costs a few milliseconds of start-up; it returns None for help,
subcommands and every error, and :func:`parse` (argparse) decides those. A property test
holds that the two agree on every generated command line.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NoReturn

from ..errors import UsageError
from .options import (
    DESCRIPTION,
    EPILOG,
    EXIT_USAGE,
    OPTIONS,
    PROG,
    SUBCOMMANDS,
    USAGE,
    Option,
    defaults,
)
from .say import error

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

_BY_FLAG = {flag: option for option in OPTIONS for flag in option.flags}


def fast_parse(argv: Sequence[str]) -> SimpleNamespace | None:
    """The options of a command line that holds, or None for anything else."""
    found = defaults()
    given: dict[str, str] = {}  # exclusive group -> the flag that took it
    rest = iter(argv)
    for arg in rest:
        if arg.startswith("--") and "=" in arg:
            flag, _, text = arg.partition("=")
            option = _BY_FLAG.get(flag)
            if option is None or not option.takes_value:
                return None
        else:
            option = _BY_FLAG.get(arg)
            if option is None:
                return None
            if option.takes_value:
                text = next(rest, "-")
                if text.startswith("-"):
                    return None  # a missing value, or one argparse reads differently
        exclusive = option.exclusive
        if exclusive is not None and given.setdefault(exclusive, option.dest) != option.dest:
            return None
        if not option.takes_value:
            found[option.dest] = True
            continue
        try:
            value = option.value(text)
        except UsageError:
            return None
        if option.repeat:
            found[option.dest].append(value)
        else:
            found[option.dest] = value
    return SimpleNamespace(**found)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser: the reference for help, errors, completions and the man page."""
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            error(f"{message} (see '{self.prog} --help')")
            sys.exit(EXIT_USAGE)

    parser = Parser(
        prog=PROG,
        usage=USAGE,
        formatter_class=_formatter(),
        description=DESCRIPTION,
        epilog=EPILOG,
    )
    _add(parser, OPTIONS)
    commands = parser.add_subparsers(
        dest="command", metavar="SUBCOMMAND", parser_class=Parser, prog=PROG
    )
    for sub in SUBCOMMANDS:
        _add(
            commands.add_parser(sub.name, help=sub.help, formatter_class=_formatter()), sub.options
        )
    return parser


def _add(parser: argparse.ArgumentParser, options: Sequence[Option]) -> None:
    import argparse

    groups: dict[str, Any] = {}
    for option in options:
        target: Any = parser
        if option.exclusive is not None:
            target = groups.setdefault(option.exclusive, parser.add_mutually_exclusive_group())
        if not option.takes_value:
            target.add_argument(
                *option.flags, dest=option.dest, action="store_true", help=option.help
            )
            continue

        def convert(text: str, option: Option = option) -> Any:
            try:
                return option.value(text)
            except UsageError as err:
                raise argparse.ArgumentTypeError(str(err)) from None

        convert.__name__ = option.dest  # argparse names it in some messages
        target.add_argument(
            *option.flags,
            dest=option.dest,
            type=convert,
            metavar=option.metavar
            if option.choices is None
            else "{" + ",".join(option.choices) + "}",
            action="append" if option.repeat else "store",
            default=list(option.default or ()) if option.repeat else option.default,
            help=option.help,
        )


def _formatter() -> Any:
    import argparse
    import os

    class Formatter(argparse.HelpFormatter):
        """argparse's formatter, sized without shutil, which would cost a millisecond of
        start-up on every run (argparse builds a formatter in each add_argument)."""

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

    return Formatter


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv``; on bad usage print one line and exit with status 2."""
    parser = build_parser()
    args = parser.parse_args(_attach_values(argv))
    for option in OPTIONS:  # options a subcommand does not take are absent: give defaults
        if not hasattr(args, option.dest):
            setattr(args, option.dest, defaults()[option.dest])
    return args


def _attach_values(argv: Sequence[str]) -> list[str]:
    """Let ``-d -5s`` and ``-p -4`` reach our checks, which name the problem, instead of
    argparse's "expected one argument"."""
    out: list[str] = []
    rest = iter(argv)
    for arg in rest:
        option = _BY_FLAG.get(arg)
        if option is not None and option.takes_value:
            value = next(rest, None)
            if value is None:
                out.append(arg)
            elif value.startswith("-") and value not in _BY_FLAG and value not in ("-h", "--help"):
                out.append(f"{arg}={value}")
            else:
                out += [arg, value]
        else:
            out.append(arg)
    return out
