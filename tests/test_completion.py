"""Completion, run for real in bash (with bash-completion and without), zsh and fish.

Each shell loads what ``cocainate completion SHELL`` prints and completes a command line as
a person's TAB would: bash by calling the completion function with COMP_WORDS set, as
readline does; zsh interactively on a pseudo-terminal, with ``compadd`` wrapped to print
what it is given; fish with ``complete -C``. A shell that is not installed skips (tools/test
installs all three).
"""

from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cocainate import mechanisms
from cocainate.cli.options import SUBCOMMANDS

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shells")

BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")
LINUX_METHODS = {entry.name for entry in mechanisms.entries("linux")}


def _script(shell: str, tmp_path: Path) -> Path:
    out = subprocess.run(
        [sys.executable, "-m", "cocainate", "completion", shell],
        capture_output=True,
        text=True,
        check=True,
    )
    path = tmp_path / ("_cocainate" if shell == "zsh" else f"cocainate.{shell}")
    path.write_text(out.stdout)
    return path


def _bash(script: Path, line: str, with_bash_completion: bool) -> set[str]:
    words = line.split(" ")  # the last word is the one being completed ("" after a space)
    program = "\n".join(
        [
            f"source {BASH_COMPLETION}" if with_bash_completion else "",
            f"source {script}",
            'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}',
            '_cocainate cocainate "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"',
            "printf '%s\\n' \"${COMPREPLY[@]}\"",
        ]
    )
    out = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program, "bash", *words],
        capture_output=True,
        text=True,
        timeout=30,
        env=_env(script.parent),
    )
    assert out.returncode == 0, out.stderr
    return {word for word in out.stdout.splitlines() if word}


def _fish(script: Path, line: str) -> set[str]:
    out = subprocess.run(
        ["fish", "--no-config", "-c", f"source {script}; complete -C {_fish_quote(line)}"],
        capture_output=True,
        text=True,
        timeout=30,
        env=_env(script.parent),
    )
    assert out.returncode == 0, out.stderr
    return {row.split("\t")[0] for row in out.stdout.splitlines() if row}


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


DONE = "COMPLETION-DONE"
PROMPT = "zsh-ready> "
ZSH_SETUP = (
    "fpath=({dir} $fpath); autoload -Uz compinit; compinit -u -D; "
    # Print every match a completion function adds (not the internal -O/-A/-D queries).
    'compadd() {{ if (( ${{@[(I)-[OAD]*]}} )); then builtin compadd "$@"; return; fi; '
    'local -a hits; builtin compadd -O hits "$@"; print -rl -- ${{hits/#/MATCH:}}; '
    'builtin compadd "$@"; }}; '
    "_cocainate_test_done() {{ print -r -- {done} }}; comppostfuncs=(_cocainate_test_done)\n"
)


def _zsh(script: Path, line: str) -> set[str]:
    env = dict(_env(script.parent), TERM="dumb", PS1=PROMPT)
    zsh = shutil.which("zsh") or "zsh"
    pid, fd = pty.fork()
    if pid == 0:  # the child: an interactive zsh with no start-up files
        try:
            os.execve(zsh, [zsh, "-f", "-i"], env)
        finally:
            os._exit(127)
    out = b""

    def read_until(marks: tuple[bytes, ...], after: int) -> None:
        nonlocal out
        deadline = time.monotonic() + 20
        while not any(mark in out[after:] for mark in marks):
            ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
            assert ready, f"zsh did not finish completing {line!r}: {out[-500:]!r}"
            out += os.read(fd, 65536)

    try:
        # Type only at a prompt: zle drops what was typed before it started.
        read_until((PROMPT.encode(),), 0)
        mark = len(out)
        os.write(fd, ZSH_SETUP.format(dir=script.parent, done=DONE).encode())
        read_until((PROMPT.encode(),), mark + len(ZSH_SETUP))
        mark = len(out)
        os.write(fd, line.encode() + b"\t")
        read_until(((DONE + "\r").encode(), (DONE + "\n").encode()), mark)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    text = out.decode(errors="replace").replace("\r", "\n")
    return {
        row.split("MATCH:", 1)[1].strip()
        for row in text.split("\n")
        if "MATCH:" in row and "hits/#" not in row  # not the echo of the setup line
    }


def _env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
    }


SHELLS = {
    "bash": lambda script, line: _bash(script, line, with_bash_completion=True),
    "bash-plain": lambda script, line: _bash(script, line, with_bash_completion=False),
    "zsh": _zsh,
    "fish": _fish,
}


@pytest.fixture(params=sorted(SHELLS))
def complete(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    kind: str = request.param
    shell = kind.split("-")[0]
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed (tools/test installs it)")
    if kind == "bash" and not BASH_COMPLETION.exists():
        pytest.skip("bash-completion is not installed (tools/test installs it)")
    script = _script(shell, tmp_path)

    def run(line: str) -> set[str]:
        return SHELLS[kind](script, line)

    run.kind = kind  # type: ignore[attr-defined]
    return run


def test_mode_completes_its_values(complete) -> None:  # type: ignore[no-untyped-def]
    assert complete("cocainate --mode ") == {"display", "system"}
    assert complete("cocainate -q --mode s") == {"system"}


def test_method_completes_this_platforms_mechanisms(complete) -> None:  # type: ignore[no-untyped-def]
    assert complete("cocainate --method ") == LINUX_METHODS
    assert complete("cocainate --method screensaver --method l") == {
        name for name in LINUX_METHODS if name.startswith("l")
    }


def test_subcommands_and_their_options(complete) -> None:  # type: ignore[no-untyped-def]
    assert complete("cocainate ") == {sub.name for sub in SUBCOMMANDS}
    assert {"--all", "--quiet"} <= complete("cocainate stop --")
    assert complete("cocainate status --f") == {"--follow"}
    assert complete("cocainate version -") == {"-h", "--help", "-v", "--verbose"}
    assert complete("cocainate completion ") == {"bash", "zsh", "fish"}


def test_options(complete) -> None:  # type: ignore[no-untyped-def]
    found = complete("cocainate -")
    assert {"--duration", "--pid", "--until", "--mode", "--method", "--reason"} <= found
    assert complete("cocainate --mo") == {"--mode"}


def test_a_value_that_looks_like_a_subcommand_is_a_value(complete) -> None:  # type: ignore[no-untyped-def]
    assert complete("cocainate --reason status --mo") == {"--mode"}


def test_pid_completes_running_processes(complete) -> None:  # type: ignore[no-untyped-def]
    if complete.kind == "zsh":
        pytest.skip("zsh's _pids lists the processes of its own terminal only")
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        assert str(sleeper.pid) in complete(f"cocainate -p {sleeper.pid}")
    finally:
        sleeper.kill()
        sleeper.wait()


def test_after_dashdash_a_command_then_its_files(complete, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert "echo" in complete("cocainate -d 1h -- ech")
    (tmp_path / "files").mkdir()
    for name in ("first.txt", "fifth.txt", "other.txt"):
        (tmp_path / "files" / name).touch()
    found = complete(f"cocainate -q -- cat {tmp_path}/files/fi")
    assert {Path(word).name for word in found} == {"first.txt", "fifth.txt"}


def test_after_dashdash_the_commands_own_completion(complete) -> None:  # type: ignore[no-untyped-def]
    if complete.kind == "bash-plain":
        pytest.skip("without bash-completion, bash completes files after the command")
    # cocainate's own completion is loaded, so the command after -- can be cocainate
    assert complete("cocainate -d 1h -- cocainate --mode ") == {"display", "system"}
