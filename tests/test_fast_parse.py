"""The CLI's fast path must agree with argparse wherever it answers at all."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

import pytest
from hypothesis import given, settings

from argv import ARGV
from cocainate.cli.options import fast_parse
from cocainate.cli.parsing import parse


def argparse_result(argv: list[str]) -> dict[str, object] | None:
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            return vars(parse(argv))
    except SystemExit:
        return None


@settings(max_examples=3000, deadline=None)
@given(ARGV)
def test_the_fast_path_and_argparse_agree_on_every_command_line(argv: list[str]) -> None:
    """Where the fast path answers, argparse answers the same; where it does not, argparse
    refuses the line, or it names a subcommand (or asks for help, which exits)."""
    fast = fast_parse(argv)
    slow = argparse_result(argv)
    if fast is not None:
        assert vars(fast) == slow
    else:
        assert slow is None or slow["command"] is not None, slow


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["-d", "1h10m10s"],
        ["-q", "-d", "300ms", "-p", "12", "--pid", "13"],
        ["-v", "--mode", "system", "--reason", "build", "--method", "logind", "--method", "x11"],
        ["--duration=2m", "--pid=7", "--mode=display", "--reason=", "--method=screensaver"],
        ["--json", "--until", "17:30"],
    ],
)
def test_the_common_invocations_take_the_fast_path(argv: list[str]) -> None:
    fast = fast_parse(argv)
    assert fast is not None
    assert vars(fast) == vars(parse(argv))


@pytest.mark.parametrize(
    "argv", [["-h"], ["version"], ["-d", "abc"], ["-q", "-v"], ["--dur", "1h"]]
)
def test_help_commands_and_errors_go_to_argparse(argv: list[str]) -> None:
    assert fast_parse(argv) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's start-up path")
def test_holding_imports_no_argparse_no_future_and_no_other_platforms_code() -> None:
    code = (
        "import sys, cocainate.cli as cli\n"
        "cli.main(['-q', '-d', '1ms'])\n"
        "unwanted = ('argparse', 'shutil', 'gettext', '__future__', 'cocainate.bindings.win32',"
        " 'cocainate.bindings.iokit', 'cocainate.mechanisms.windows',"
        " 'cocainate.mechanisms.iokit')\n"
        "print(sorted(m for m in unwanted if m in sys.modules))"
    )
    env = {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "[]", out.stderr
