"""The argparse parser, built from the one table in :mod:`.options`: ``--help``, the
subcommands, every error, the completions' and the man page's reference.

A command line that holds (the common case) never comes here: :func:`.options.fast_parse`
reads it by the table without importing argparse (start-up, docs/benchmarks.md), and
returns None for anything else. A property test holds that the two agree on
every generated command line.
"""

import sys
from typing import TYPE_CHECKING, Any, NoReturn

from ..errors import UsageError
from .options import (
    BY_FLAG,
    DESCRIPTION,
    EXIT_STATUS,
    EXIT_USAGE,
    OPTIONS,
    PROG,
    SUBCOMMANDS,
    USAGE,
    Option,
    defaults,
    is_value,
)

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence


def build_parser() -> "argparse.ArgumentParser":
    """The argparse parser: the reference for help, errors, completions and the man page."""
    import argparse

    class Parser(argparse.ArgumentParser):
        argv: "Sequence[str]" = ()

        def error(self, message: str) -> "NoReturn":
            from .say import error

            word = message.partition("invalid choice: '")[2].partition("'")[0]
            if message.startswith("argument SUBCOMMAND") and word in self.argv:
                # caffeinate's and systemd-inhibit's habit: the command right after
                at = list(self.argv).index(word)
                line = " ".join([PROG, *self.argv[:at], "--", *self.argv[at:]])
                error(f"'{word}' is not a subcommand; to hold while it runs: {line}")
            else:
                error(f"{message} (see '{self.prog} --help')")
            sys.exit(EXIT_USAGE)

    parser = Parser(
        prog=PROG,
        usage=USAGE,
        formatter_class=_formatter(),
        description=DESCRIPTION,
        epilog=epilog(),
    )
    _add(parser, OPTIONS)
    commands = parser.add_subparsers(
        dest="command", metavar="SUBCOMMAND", parser_class=Parser, prog=PROG
    )
    for sub in SUBCOMMANDS:
        sub_parser = commands.add_parser(
            sub.name, help=sub.help, description=_sentence(sub.help), formatter_class=_formatter()
        )
        _add(sub_parser, sub.options)
        argument = sub.argument
        if argument is not None:
            converted: dict[str, Any] = {}
            if argument.check is not None:
                converted["type"] = _converter(argument)
            sub_parser.add_argument(
                argument.dest,
                metavar=argument.metavar,
                choices=argument.choices,
                help=_escaped(argument.help),
                nargs="?" if sub.optional else None,
                **converted,
            )
    return parser


def _escaped(text: str) -> str:
    """A help text as argparse reads it: % is its formatting character."""
    return text.replace("%", "%%")


def _sentence(text: str) -> str:
    return f"{text[0].upper()}{text[1:]}."


def _add(parser: "argparse.ArgumentParser", options: "Sequence[Option]") -> None:

    groups: dict[str, Any] = {}
    for option in options:
        target: Any = parser
        if option.exclusive is not None:
            if option.exclusive not in groups:
                groups[option.exclusive] = parser.add_mutually_exclusive_group()
            target = groups[option.exclusive]
        if not option.takes_value:
            target.add_argument(
                *option.flags, dest=option.dest, action="store_true", help=_escaped(option.help)
            )
            continue

        target.add_argument(
            *option.flags,
            dest=option.dest,
            type=_converter(option),
            metavar=option.metavar
            if option.choices is None
            else "{" + ",".join(option.choices) + "}",
            action="append" if option.repeat else "store",
            default=list(option.default or ()) if option.repeat else option.default,
            help=_escaped(option.help),
        )


def _converter(option: "Option") -> "Callable[[str], Any]":
    """argparse's ``type`` for ``option``: its value, or argparse's error with our words."""
    import argparse

    def convert(text: str) -> "Any":
        try:
            return option.value(text)
        except UsageError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    convert.__name__ = option.dest  # argparse names it in some messages
    return convert


def _formatter() -> "Any":
    import argparse
    import os

    class Formatter(argparse.HelpFormatter):
        """argparse's formatter, sized without shutil (argparse builds one in each
        add_argument: start-up)."""

        def __init__(
            self,
            prog: str,
            indent_increment: int = 2,
            max_help_position: int = 24,
            width: "int | None" = None,
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


def parse(argv: "Sequence[str]") -> "argparse.Namespace":
    """Parse ``argv``; on bad usage print one line and exit with status 2."""
    parser = build_parser()
    parser.argv = argv  # type: ignore[attr-defined]  # (Parser's, for its errors)
    for arg in argv:
        flag, equals, text = arg.partition("=")
        if equals and text == "--" and flag in BY_FLAG:
            parser.error(f"argument {flag}: '--' cannot be its value")
    args = parser.parse_args(_attach_values(argv))
    for option in OPTIONS:  # options a subcommand does not take are absent: give defaults
        if not hasattr(args, option.dest):
            setattr(args, option.dest, defaults()[option.dest])
    return args


def _attach_values(argv: "Sequence[str]") -> "list[str]":
    """Let ``-d -5s`` and ``-p -4`` reach our checks, which name the problem, instead of
    argparse's "expected one argument"."""
    out: list[str] = []
    rest = iter(argv)
    for arg in rest:
        option = BY_FLAG.get(arg)
        if option is not None and option.takes_value:
            value = next(rest, None)
            if value is None:
                out.append(arg)
            elif value.startswith("-") and is_value(value):
                out.append(f"{arg}={value}")
            else:
                out += [arg, value]
        else:
            out.append(arg)
    return out


def epilog() -> str:
    """``--help``'s closing words: the exit statuses, from :data:`EXIT_STATUS`."""
    said = "; ".join(f"{status}: {meaning}" for status, meaning in EXIT_STATUS)
    return f"Exit status: {said}."


def synopsis() -> "list[str]":
    """The man page's SYNOPSIS, one line a form: holding, following conditions, behind
    gates, around a command, then each subcommand with its options."""

    def forms(options: "tuple[Option, ...]") -> "list[str]":
        out: list[str] = []
        groups: dict[str, list[str]] = {}
        for option in options:
            flag = option.flags[0]
            text = f"{flag} {option.metavar}" if option.takes_value else flag
            if option.exclusive is not None:
                if option.exclusive not in groups:
                    groups[option.exclusive] = []
                    out.append(option.exclusive)  # its place, filled in below
                groups[option.exclusive].append(text)
                continue
            out.append(f"[{text}]..." if option.repeat else f"[{text}]")
        return [f"[{' | '.join(groups[f])}]" if f in groups else f for f in out]

    gating = ("gates", "only_on_ac")
    following = ("conditions", "linger", *gating)
    holding = [o for o in OPTIONS if o.session not in following and o.dest != "version"]
    watching = [o for o in OPTIONS if o.session in ("conditions", "linger")]
    gates = [o for o in OPTIONS if o.session in gating]
    lines = [
        " ".join(forms(tuple(holding))),
        " ".join([*forms(tuple(watching)), "[options]"]),
        " ".join([*forms(tuple(gates)), "[options]"]),
        "[options] -- COMMAND [ARG...]",
    ]
    for sub in SUBCOMMANDS:
        argument, tail = sub.argument, []
        if argument is not None:
            named = argument.metavar or argument.dest
            word = f"{{{'|'.join(argument.choices)}}}" if argument.choices else named
            tail = [f"[{word}]" if sub.optional else word]
        lines.append(" ".join([sub.name, *forms(sub.options), *tail]))
    lines.append("--version")
    return lines
