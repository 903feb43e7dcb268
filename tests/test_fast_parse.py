"""The CLI's fast path must agree with argparse wherever it answers at all."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocainate.cli.parsing import fast_parse, parse

TOKENS = [
    "-d",
    "--duration",
    "-p",
    "--pid",
    "-q",
    "--quiet",
    "-v",
    "--verbose",
    "--mode",
    "--reason",
    "--method",
    "--",
    "-h",
    "--help",
    "version",
    "methods",
    "-qv",
    "--dur",
    "-d1h",
    "-d=1h",
    "--duration=1h",
    "--duration=",
    "--pid=12",
    "--mode=system",
    "--mode=bright",
    "--reason=",
    "--reason=why",
    "--method=logind",
    "--json",
    "--until",
    "17:30",
    "--until=17:30:15",
    "25:00",
    "2001-01-01T00:00",
    "1h",
    "300ms",
    "1.5h",
    "-5s",
    "abc",
    "0",
    "12",
    "-4",
    "+5",
    "1_000",
    "٣",
    " 7",
    "display",
    "system",
    "logind",
    "x11",
    "",
    "-",
    "why not",
]


def argparse_result(argv: list[str]) -> dict[str, object] | None:
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            return vars(parse(argv))
    except SystemExit:
        return None


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=6)), max_size=6))
def test_whatever_the_fast_path_answers_argparse_answers_too(argv: list[str]) -> None:
    fast = fast_parse(argv)
    if fast is not None:
        assert vars(fast) == argparse_result(argv)


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
def test_holding_imports_no_argparse_and_no_other_platforms_code() -> None:
    code = (
        "import sys, cocainate.cli as cli\n"
        "cli.main(['-q', '-d', '1ms'])\n"
        "unwanted = ('argparse', 'shutil', 'gettext', 'cocainate._win32', 'cocainate._iokit',"
        " 'cocainate.mechanisms.windows', 'cocainate.mechanisms.iokit')\n"
        "print(sorted(m for m in unwanted if m in sys.modules))"
    )
    env = {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "[]", out.stderr
