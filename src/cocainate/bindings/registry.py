"""Who of this user's processes holds what nobody else can list: cocainate's own registry.

An X server cannot say who suspended its screensaver, and a Wayland compositor cannot list
its idle inhibitors; the D-Bus services can. So a session holding ``x11`` or ``wayland``
leaves a small JSON file, one per session, in ``$XDG_RUNTIME_DIR/cocainate`` (else
``/tmp/cocainate-UID``), for ``cocainate status``:

- written whole (a temporary file renamed over it) when the hold is in place, again when
  it changes (lost, reacquired), and removed when the session lets go; no descriptor is
  kept open in between;
- never trusted blindly: a reader skips, and removes, a file whose process is gone or
  whose process start time differs (a PID reused after a ``kill -9``);
- best effort: a directory that is not this user's private directory (a symlink, another
  owner, group- or world-writable) is not used, and no failure here ever fails a session.
"""

import json
import os
import sys
import time
from typing import Any

_counter = 0


def directory() -> "str | None":
    """This user's registry directory, made if missing; None if none can be had safely."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    uid = os.getuid() if hasattr(os, "getuid") else 0
    path = (
        os.path.join(runtime, "cocainate")
        if runtime and os.path.isabs(runtime)
        else os.path.join("/tmp", f"cocainate-{uid}")
    )
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        st = os.lstat(path)
    except OSError:
        return None
    import stat

    private = stat.S_ISDIR(st.st_mode) and st.st_uid == uid and not st.st_mode & 0o022
    return path if private else None


def _stat(pid: int) -> "list[bytes]":
    """The fields of /proc/PID/stat after the command name (Linux), or [] where unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return []


def start_time(pid: int) -> "str | None":
    """The process's start time in clock ticks since boot (Linux), or None where unknown:
    with the PID, it names one process even after the PID is reused."""
    return _start_time(_stat(pid))


def _start_time(fields: "list[bytes]") -> "str | None":
    return fields[19].decode() if len(fields) > 19 else None


class Record:
    """One session's file in the registry; made by :meth:`create`, owned by the session."""

    def __init__(self, path: str, content: "dict[str, Any]") -> None:
        self.path = path
        self.content = content  # its "pid" is the process that made it

    @classmethod
    def create(cls, holding: "tuple[str, ...]", mode: str, reason: str) -> "Record | None":
        """A record of what this session holds, or None when the registry is not usable."""
        global _counter
        folder = directory()
        if folder is None:
            return None
        _counter += 1
        pid = os.getpid()
        path = os.path.join(folder, f"{pid}.{_counter}.json")
        content = {
            "pid": pid,
            "start_time": start_time(pid),
            "since": time.time(),
            "holding": list(holding),
            "mode": mode,
            "reason": reason,
            "program": _program()[:200],
        }
        record = cls(path, content)
        return record if record._write() else None

    def update(self, holding: "tuple[str, ...]") -> None:
        if list(holding) != self.content["holding"]:
            self.content["holding"] = list(holding)
            self._write()

    def remove(self) -> None:
        """Remove the file; in a child made by fork() leave it (it is the parent's)."""
        if os.getpid() != self.content["pid"]:
            return
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def _write(self) -> bool:
        temporary = f"{self.path}.tmp"
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW, 0o600)
            try:
                os.write(fd, json.dumps(self.content).encode())
            finally:
                os.close(fd)
            os.replace(temporary, self.path)
        except OSError:
            return False
        return True


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _program() -> str:
    """The command line, as a person would know it (``cocainate ...`` under ``-m`` too)."""
    argv = list(sys.argv) or [""]
    name = os.path.basename(argv[0])
    if name == "__main__.py":
        name = os.path.basename(os.path.dirname(argv[0]))
    return " ".join([name, *argv[1:]])


MAX_RECORD = 64 * 1024
"""Bytes of a record read at most: ours are a few hundred."""
PID_MAX = 4 * 1024 * 1024
"""The largest PID any kernel hands out (Linux's pid_max is at most 2**22)."""


def records() -> "list[dict[str, Any]]":
    """The live records of this user's sessions, oldest first; stale files are removed.
    Whatever else is there (a FIFO, a device, a directory, a huge or deeply nested file,
    values out of range) is skipped: nothing in the directory can hang or fail a reader."""
    folder = directory()
    if folder is None:
        return []
    found = []
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    for name in names:
        path = os.path.join(folder, name)
        if not name.endswith(".json"):
            continue
        content = _load(path)
        if content is None:
            continue  # being written, or not ours to judge
        if not _alive(content["pid"], content.get("start_time")):
            try:
                os.unlink(path)
            except OSError:
                pass
            continue
        found.append(content)
    return sorted(found, key=lambda c: float(c["since"]))


def _load(path: str) -> "dict[str, Any] | None":
    """A record that a session of ours could have written, or None: a regular file, opened
    without blocking or following a link, read up to :data:`MAX_RECORD`, whose values have
    the types and ranges :meth:`Record.create` gives them."""
    import math
    import stat

    try:
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        fd = os.open(path, flags | _NOFOLLOW)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        raw = os.read(fd, MAX_RECORD + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(raw) > MAX_RECORD:
        return None
    try:
        content = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(content, dict):
        return None
    pid, since, holding = content.get("pid"), content.get("since"), content.get("holding")
    if type(pid) is not int or not 0 < pid <= PID_MAX:
        return None
    if not isinstance(since, (int, float)) or isinstance(since, bool):
        return None
    if not math.isfinite(since) or not 0 <= since < 2**33:  # up to the year 2242
        return None
    if not isinstance(holding, list) or not all(isinstance(h, str) for h in holding):
        return None
    if not all(isinstance(content.get(k, ""), str) for k in ("reason", "mode", "program")):
        return None
    started = content.get("start_time")
    if started is not None and not isinstance(started, str):
        return None
    return content


def _alive(pid: int, started: object) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists; another user's (not in a private directory, but still)
    except OSError:
        return False
    fields = _stat(pid)
    if not fields:
        return True  # no /proc here: the PID's existence is all there is to know
    if fields[0] in (b"Z", b"X"):
        return False  # killed, not yet reaped
    return started is None or _start_time(fields) == started
