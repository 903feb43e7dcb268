"""``--detach``: hold in a process of its own, in the background, and return once the hold
is in place (or with the hold's own failure and exit status, had it none).

The process forks before anything is opened; the child leaves the terminal's session
(``setsid``: no SIGHUP when the terminal closes) and says what a hold says at its start
into a pipe; once the hold is in place it sends a NUL byte down that pipe and turns its
stdout and stderr to /dev/null. The parent copies what came, and exits 0 on the NUL, or
with the child's status on an end of file without it.
"""

import os
import sys

READY = b"\0"


class Detached:
    """The child's side: :meth:`ready` once the hold is in place."""

    def __init__(self) -> None:
        self.said = False

    def ready(self) -> None:
        if self.said:
            return
        self.said = True
        from .say import finish

        finish()  # what was said is sent, and the writers' own fds on the pipe closed
        try:
            os.write(1, f"{os.getpid()}".encode() + READY)
        except OSError:
            pass  # the parent is gone: nobody to tell
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)


def detach() -> "Detached | int":
    """Fork: in the child, a :class:`Detached`; in the parent, its exit status once the
    child holds (0; what it said, then its PID, on stdout) or has failed (the child's)."""
    from .options import EXIT_USAGE

    if not hasattr(os, "fork"):
        from .say import error

        error("--detach needs fork(), which Windows does not have (use 'start /b cocainate')")
        return EXIT_USAGE
    sys.stdout.flush()
    sys.stderr.flush()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.setsid()
        os.close(read)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(write, 1)
        os.dup2(write, 2)
        os.close(write)
        return Detached()
    os.close(write)
    got = bytearray()
    with os.fdopen(read, "rb") as pipe:
        while True:
            chunk = pipe.read1(65536) if hasattr(pipe, "read1") else pipe.read(65536)
            if not chunk:
                break
            got += chunk
    if READY in got:
        said = bytes(got).partition(READY)[0]  # the start line, then the child's PID
        sys.stdout.buffer.write(said + b"\n")
        sys.stdout.flush()
        return 0
    _, status = os.waitpid(pid, 0)
    sys.stderr.buffer.write(bytes(got))
    sys.stderr.flush()
    return os.waitstatus_to_exitcode(status)
