"""Generated command lines: never a traceback, exit 2 on bad usage, nothing held after.

With test_duration.py (5,000 durations) and test_fast_parse.py (3,000 command lines
against argparse), the suite runs over 10,000 generated cases."""

from __future__ import annotations

import contextlib
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argv import argv
from cocainate.cli import run as cli
from cocainate.cli.options import OPTIONS
from cocainate.cli.parsing import parse
from conftest import Desktop

# The option table's own lines (valid or not), and lines of arbitrary text.
ARGV = argv() | st.lists(st.text(max_size=5), max_size=7)


def quiet(function: object, *args: object) -> tuple[object, str]:
    """What ``function`` returned, or the status it exited with; and its stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            result = function(*args)  # type: ignore[operator]
        except SystemExit as exit_:
            result = exit_.code if isinstance(exit_.code, int) else 1
    return result, err.getvalue()


@settings(max_examples=1500, deadline=None)
@given(ARGV)
def test_the_parser_returns_or_exits_2_with_one_line(argv: list[str]) -> None:
    result, err = quiet(parse, argv)
    if isinstance(result, int):  # it exited: 0 for --help, 2 for bad usage
        assert result in (0, 2)
        if result == 2:
            assert len(err.splitlines()) == 1 and err.startswith("cocainate: ")


def test_the_whole_cli_reaches_sessions_and_subcommands_and_holds_nothing_after(
    bus_env: Desktop,
) -> None:
    """Command lines from the option table, each ending within a millisecond (no duration of
    its own; ``-d 1ms`` first): never a traceback, one line for bad usage, nothing held
    after, and most of them really hold or run a subcommand."""
    from collections import Counter

    from argv import OTHERS, valid_argv

    outcomes: Counter[str] = Counter()
    # a subcommand takes none of the session's options, so its lines stand alone
    lines = [["version"], ["version", "-v"], ["methods"], ["status"]]
    commands = st.sampled_from(lines)
    # No duration but -d 1ms; and nothing that forks this process (--detach, and 'on' and
    # 'toggle', which detach a hold when none runs): tests/test_control.py runs those.
    options = tuple(o for o in OPTIONS if o.dest not in ("duration", "detach"))
    others = tuple(o for o in OTHERS if not o.startswith("-d") and o not in ("on", "toggle"))

    def check(generated: list[str]) -> None:
        alone = generated[:1] in (["version"], ["methods"], ["status"])
        line = generated if alone else ["-d", "1ms", *generated]
        code, err = quiet(cli.main, line)
        assert "Traceback" not in err
        assert bus_env.nothing_held(), line
        if code == 2:
            assert len(err.splitlines()) == 1, err
            outcomes["usage"] += 1
            return
        if code == 1:  # a condition that cannot be watched here (no display, no UPower)
            assert len(err.splitlines()) == 1 and "cannot " in err, (line, err)
            outcomes["condition"] += 1
            return
        assert code in (0, 3, 5), (line, code, err)  # 5: no session to stop, pause...
        chosen = parse_quietly(line)
        named = isinstance(chosen, str) and chosen in ("version", "methods", "status")
        outcomes[str(chosen) if named else f"exit {code}"] += 1

    @settings(
        max_examples=400,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )
    @given(valid_argv(options) | commands | argv(options, others))
    def one(generated: list[str]) -> None:
        check(generated)

    one()
    for line in lines:  # hypothesis draws each of these few lines once at most: run them all
        check(line)
    assert outcomes["exit 0"] >= 100, outcomes  # sessions that held and let go
    assert min(outcomes["version"], outcomes["methods"], outcomes["status"]) >= 1, outcomes


def parse_quietly(line: list[str]) -> object:
    result, _ = quiet(parse, line)
    return getattr(result, "command", None)
