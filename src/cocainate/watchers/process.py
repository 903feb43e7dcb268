"""``ProcessRunning``: met while a process known by one of the names runs.

On Linux a process is known by its kernel name (15 bytes of it), and by the file names of
its ``argv[0]`` and of its first later argument that does not start with "-", the script
an interpreter runs (:func:`names_of`); a name longer than 15 bytes must be whole in one
of those, or be its executable's (:func:`match`). On macOS and Windows, by the executable's.

While one runs, it is waited on with a pidfd (a kqueue on macOS, a process handle on
Windows), like ``-p``: nothing wakes until it exits. Then the process list is read again at
once, since others may have started meanwhile. While none runs, no OS tells us when one
starts (short of the kernel's proc connector, which needs privileges), so the list is read
every ``interval`` seconds: the one scan cocainate does, measured in docs/benchmarks.md.

A scan reads the names of the processes started since the last one (PIDs are handed out in
order, and /proc/loadavg names the last), and the whole list of PIDs only now and then;
each process's name is read once, when its PID is first seen, and kept. A process may
change its name by exec() (a shell script's last command), mostly right after it starts:
a process's name is read again at each scan while the process is younger than
:data:`YOUNG` seconds (its start time is in the same read), and every name again every
:data:`RENAME_EVERY` scans.
"""

import os
import sys
import time
from typing import TYPE_CHECKING, Any

from ..errors import CocainateError, ConditionError
from ..reactor import Source
from . import Watcher

if TYPE_CHECKING:
    from collections.abc import Iterable

YOUNG = 5.0
"""A process younger than this many seconds has its name read again at every scan."""
FULL_EVERY = 30
"""Every this many scans, the whole list of PIDs is read (the names of new ones only)."""
RENAME_EVERY = 300
"""Every this many scans (10 minutes at the default interval), every name is read again:
for a process that took its name by exec() when it was no longer young."""
MAX_NEW = 256
"""More PIDs than this handed out since the last scan: read the whole of /proc instead."""
COMM_LENGTH = 15
"""Linux keeps the first 15 bytes of a process's name (TASK_COMM_LEN - 1)."""


class ProcessWatcher(Watcher):
    def __init__(self, names: "tuple[str, ...]", interval: float) -> None:
        super().__init__()
        self.names = names
        self.interval = interval
        self._lister = _lister()
        self._watches: dict[int, tuple[Any, str]] = {}  # pid -> (its watch, the name matched)
        self._next_scan: float | None = None
        self._source = _ProcessesSource(self)
        self.detail = f"no {' or '.join(names)} runs"

    def open(self) -> "list[Source]":
        self.scan()
        return [self._source]

    def scan(self) -> None:
        """Read the process list; wait on every process that matches, or scan again later."""
        for pid, name in self._lister.matching(self.names):
            if pid in self._watches or pid == os.getpid():
                continue
            from ..bindings.process import has_exited, open_process

            try:
                watch = open_process(pid)
            except CocainateError:
                continue  # gone already, or not ours to watch
            if has_exited(watch):  # a zombie: its name stays listed until it is reaped
                watch.close()
                continue
            self._watches[pid] = (watch, name)
        self._update_from_watches()

    def exited(self) -> None:
        """A watched process may have exited: drop those that have; scan if none is left."""
        from ..bindings.process import has_exited

        gone = [pid for pid, (watch, _name) in self._watches.items() if has_exited(watch)]
        last = ""
        for pid in gone:
            watch, name = self._watches.pop(pid)
            watch.close()
            last = f"{name} exited (pid {pid})"
        if gone and not self._watches:
            self.scan()
            if not self._watches:
                self.detail = last
        else:
            self._update_from_watches()

    def _update_from_watches(self) -> None:
        self.met = bool(self._watches)
        if self.met:
            self._next_scan = None
            pid, (_watch, name) = next(iter(self._watches.items()))
            more = len(self._watches) - 1
            self.detail = f"{name} runs (pid {pid}" + (f" and {more} more)" if more else ")")
        else:
            self._next_scan = time.monotonic() + self.interval

    def close(self) -> None:
        watches, self._watches = self._watches, {}
        for watch, _name in watches.values():
            watch.close()
        self._next_scan = None


class _ProcessesSource(Source):
    def __init__(self, watcher: "ProcessWatcher") -> None:
        self._watcher = watcher

    def waitables(self) -> "list[int]":
        return [watch.fileno() for watch, _name in self._watcher._watches.values()]

    def when(self) -> "float | None":
        return self._watcher._next_scan

    def fire(self) -> bool:
        watcher = self._watcher
        if watcher._watches:
            watcher.exited()
        elif watcher._next_scan is not None and watcher._next_scan <= time.monotonic():
            watcher.scan()
        return True


def _lister() -> "Any":
    from ..bindings import waiting

    if waiting.WINDOWS:
        return _WindowsProcesses()
    if sys.platform.startswith("linux"):
        return _ProcProcesses()
    if sys.platform == "darwin":
        return _MacProcesses()
    raise ConditionError(f"watching for a process by name is not supported on {sys.platform} yet")


class _ProcProcesses:
    """The process list from /proc, each process's names read once per PID (see the module).

    A process's names (:func:`names_of`) are its name as the kernel keeps it (15 bytes of
    it), the file name of its ``argv[0]`` and of its first argument that does not start
    with ``-`` (the script an interpreter runs). PIDs are handed out in increasing order,
    and /proc/loadavg names the last one, so between two full reads of /proc only the PIDs
    handed out since need reading (a thread takes one too: it is read, and dropped when
    :func:`open_process` refuses it). A full read is made at the first scan, every
    :data:`FULL_EVERY` scans, when the PIDs wrapped around or more than :data:`MAX_NEW`
    were handed out since."""

    def __init__(self) -> None:
        # "pid" -> (its names, read again until)
        self._names: dict[str, tuple[tuple[bytes, ...], float]] = {}
        self._scans = 0
        self._last: int | None = None  # the last PID handed out, at the last scan
        self._tick = os.sysconf("SC_CLK_TCK")

    def matching(self, names: "Iterable[str]") -> "list[tuple[int, str]]":
        wanted = {os.fsencode(name): name for name in names}
        now = time.clock_gettime(time.CLOCK_BOOTTIME)  # the clock of a process's start time
        last, previous = _last_pid(), self._last
        rename = self._scans % RENAME_EVERY == 0
        full = (
            rename
            or self._scans % FULL_EVERY == 0
            or last is None
            or previous is None
            or not 0 <= last - previous <= MAX_NEW
        )
        self._scans += 1
        self._last = last
        known = self._names
        if full:
            try:
                pids = [entry for entry in os.listdir("/proc") if entry.isdigit()]
            except OSError as err:
                raise ConditionError(
                    f"cannot read the process list in /proc: {err.strerror}"
                ) from err
            fresh = {}  # PIDs gone are forgotten, so a reused one is read anew
        else:
            assert last is not None and previous is not None
            pids = [str(pid) for pid in range(previous + 1, last + 1)]
            pids += [pid for pid, (_names, young) in known.items() if now < young]
            fresh = known
        for pid in pids:
            seen = known.get(pid)
            if seen is None or rename or now < seen[1]:
                seen = self._read(pid)
                if seen is None:
                    fresh.pop(pid, None)
                    continue  # gone meanwhile
            fresh[pid] = seen
        self._names = fresh
        found = []
        for pid, (process_names, _young) in fresh.items():
            name = match(process_names, wanted, pid)
            if name is not None:
                found.append((int(pid), name))
        return found

    def _read(self, pid: str) -> "tuple[tuple[bytes, ...], float] | None":
        """A process's names, and until when it is young (its names read at every scan)."""
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read(CMDLINE_BYTES)
        except OSError:
            return None
        comm, _, rest = stat.partition(b" (")[2].rpartition(b") ")
        try:
            started = int(rest.split(None, 20)[19]) / self._tick  # field 22: starttime
        except (IndexError, ValueError):
            started = 0.0
        return names_of(comm, command), started + YOUNG


CMDLINE_BYTES = 4096
"""Bytes of a command line read: enough for the interpreter's options and a script's path."""


def names_of(comm: bytes, command: bytes) -> "tuple[bytes, ...]":
    """What a process is known by: its kernel name (``comm``, cut to 15 bytes), then the
    file name of ``argv[0]`` and of the first later argument that does not start with "-"
    (``python3 -u job.py``, ``sh job.sh``, a ``#!`` script: job.py, job.sh)."""
    found = [comm]
    words = command.split(b"\0")
    for word in (words[0], next((w for w in words[1:] if w and w[:1] != b"-"), b"")):
        base = os.path.basename(word)
        if base and base not in found:
            found.append(base)
    return tuple(found)


def match(process_names: "tuple[bytes, ...]", wanted: "dict[bytes, str]", pid: str) -> "str | None":
    """The wanted name this process is known by, or None. The kernel's 15 bytes match a
    name only as long as that; a longer name must be whole: a file name above, or else
    the process's executable's."""
    comm, *full = process_names
    for known in full:
        if known in wanted:
            return wanted[known]
    if len(comm) < COMM_LENGTH:
        return wanted.get(comm)
    for raw, name in wanted.items():
        if raw[:COMM_LENGTH] == comm and (len(raw) <= COMM_LENGTH or _executable(pid) == raw):
            return name
    return None


def _last_pid() -> "int | None":
    """The last PID handed out in this PID namespace (/proc/loadavg's last field)."""
    try:
        with open("/proc/loadavg", "rb") as f:
            return int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def _executable(pid: str) -> "bytes | None":
    """The file name of a process's executable, or None where it cannot be read."""
    try:
        return os.path.basename(os.readlink(f"/proc/{pid}/exe".encode()))
    except OSError:
        return None


class _MacProcesses:
    """The process list from libproc: all PIDs in one call, then the name of each new one
    (read again while it is new: younger than :data:`YOUNG` seconds by our clock)."""

    def __init__(self) -> None:
        self._names: dict[int, tuple[str, float]] = {}  # pid -> (its name, read again until)

    def matching(self, names: "Iterable[str]") -> "list[tuple[int, str]]":
        from ..bindings.libproc import libproc

        lib = libproc()
        wanted = set(names)
        now = time.monotonic()
        known, fresh = self._names, {}
        for pid in lib.pids():
            seen = known.get(pid)
            if seen is None or now < seen[1]:
                name = lib.name(pid)
                if name is None:
                    continue  # gone meanwhile
                seen = (name, seen[1] if seen is not None else now + YOUNG)
            fresh[pid] = seen
        self._names = fresh
        return [(pid, name) for pid, (name, _young) in fresh.items() if name in wanted]


class _WindowsProcesses:
    """The process list from a ToolHelp snapshot: each entry carries the executable's name."""

    def matching(self, names: "Iterable[str]") -> "list[tuple[int, str]]":
        from ..bindings.win32 import kernel32

        wanted = {}
        for name in names:
            key = name.lower()
            wanted[key] = name
            if not key.endswith(".exe"):
                wanted[key + ".exe"] = name
        return [
            (pid, wanted[exe.lower()])
            for pid, exe in kernel32().processes()
            if exe.lower() in wanted
        ]
