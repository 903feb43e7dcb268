"""cocainate under fire: signals at random moments and during a slow release, services
that restart (once, or five times in a row), full pipes nobody reads, an X server that
never answers, random command lines, and a library session whose signal another thread
catches; counts what stayed held (must be 0), tracebacks (must be 0) and runs that ended
as documented (exit status, timing, one inhibit).

Starts its own private buses and services, like benchmarks/run.py, and prints a table.

    .venv-test/bin/python benchmarks/reliability.py [--runs 40] [--seed 1]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from run import Rig  # noqa: E402

from buses import StandIn, wait_until  # noqa: E402
from streams import full_pipe  # noqa: E402

COCAINATE = [sys.executable, "-m", "cocainate"]
SEEN: list[str] = []  # tracebacks in cocainate's code, printed after the table
SIGNALS = ["SIGINT", "SIGTERM", "SIGQUIT", "SIGHUP", "SIGKILL"]


def traceback_kind(err: str) -> str | None:
    """None, "ours" (a frame in cocainate's code) or "startup" (the interpreter's own
    start-up, before any cocainate code runs: site, runpy, the encodings)."""
    if "Traceback" not in err:
        return None
    return "ours" if "/cocainate/" in err else "startup"


def held(rig: Rig) -> int:
    count = sum(len(s.inhibitors()) for s in (rig.screensaver, rig.gnome, rig.power))
    logind = rig.system.call(
        "org.freedesktop.login1",
        "/org/freedesktop/login1",
        "org.freedesktop.login1.Manager",
        "ListInhibitors",
    )[0]
    return count + len(logind)


def settle(rig: Rig) -> int:
    """Inhibits still held once the services have had a second to notice anything."""
    try:
        wait_until(lambda: held(rig) == 0, 1.0)
    except AssertionError:
        pass
    return held(rig)


def signals(rig: Rig, runs: int, rng: random.Random) -> dict[str, int]:
    """One signal each run, at a random moment from 0 to 60 ms: often during start-up."""
    out = {"runs": 0, "injected": 0, "held": 0, "tracebacks": 0}
    for i in range(runs):
        name = SIGNALS[i % len(SIGNALS)]
        process = subprocess.Popen(
            COCAINATE, env=rig.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        time.sleep(rng.uniform(0, 0.06))
        process.send_signal(getattr(signal, name))
        _, err = process.communicate(timeout=30)
        out["runs"] += 1
        out["injected"] += 1
        count(out, err)
        out["held"] += settle(rig)
    return out


def count(out: dict[str, int], err: str) -> None:
    kind = traceback_kind(err)
    if kind == "ours":
        out["tracebacks"] += 1
        SEEN.append(err)
    elif kind == "startup":
        out["startup"] = out.get("startup", 0) + 1


def bursts(rig: Rig, runs: int, rng: random.Random) -> dict[str, int]:
    """Five signals in quick succession, during start-up, holding and release."""
    out = {"runs": 0, "injected": 0, "held": 0, "tracebacks": 0}
    for _ in range(runs):
        process = subprocess.Popen(
            COCAINATE, env=rig.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for _ in range(5):
            time.sleep(rng.uniform(0, 0.02))
            try:
                process.send_signal(getattr(signal, rng.choice(SIGNALS[:4])))
            except ProcessLookupError:
                break
            out["injected"] += 1
        _, err = process.communicate(timeout=30)
        out["runs"] += 1
        count(out, err)
        out["held"] += settle(rig)
    return out


def restarts(rig: Rig, runs: int) -> dict[str, int]:
    """The screensaver service restarts while cocainate holds: re-acquired within 1 s?"""
    out = {"runs": 0, "injected": 0, "held": 0, "tracebacks": 0, "healed": 0}
    for _ in range(runs):
        process = subprocess.Popen(
            [*COCAINATE, "-q"], env=rig.env, stderr=subprocess.PIPE, text=True
        )
        wait_until(lambda: rig.screensaver.inhibitors(), 10)
        rig.screensaver.stop()
        rig.screensaver = StandIn(rig.session, "screensaver")
        out["injected"] += 1
        try:
            wait_until(rig.screensaver.inhibitors, 1.0)
            out["healed"] += 1
        except AssertionError:
            pass
        process.terminate()
        _, err = process.communicate(timeout=30)
        out["runs"] += 1
        count(out, err)
        out["held"] += settle(rig)
    return out


def slow_release(rig: Rig, runs: int) -> dict[str, int]:
    """SIGTERM, then SIGINT three times while the release waits for an UnInhibit that never
    comes (1 s limit): the release must complete and the status stay 0."""
    rig.screensaver.stop()
    rig.screensaver = StandIn(rig.session, "screensaver", "--hang-release")
    out = {"runs": 0, "injected": 0, "held": 0, "tracebacks": 0, "status": 0}
    try:
        for _ in range(runs):
            rig.screensaver.reset()
            process = subprocess.Popen(
                [*COCAINATE, "--method", "screensaver"],
                env=rig.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            wait_until(rig.screensaver.inhibitors, 10)
            process.send_signal(signal.SIGTERM)
            wait_until(lambda: rig.screensaver.calls("UnInhibit"), 10)
            for _ in range(3):
                process.send_signal(signal.SIGINT)
                out["injected"] += 1
            _, err = process.communicate(timeout=30)
            out["runs"] += 1
            out["status"] += process.returncode == 0
            count(out, err)
            out["held"] += settle(rig)
    finally:
        rig.screensaver.stop()
        rig.screensaver = StandIn(rig.session, "screensaver")
    return out


def full_pipes(rig: Rig, runs: int) -> dict[str, int]:
    """stdout and stderr full pipes that nobody reads: -d 300ms must still end the session
    and release within 0.3 s of its time."""
    out = {"runs": 0, "injected": 0, "held": 0, "tracebacks": 0, "status": 0}
    for _ in range(runs):
        read_out, write_out = full_pipe()
        read_err, write_err = full_pipe()
        rig.screensaver.reset()
        try:
            process = subprocess.Popen(
                [*COCAINATE, "-v", "-d", "300ms"], env=rig.env, stdout=write_out, stderr=write_err
            )
            process.wait(timeout=30)
            inhibit = rig.screensaver.calls("Inhibit")[-1][1]
            released = rig.screensaver.calls("UnInhibit")[-1][1]
        finally:
            for fd in (read_out, write_out, read_err, write_err):
                os.close(fd)
        out["runs"] += 1
        out["injected"] += 2
        out["status"] += process.returncode == 0 and released - inhibit - 0.3 < 0.3
        out["held"] += settle(rig)
    return out


def frozen_x(rig: Rig, runs: int) -> dict[str, int]:
    """An X server that accepts and never answers: x11 must fail alone (2 s), the D-Bus
    mechanisms hold, and -d 100ms ends the session."""
    from xserver import FakeXServer

    server = FakeXServer(Path(tempfile.mkdtemp(prefix="cocainate-x-")), answer=False)
    out = {"runs": 0, "injected": 0, "held": 0, "tracebacks": 0, "status": 0}
    try:
        for _ in range(runs):
            result = subprocess.run(
                [*COCAINATE, "-v", "-d", "100ms"],
                env=dict(rig.env, DISPLAY=server.display),
                capture_output=True,
                text=True,
                timeout=30,
            )
            out["runs"] += 1
            out["injected"] += 1
            out["status"] += result.returncode == 0 and "x11 [X11 MIT-SCREEN-SAVER]: not held" in (
                result.stderr
            )
            count(out, result.stderr)
            out["held"] += settle(rig)
    finally:
        server.close()
    return out


def restart_storm(rig: Rig, runs: int) -> dict[str, int]:
    """The screensaver restarts five times in a row while held: exactly one inhibit must
    end up on the instance that runs last, and one UnInhibit reach it at the end."""
    out = {"runs": 0, "injected": 0, "held": 0, "tracebacks": 0, "status": 0}
    for _ in range(runs):
        process = subprocess.Popen(
            [*COCAINATE, "-q"], env=rig.env, stderr=subprocess.PIPE, text=True
        )
        wait_until(lambda: rig.screensaver.inhibitors(), 10)
        for _ in range(5):
            rig.screensaver.stop()
            rig.screensaver = StandIn(rig.session, "screensaver")
            out["injected"] += 1
        try:
            wait_until(rig.screensaver.inhibitors, 2.0)
        except AssertionError:
            pass
        one = len(rig.screensaver.calls("Inhibit")) == 1
        process.terminate()
        _, err = process.communicate(timeout=30)
        out["runs"] += 1
        out["status"] += one and len(rig.screensaver.calls("UnInhibit")) == 1
        count(out, err)
        out["held"] += settle(rig)
    return out


def slow_storm(rig: Rig, runs: int, rng: random.Random) -> dict[str, int]:
    """The screensaver restarts eight times in a row while held, each instance answering its
    first calls 2.5 s late (past the 2 s a call is given) or refusing them: exactly one
    inhibit must end up on the instance that runs last, and the session must hold it."""
    out = {"runs": 0, "injected": 0, "held": 0, "tracebacks": 0, "status": 0}
    for _ in range(runs):
        process = subprocess.Popen(
            [*COCAINATE, "-q"], env=rig.env, stderr=subprocess.PIPE, text=True
        )
        wait_until(lambda: rig.screensaver.inhibitors(), 10)
        for _ in range(8):
            rig.screensaver.stop()
            how = rng.choice([["--slow-first", "2", "2.5"], ["--refuse-first", "2"], []])
            rig.screensaver = StandIn(rig.session, "screensaver", *how)
            out["injected"] += 1
        time.sleep(8)  # every late answer and every retry has come by now
        one = len(rig.screensaver.inhibitors()) == 1
        process.terminate()
        _, err = process.communicate(timeout=30)
        out["runs"] += 1
        out["status"] += one and not rig.screensaver.inhibitors()
        count(out, err)
        out["held"] += settle(rig)
    return out


def other_thread(rig: Rig, runs: int, rng: random.Random) -> dict[str, int]:
    """A library session waiting in the main thread, and the signal caught by another
    thread at a random moment: SIGTERM with handle_signals, else SIGINT (KeyboardInterrupt).
    As documented: the wait ends within 1 s, for the signal, and nothing stays held."""
    import threading

    from cocainate import EndReason, Session

    os.environ.update(
        DBUS_SESSION_BUS_ADDRESS=rig.session.address, DBUS_SYSTEM_BUS_ADDRESS=rig.system.address
    )
    out = {"runs": 0, "injected": 0, "held": 0, "tracebacks": 0, "status": 0}
    for i in range(runs):
        handled = i % 2 == 0
        signum = signal.SIGTERM if handled else signal.SIGINT
        delay = rng.uniform(0, 0.02)  # a random moment, not synchronisation
        session = Session(handle_signals=handled, methods=["screensaver"]).start()

        def catch(delay: float = delay, signum: int = signum) -> None:
            time.sleep(delay)
            signal.pthread_kill(threading.get_ident(), signum)

        began = time.monotonic()
        ok = False
        thread = threading.Thread(target=catch)
        try:
            thread.start()
            ended = session.wait(timeout=5)
            ok = ended is not None and ended.reason is EndReason.SIGNAL
        except KeyboardInterrupt:
            ok = not handled
        finally:
            thread.join()
            session.stop()
        out["runs"] += 1
        out["injected"] += 1
        out["status"] += ok and time.monotonic() - began < 1.0
        out["held"] += settle(rig)
    return out


def fuzz(rig: Rig, runs: int, rng: random.Random) -> dict[str, int]:
    """Random command lines from the option table's flags and subcommands and a few values,
    in one process; each ends at once (-d 1ms comes last)."""
    from cocainate.cli import run as cli

    os.environ.update(
        DBUS_SESSION_BUS_ADDRESS=rig.session.address, DBUS_SYSTEM_BUS_ADDRESS=rig.system.address
    )
    from cocainate.cli.options import OPTIONS, SUBCOMMANDS

    tokens = [flag for option in OPTIONS for flag in option.flags]
    tokens += [sub.name for sub in SUBCOMMANDS]
    tokens += ["1h", "-5s", "abc", "0", "1", "system", "bright", "logind", "nope"]
    tokens += ["\n", "é", "--x", "", "25:00", "1e400h"]
    out = {"runs": 0, "injected": 0, "held": 0, "tracebacks": 0}
    for _ in range(runs):
        argv = [rng.choice(tokens) for _ in range(rng.randint(0, 6))] + ["-d", "1ms"]
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                cli.main(argv)
            except SystemExit:
                pass
            except BaseException:
                out["tracebacks"] += 1
        out["runs"] += 1
        out["injected"] += 1
        out["tracebacks"] += "Traceback" in err.getvalue()
    out["held"] = settle(rig)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", help="run only the campaigns whose name contains this")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rig = Rig(Path(tempfile.mkdtemp(prefix="cocainate-reliability-")))
    try:
        campaigns = [
            (
                "one signal at a random moment (INT, TERM, QUIT, HUP, KILL)",
                lambda: signals(rig, args.runs * 5, rng),
            ),
            ("bursts of 5 signals (INT, TERM, QUIT, HUP)", lambda: bursts(rig, args.runs, rng)),
            ("the screensaver service restarts while held", lambda: restarts(rig, args.runs)),
            ("random command lines, in-process", lambda: fuzz(rig, args.runs * 50, rng)),
            (
                "SIGINT three times during a release that waits 1 s",
                lambda: slow_release(rig, args.runs),
            ),
            (
                "stdout and stderr full pipes nobody reads, -d 300ms",
                lambda: full_pipes(rig, args.runs),
            ),
            (
                "an X server that accepts and never answers",
                lambda: frozen_x(rig, max(1, args.runs // 4)),
            ),
            (
                "the screensaver restarts 5 times in a row while held",
                lambda: restart_storm(rig, args.runs),
            ),
            (
                "the screensaver restarts 8 times while held, instances slow or refusing at first",
                lambda: slow_storm(rig, max(1, args.runs // 4), rng),
            ),
            (
                "library: the signal caught by another thread while the main thread waits",
                lambda: other_thread(rig, args.runs * 5, rng),
            ),
        ]
        rows = [(name, run()) for name, run in campaigns if (args.only or "") in name]
    finally:
        rig.close()
    print(f"cocainate reliability: seed {args.seed}, Python {sys.version.split()[0]}")
    print()
    print(
        "| campaign | runs | faults, signals or inputs | held after | tracebacks in cocainate"
        " | tracebacks in the interpreter's start-up | healed | as documented |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, r in rows:
        healed = f"{r['healed']}/{r['injected']} within 1 s" if "healed" in r else "-"
        status = f"{r['status']}/{r['runs']}" if "status" in r else "-"
        print(
            f"| {name} | {r['runs']} | {r['injected']} | {r['held']} | {r['tracebacks']}"
            f" | {r.get('startup', 0)} | {healed} | {status} |"
        )
    for err in SEEN:
        print("\n" + err)


if __name__ == "__main__":
    main()
