"""--while-audio on a real PulseAudio with a null sink, started here, and real clients
playing into it: paplay (a stream that plays), mpv paused (a corked stream) and resumed,
pactl muting a stream or setting it to zero volume. The holds go to the desktop's
stand-in services."""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import struct
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cocainate
from buses import stop, wait_until
from cocainate import AudioPlaying, Session
from cocainate.errors import ConditionError, UsageError
from conftest import Desktop, run_cli, spawn_cli
from test_conditions import Watching

pytestmark = pytest.mark.skipif(
    not (shutil.which("pulseaudio") and shutil.which("paplay")),
    reason="needs PulseAudio and paplay (Debian: pulseaudio pulseaudio-utils)",
)


class Pulse:
    """A PulseAudio of our own: a null sink, a socket in ``root``, no D-Bus, no card."""

    def __init__(self, root: Path) -> None:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.root = root
        self.socket = root / "native"
        self.server = f"unix:{self.socket}"
        self.env = {**os.environ, "PULSE_SERVER": self.server, "XDG_RUNTIME_DIR": str(root)}
        self.env["HOME"] = str(root)
        self.env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        self.tone = root / "tone.wav"
        with wave.open(str(self.tone), "wb") as out:  # a minute of a quiet tone
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(8000)
            frames = (int(2000 * math.sin(i / 8)) for i in range(8000 * 60))
            out.writeframes(b"".join(struct.pack("<h", f) for f in frames))
        self.players: list[subprocess.Popen[str]] = []
        self.start()

    def start(self) -> None:
        argv = ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1"]
        argv += ["--disable-shm=yes", "-L", "module-null-sink sink_name=null"]
        argv += ["-L", f"module-native-protocol-unix socket={self.socket} auth-anonymous=1"]
        self.process = subprocess.Popen(
            argv, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True
        )
        wait_until(self.answers, 10, "PulseAudio to listen")

    def answers(self) -> bool:
        probe = socket.socket(socket.AF_UNIX)
        try:
            probe.connect(str(self.socket))
            return True
        except OSError:
            return False
        finally:
            probe.close()

    def kill(self) -> None:
        stop(self.process)

    def play(self, *args: str) -> subprocess.Popen[str]:
        player = subprocess.Popen(["paplay", *args, str(self.tone)], env=self.env, text=True)
        self.players.append(player)
        wait_until(lambda: self.streams(), 5, "the stream")
        return player

    def streams(self) -> list[int]:
        listed = self.pactl("list", "short", "sink-inputs").stdout
        return [int(line.split()[0]) for line in listed.splitlines() if line.strip()]

    def pactl(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True)
        assert done.returncode == 0, done
        return done

    def close(self) -> None:
        for player in self.players:
            stop(player)
        self.kill()


@pytest.fixture
def pulse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pulse]:
    made = Pulse(tmp_path / "pulse")
    monkeypatch.setenv("PULSE_SERVER", made.server)
    try:
        yield made
    finally:
        made.close()


def audio(**kwargs: Any) -> Watching:
    return Watching(conditions=AudioPlaying(**kwargs), methods=["screensaver"], linger=0)


def test_a_stream_that_plays_holds_and_its_end_lets_go(bus_env: Desktop, pulse: Pulse) -> None:
    watch = audio()
    try:
        assert watch.kinds() == ["waiting"]
        player = pulse.play()
        assert watch.wait_for("acquired").condition == "paplay plays audio"
        assert bus_env.held()["screensaver"]
        stop(player)
        assert watch.wait_for("released").condition == "no audio plays"
        wait_until(lambda: not bus_env.held()["screensaver"], 3, "the inhibit let go")
    finally:
        watch.stop()


def test_muted_and_silent_streams_do_not_count(bus_env: Desktop, pulse: Pulse) -> None:
    pulse.play()
    (stream,) = pulse.streams()
    watch = audio()
    try:
        assert watch.kinds() == ["acquired"]  # it plays at start
        pulse.pactl("set-sink-input-mute", str(stream), "1")
        assert watch.wait_for("released").condition == "no audio plays"
        pulse.pactl("set-sink-input-mute", str(stream), "0")
        watch.wait_for("acquired", 2)
        pulse.pactl("set-sink-input-volume", str(stream), "0")
        watch.wait_for("released", 2)
        pulse.pactl("set-sink-input-volume", str(stream), "50%")
        watch.wait_for("acquired", 3)
    finally:
        watch.stop()


def test_a_paused_player_corks_its_stream_and_does_not_count(
    bus_env: Desktop, pulse: Pulse, tmp_path: Path
) -> None:
    if not shutil.which("mpv"):
        pytest.skip("needs mpv")
    control = tmp_path / "mpv.sock"
    argv = ["mpv", "--no-config", "--really-quiet", "--ao=pulse", "--pause"]
    argv += [f"--input-ipc-server={control}", str(pulse.tone)]
    mpv = subprocess.Popen(argv, env=pulse.env, stdout=subprocess.DEVNULL, text=True)
    pulse.players.append(mpv)
    wait_until(pulse.streams, 10, "mpv's stream")
    watch = audio()
    try:
        assert watch.kinds() == ["waiting"]  # corked
        wait_until(control.exists, 5, "mpv's control socket")
        with socket.socket(socket.AF_UNIX) as ipc:
            ipc.connect(str(control))
            ipc.sendall(json.dumps({"command": ["set_property", "pause", False]}).encode() + b"\n")
            assert watch.wait_for("acquired").condition == "mpv plays audio"
            ipc.sendall(json.dumps({"command": ["set_property", "pause", True]}).encode() + b"\n")
            watch.wait_for("released")
    finally:
        watch.stop()


def test_an_ignored_application_does_not_count(bus_env: Desktop, pulse: Pulse) -> None:
    watch = audio(ignore=["PAPLAY"])  # by its executable's name, in any case
    try:
        pulse.play()
        pulse.play("--client-name=call")
        assert watch.wait_for("acquired").condition == "call plays audio"
    finally:
        watch.stop()


def test_the_server_going_lets_go_and_its_return_is_followed(
    bus_env: Desktop, pulse: Pulse
) -> None:
    pulse.play()
    watch = audio()
    try:
        assert watch.kinds() == ["acquired"]
        pulse.kill()
        assert watch.wait_for("released").condition == "no audio plays"
        lost = watch.wait_for("lost")
        assert lost.condition == "audio plays" and "sound server has gone" in str(lost.error)
        pulse.start()  # the reconnection waits 1 s, then 2...
        pulse.play()
        watch.wait_for("acquired", 2, timeout=10)
    finally:
        watch.stop()
    assert not watch.session.active


def test_no_server_or_no_binding_is_one_line(
    bus_env: Desktop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/none")
    session = Session(conditions=AudioPlaying(), methods=["screensaver"])
    with pytest.raises(ConditionError, match="no PulseAudio or PipeWire sound server is running"):
        session.start()
    assert not session.active and bus_env.nothing_held()
    monkeypatch.setitem(__import__("sys").modules, "pulsectl", None)
    session = Session(conditions=AudioPlaying(), methods=["screensaver"])
    with pytest.raises(ConditionError, match=r"needs pulsectl: pip install 'cocainate\[audio\]'"):
        session.start()
    with pytest.raises(UsageError, match="invalid application name"):
        AudioPlaying(ignore=[""])


def test_the_command_line_follows_audio(bus_env: Desktop, pulse: Pulse) -> None:
    env = {**bus_env.env, "PULSE_SERVER": pulse.server}
    cli = spawn_cli("--while-audio", "--linger", "0", "--json", "--method", "screensaver", env=env)
    try:
        assert cli.stdout is not None
        assert json.loads(cli.stdout.readline())["event"] == "waiting"
        player = pulse.play()
        said = json.loads(cli.stdout.readline())
        assert said["event"] == "acquired" and said["condition"] == "paplay plays audio"
        stop(player)
        assert json.loads(cli.stdout.readline())["event"] == "released"
    finally:
        stop(cli)
    done = run_cli("--ignore-app", "x", env=env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done
    assert "--ignore-app needs --while-audio" in done.stderr
    env["PULSE_SERVER"] = "unix:/nonexistent"
    done = run_cli("--while-audio", "-d", "1s", env=env)
    assert done.returncode != 0 and done.stderr.count("\n") == 1, done
    assert "no PulseAudio or PipeWire sound server is running" in done.stderr
    assert bus_env.nothing_held()


def test_the_library_names_it() -> None:
    assert cocainate.AudioPlaying().describe() == "audio plays"
    assert AudioPlaying(ignore="spotify").ignore == ("spotify",)
    with pytest.raises(UsageError, match="ignore takes application names, not 5"):
        AudioPlaying(ignore=5)  # type: ignore[arg-type]


def test_sessions_following_audio_leave_no_thread_or_fd(bus_env: Desktop, pulse: Pulse) -> None:
    """Each session's thread and its connection to the sound server are gone once it is
    stopped, holding or not."""
    import threading

    pulse.play()
    Session(conditions=AudioPlaying(), methods=["screensaver"]).start().stop()  # one idle
    threads, fds = threading.active_count(), len(os.listdir("/proc/self/fd"))  # bus each
    for _ in range(20):
        session = Session(conditions=AudioPlaying(), methods=["screensaver"]).start()
        assert session.state == "holding"
        session.stop()
    assert threading.active_count() == threads
    assert len(os.listdir("/proc/self/fd")) == fds
    assert bus_env.nothing_held()
