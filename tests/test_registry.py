"""cocainate's own registry of X11 and Wayland holds, read by ``cocainate status``: on a
real Xvfb, through every way a session ends (SIGTERM, SIGKILL, a fork's child), and against
files it must not trust (a reused PID, a directory that is not private)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cocainate import Session
from cocainate.bindings import registry
from conftest import run_cli, spawn_cli

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11, /proc")


@pytest.fixture
def env(x_display: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    values = {
        "DISPLAY": x_display,
        "XDG_RUNTIME_DIR": str(runtime),
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent",
        "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return dict(os.environ)


def files(env: dict[str, str]) -> list[Path]:
    return sorted((Path(env["XDG_RUNTIME_DIR"]) / "cocainate").glob("*.json"))


def x11_row(env: dict[str, str]) -> list[str]:
    out = run_cli("status", env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("x11 "))
    return [lines[at], *(line for line in lines[at + 1 :] if line.startswith("    "))][:2]


@pytest.fixture
def holder(env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    process = spawn_cli("--method", "x11", "--reason", "slides", env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "(x11)" in line, line
    yield process
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=10)


def test_status_shows_the_hold_and_it_goes_with_the_session(
    env: dict[str, str], holder: subprocess.Popen[str]
) -> None:
    (record,) = files(env)
    assert json.loads(record.read_text())["holding"] == ["x11"]
    row, detail = x11_row(env)
    assert "1 held by cocainate" in row
    assert f"pid {holder.pid}" in detail and "'slides'" in detail
    assert "cocainate --method x11 --reason slides" in detail
    holder.send_signal(signal.SIGTERM)
    holder.communicate(timeout=10)
    assert files(env) == []
    assert "none held by cocainate" in x11_row(env)[0]


def test_a_killed_holder_is_not_listed_and_its_file_is_removed(
    env: dict[str, str], holder: subprocess.Popen[str]
) -> None:
    holder.kill()
    holder.communicate(timeout=10)
    assert len(files(env)) == 1  # kill -9 leaves it
    assert "none held by cocainate" in x11_row(env)[0]
    assert files(env) == []


def test_a_reused_pid_is_not_taken_for_the_holder(env: dict[str, str]) -> None:
    folder = registry.directory()
    assert folder is not None
    stale = Path(folder) / "1.1.json"  # PID 1 is alive, but started at another time
    stale.write_text(json.dumps({"pid": 1, "start_time": "-1", "since": 0, "holding": ["x11"]}))
    assert "none held by cocainate" in x11_row(env)[0]
    assert not stale.exists()


def test_a_forked_child_leaves_the_parents_record(env: dict[str, str]) -> None:
    session = Session(methods=["x11"]).start()
    (record,) = files(env)
    pid = os.fork()
    if pid == 0:  # the child stops its copy, as a careless program would
        try:
            session.stop()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert record.exists()
    session.stop()
    assert not record.exists()


def test_a_directory_that_is_not_private_is_not_used(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (Path(env["XDG_RUNTIME_DIR"]) / "cocainate").symlink_to(elsewhere)
    with Session(methods=["x11"]) as session:
        assert session.holding == ("x11",)  # held all the same
        assert list(elsewhere.iterdir()) == []
    open_to_all = tmp_path / "open"
    open_to_all.mkdir()
    (open_to_all / "cocainate").mkdir(mode=0o777)
    os.chmod(open_to_all / "cocainate", 0o777)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(open_to_all))
    assert registry.directory() is None
    with Session(methods=["x11"]):
        assert list((open_to_all / "cocainate").iterdir()) == []


def test_nothing_in_the_registry_can_hang_or_fail_status(
    env: dict[str, str], holder: subprocess.Popen[str]
) -> None:
    """Beside a live session's record: a FIFO, a link to /dev/zero, a directory, a huge file,
    deep nesting, and values of every wrong type and range. Each is skipped, the live one is
    listed, and status answers at once."""
    folder = files(env)[0].parent
    live = json.loads(files(env)[0].read_text())
    os.mkfifo(folder / "fifo.json")
    (folder / "zero.json").symlink_to("/dev/zero")
    (folder / "directory.json").mkdir()
    (folder / "huge.json").write_bytes(b"[" * (8 << 20))
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    bad: dict[str, list[object]] = {
        "pid": [2**64, -1, 0, "12", 1.5, True, None, os.getpid() * 10**9],
        "since": [float("nan"), float("inf"), 1e300, -5, "x", True, None],
        "holding": ["x11", [1], None, {"x11": 1}],
        "reason": [5, ["r"]],
        "program": [None],
        "start_time": [5],
    }
    count = 0
    for key, values in bad.items():
        for value in values:
            count += 1
            record = dict(live, **{key: value})
            text = json.dumps(record).replace("NaN", "NaN").replace("Infinity", "Infinity")
            (folder / f"bad{count}.json").write_text(text)
    (folder / "list.json").write_text("[1, 2]")
    (folder / "number.json").write_text("12")
    out = run_cli("status", env=env, timeout=10)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    rows = [line for line in out.stdout.splitlines() if line.startswith(("x11 ", "    by"))]
    assert rows[0].endswith("1 held by cocainate; the X server lists no others"), rows
    assert len(rows) == 2 and f"pid {holder.pid}," in rows[1], rows
