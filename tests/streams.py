"""A pipe nobody reads, for the tests and benchmarks/reliability.py."""

from __future__ import annotations

import os


def full_pipe() -> tuple[int, int]:
    """A pipe already full, which nobody will read: (read end, write end), blocking."""
    read, write = os.pipe()
    os.set_blocking(write, False)
    try:
        while True:
            os.write(write, b"x" * 65536)
    except BlockingIOError:
        pass
    os.set_blocking(write, True)  # as a shell hands it over: blocking
    return read, write
