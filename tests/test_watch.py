"""``cocainate watch``: the config file, its errors (one line naming the file, the line and
the problem), a real watch on real processes, and the systemd user unit it ships."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from buses import stop, wait_until
from conftest import Desktop, run_cli, spawn_cli

ROOT = Path(__file__).parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("while-playing = true\nmode = display\n", "line 2, column 8: Invalid value"),
        ("while-playing = true\nwhile-runing = ['x']\n", "line 2: unknown setting 'while-runing'"),
        ("\n\nonly-on-ac = 'yes'\n", "line 3: only-on-ac: expected true or false, got 'yes'"),
        ("while-running = ['a/b']\n", "line 1: while-running: invalid process name 'a/b'"),
        ("while-running = [1]\n", "line 1: while-running: expected a name, or a list of names"),
        ("while-running = [true]\n", "expected a name, or a list of names, got [true]"),
        ("while-running = 'x'\nlinger = true\n", "line 2: linger: expected a duration such as"),
        ("while-playing = true\ndays = 5\n", 'days: expected days such as "mon-fri", got 5'),
        ("while-playing = true\nmin-battery = false\n", "expected a percentage, got false"),
        ("while-playing = true\nmode = 'bright'\n", "line 2: mode: expected one of display"),
        ("while-playing = true\nmethod = ['nope']\n", "line 2: method: unknown"),
        ("while-running = 'x'\nscan-interval = '0s'\n", "line 2: scan-interval: invalid scan"),
        ("while-running = 'x'\nscan-interval = 'soon'\n", "line 2: scan-interval: invalid"),
        ("mode = 'system'\n", "sets no condition"),
        ("[while-playing]\nx = 1\n", "line 1: while-playing: expected true or false"),
        (b"while-playing = true\nwhile-playing = \xff\n", "line 2: not UTF-8"),
        # every kind of TOML syntax error: the line, the column and what
        ("while-playing = true\nreason = 'open\n", "line 2, at the end: Expected"),
        ("while-playing = true\nwhile-playing = false\n", "line 2, column "),
        ("[table\nx = 1\n", "line 1, column 7: "),
        ("while-running = ['a',\n", "line 1, at the end: "),
        ("while-playing = tru\n", "line 1, column 17: Invalid value"),
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n", "nested too deeply"),
        ("# " + "x" * 70000 + "\n", "larger than 64 KiB"),
    ],
)
def test_a_bad_config_is_one_line_and_status_2(
    tmp_path: Path, text: str | bytes, message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    done = run_cli("watch", "--config", str(path), env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"cocainate: {path}"), done.stderr
    assert message in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory"])
def test_a_config_that_is_no_regular_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    """A FIFO with no writer (open would wait for one), /dev/zero (no end), a directory."""
    import os

    path = tmp_path / "config.toml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()
    done = run_cli("watch", "--config", str(path), env={"PATH": "/usr/bin:/bin"}, timeout=10)
    assert done.returncode == 2, done.stderr
    kind_text = "a directory" if kind == "directory" else "not a regular file"
    assert done.stderr == f"cocainate: {path}: {kind_text}: a config file is a regular file\n"


def test_no_config_file_says_where_it_looked(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp_path)}
    done = run_cli("watch", env=env)
    assert done.returncode == 2
    assert f"{tmp_path}/cocainate/config.toml: no such config file" in done.stderr


def test_watch_follows_the_config(bus_env: Desktop, tmp_path: Path) -> None:
    name = "ccwatch" + str(tmp_path.stat().st_ino)[-6:]
    program = tmp_path / name
    shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
    (tmp_path / "cocainate").mkdir()
    (tmp_path / "cocainate" / "config.toml").write_text(
        f'# what to watch\nwhile-running = ["{name}"]\nscan-interval = "100ms"\n'
        'reason = "watching a build"\nmethod = ["screensaver"]\n'
    )
    env = dict(bus_env.env, XDG_CONFIG_HOME=str(tmp_path))
    cli = spawn_cli("watch", "--json", env=env)
    process = None
    try:
        assert cli.stdout is not None
        assert json.loads(cli.stdout.readline())["event"] == "waiting"
        process = subprocess.Popen([str(program), "60"])
        acquired = json.loads(cli.stdout.readline())
        assert acquired["event"] == "acquired" and acquired["mechanisms"] == ["screensaver"]
        held = bus_env.held()["screensaver"]
        assert [row[2] for row in held] == ["watching a build"]
        process.kill()
        process.wait()
        assert json.loads(cli.stdout.readline())["event"] == "released"
        wait_until(bus_env.nothing_held, 3, "the inhibit let go")
        cli.terminate()
        assert cli.wait(5) == 0
    finally:
        if process is not None:
            process.kill()
            process.wait()
        stop(cli)


def test_watch_takes_no_hold_options() -> None:
    done = run_cli("-d", "1h", "watch", env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 2 and "'watch' takes no --duration" in done.stderr


def test_print_unit_names_this_cocainate(tmp_path: Path) -> None:
    done = run_cli("watch", "--print-unit", env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert f"ExecStart={sys.executable} -m cocainate watch" in done.stdout
    assert "WantedBy=graphical-session.target" in done.stdout


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze")
@pytest.mark.parametrize("which", ["shipped", "printed"])
def test_the_unit_is_valid_for_systemd(tmp_path: Path, which: str) -> None:
    """systemd's own checker reads the unit: its sections, its keys, and its ExecStart."""
    unit = tmp_path / "cocainate-watch.service"
    if which == "shipped":
        text = (ROOT / "share" / "systemd" / "user" / "cocainate-watch.service").read_text()
    else:
        text = run_cli("watch", "--print-unit", env={"PATH": "/usr/bin:/bin"}).stdout
    unit.write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    problems = [
        line
        for line in done.stderr.splitlines()
        if "cocainate-watch" in line and "graphical-session" not in line
    ]
    assert done.returncode == 0 or not problems, done.stderr
    assert not problems, done.stderr


def _unused(_: Any) -> None: ...
