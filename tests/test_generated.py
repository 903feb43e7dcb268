"""The completions and the man page in share/ are generated from the parser and current."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from generate import DOCS, FILES, generate, with_exit_statuses  # noqa: E402


def _body(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith(".TH ")]  # .TH: the date


@pytest.mark.parametrize("kind", sorted(FILES))
def test_committed_files_match_the_parser(kind: str) -> None:
    committed = (ROOT / "share" / FILES[kind]).read_text()
    assert _body(generate()[kind]) == _body(committed), f"run: python tools/generate.py ({kind})"


def test_the_docs_exit_statuses_are_the_tables() -> None:
    """docs/cli.md, --help and the man page say the exit statuses from the one table."""
    from cocainate.cli.options import EXIT_STATUS
    from cocainate.cli.parsing import epilog

    text = DOCS.read_text()
    assert with_exit_statuses(text) == text, "run: python tools/generate.py"
    assert all(meaning in text and meaning in epilog() for _, meaning in EXIT_STATUS)


@pytest.mark.skipif(sys.platform == "win32", reason="bash completion is for POSIX shells")
def test_bash_loads_the_completion() -> None:
    script = f"source {ROOT / 'share' / FILES['bash']} && complete -p cocainate"
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert out.returncode == 0 and "cocainate" in out.stdout, out.stderr


def man_page(width: int) -> str:
    """The committed man page as `man -l` shows it, ``width`` columns wide."""
    return subprocess.run(
        ["man", "-l", str(ROOT / "share" / FILES["man"])],
        capture_output=True,
        text=True,
        env={"MANWIDTH": str(width), "PATH": "/usr/bin:/bin"},
    ).stdout


@pytest.mark.skipif(shutil.which("man") is None, reason="needs man")
def test_the_man_page_renders() -> None:
    out = man_page(80)
    assert "keep the screen or the system awake, then let go" in out
    assert "--until" in out and "--json" in out


@pytest.mark.skipif(shutil.which("man") is None, reason="needs man")
def test_the_man_page_has_a_synopsis_per_form_and_the_usual_sections() -> None:
    from cocainate.cli.parsing import synopsis as forms

    out = man_page(400)  # each form on one line
    for section in ("SYNOPSIS", "EXIT STATUS", "ENVIRONMENT", "EXAMPLES", "SEE ALSO"):
        assert f"\n{section}\n" in out, section
    synopsis = out.split("\nSYNOPSIS\n")[1].split("\n\n")[0].splitlines()
    assert [" ".join(line.split()) for line in synopsis] == [f"cocainate {f}" for f in forms()]
    assert "systemd-inhibit(1), caffeinate(8), xset(1)" in out
    assert "DBUS_SESSION_BUS_ADDRESS" in out and "WAYLAND_DISPLAY" in out


@pytest.mark.skipif(shutil.which("groff") is None, reason="needs groff")
def test_the_man_page_lints_clean() -> None:
    """groff with every warning on: no complaint about the page's roff."""
    out = subprocess.run(
        ["groff", "-man", "-ww", "-z", str(ROOT / "share" / FILES["man"])],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and out.stderr == "", out.stderr
