"""libproc through ctypes: the process list on macOS.

The one boundary to libproc; tests on other systems replace :func:`libproc`'s object with a
fake of these two methods.
"""

import ctypes
from typing import Any

from ..errors import ConditionError

_LIBPROC = "/usr/lib/libproc.dylib"
NAME_SIZE = 2 * 16 + 1  # 2 * MAXCOMLEN + 1: proc_name's longest answer, with its NUL


class LibProc:
    def __init__(self) -> None:
        try:
            lib: Any = ctypes.CDLL(_LIBPROC, use_errno=True)
        except OSError as err:
            raise ConditionError(f"cannot load libproc: {err}") from err
        lib.proc_listallpids.restype = ctypes.c_int
        lib.proc_listallpids.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.proc_name.restype = ctypes.c_int
        lib.proc_name.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint32]
        self._lib = lib
        self._name = ctypes.create_string_buffer(NAME_SIZE)

    def pids(self) -> "list[int]":
        """Every process's PID now."""
        count = self._lib.proc_listallpids(None, 0)
        while True:
            room = max(count, 0) + 64  # processes may start between the two calls
            buffer = (ctypes.c_int * room)()
            count = self._lib.proc_listallpids(buffer, ctypes.sizeof(buffer))
            if count < 0:
                raise ConditionError(f"cannot list processes: errno {ctypes.get_errno()}")
            if count < room:
                return [pid for pid in buffer[:count] if pid > 0]

    def name(self, pid: int) -> "str | None":
        """A process's name (its executable's, up to 32 bytes), or None if it is gone."""
        length = self._lib.proc_name(pid, self._name, NAME_SIZE)
        if length <= 0:
            return None
        return self._name.raw[:length].decode("utf-8", "replace")


_libproc: "Any" = None


def libproc() -> "Any":
    """The libproc layer, created on first use; tests assign a fake to ``_libproc``."""
    global _libproc
    if _libproc is None:
        _libproc = LibProc()
    return _libproc
