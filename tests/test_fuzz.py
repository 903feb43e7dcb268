"""Generated command lines: never a traceback, exit 2 on bad usage, nothing held after.

With test_duration.py (5,000 durations) and test_fast_parse.py (3,000 command lines
against argparse), the suite runs over 10,000 generated cases."""

from __future__ import annotations

import contextlib
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocainate.cli import run as cli
from cocainate.cli.parsing import parse
from conftest import Desktop

OPTIONS = [
    "-d",
    "--duration",
    "-p",
    "--pid",
    "-q",
    "-v",
    "--json",
    "--mode",
    "--reason",
    "--method",
    "--until",
    "-h",
    "version",
    "methods",
    "status",
    "--frob",
    "-x",
]
VALUES = [
    "1ms",
    "0",
    "-5s",
    "10x",
    "",
    "abc",
    "1e400h",
    "1",
    "0",
    "-1",
    "99999999",
    "display",
    "system",
    "bright",
    "screensaver",
    "logind",
    "nope",
    "25:00",
    "2001-01-01T00:00",
    "  ",
    "µs",
    "1.5h",
    "\x00",
    "é",
]
ARGV = st.lists(
    st.sampled_from(OPTIONS) | st.sampled_from(VALUES) | st.text(max_size=5), max_size=7
)


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


@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ARGV)
def test_the_whole_cli_never_raises_and_holds_nothing_after(
    bus_env: Desktop, argv: list[str]
) -> None:
    # Ends at once whatever was generated: the last -d wins, and no --until or command.
    argv = [a for a in argv if a not in ("--until", "--")] + ["-d", "1ms"]
    code, err = quiet(cli.main, argv)
    assert code in (0, 2, 3), (argv, code, err)
    assert "Traceback" not in err
    if code == 2:
        assert len(err.splitlines()) == 1, err
    assert bus_env.nothing_held(), argv
