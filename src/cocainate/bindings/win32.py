"""kernel32 through ctypes: events, process handles, power requests, console control.

The one boundary to Windows; tests on other systems replace :func:`kernel32`'s object with
a fake of these methods. Failures leave as OSError or cocainate errors, translated here.
"""

import ctypes
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import MechanismError, ProcessNotFoundError, SessionError

WAIT_TIMEOUT = 0x102
WAIT_FAILED = 0xFFFFFFFF
INFINITE = 0xFFFFFFFF
SYNCHRONIZE = 0x00100000
PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
ERROR_INVALID_PARAMETER = 87
ERROR_ACCESS_DENIED = 5
POWER_REQUEST_CONTEXT_VERSION = 0
POWER_REQUEST_CONTEXT_SIMPLE_STRING = 0x1
POWER_REQUEST_DISPLAY_REQUIRED = 0
POWER_REQUEST_SYSTEM_REQUIRED = 1
ES_SYSTEM_REQUIRED = 0x00000001
ES_DISPLAY_REQUIRED = 0x00000002
ES_CONTINUOUS = 0x80000000
CTRL_C_EVENT, CTRL_BREAK_EVENT, CTRL_CLOSE_EVENT = 0, 1, 2
CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT = 5, 6


_INVALID_HANDLE = ctypes.c_void_p(-1).value
TH32CS_SNAPPROCESS = 0x2
MAX_PATH = 260


class _ProcessEntry(ctypes.Structure):
    # PROCESSENTRY32W
    _fields_ = [
        ("dwSize", ctypes.c_ulong),
        ("cntUsage", ctypes.c_ulong),
        ("th32ProcessID", ctypes.c_ulong),
        ("th32DefaultHeapID", ctypes.c_size_t),
        ("th32ModuleID", ctypes.c_ulong),
        ("cntThreads", ctypes.c_ulong),
        ("th32ParentProcessID", ctypes.c_ulong),
        ("pcPriClassBase", ctypes.c_long),
        ("dwFlags", ctypes.c_ulong),
        ("szExeFile", ctypes.c_wchar * MAX_PATH),
    ]


class _ReasonContext(ctypes.Structure):
    # REASON_CONTEXT with the simple-string member of its union.
    _fields_ = [
        ("Version", ctypes.c_ulong),
        ("Flags", ctypes.c_ulong),
        ("SimpleReasonString", ctypes.c_wchar_p),
    ]


class Kernel32:
    """The kernel32 calls cocainate makes, typed once."""

    def __init__(self) -> None:
        from ctypes import wintypes

        if not hasattr(ctypes, "WinDLL"):
            raise MechanismError("kernel32 exists only on Windows")
        k: Any = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
        handle = wintypes.HANDLE
        k.CreateEventW.restype = handle
        k.CreateEventW.argtypes = [ctypes.c_void_p, wintypes.BOOL, wintypes.BOOL, wintypes.LPCWSTR]
        k.SetEvent.argtypes = [handle]
        k.ResetEvent.argtypes = [handle]
        k.WaitForMultipleObjects.restype = wintypes.DWORD
        k.WaitForMultipleObjects.argtypes = [
            wintypes.DWORD,
            ctypes.POINTER(handle),
            wintypes.BOOL,
            wintypes.DWORD,
        ]
        k.OpenProcess.restype = handle
        k.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
        k.CloseHandle.argtypes = [handle]
        k.PowerCreateRequest.restype = handle
        k.PowerCreateRequest.argtypes = [ctypes.POINTER(_ReasonContext)]
        k.PowerSetRequest.argtypes = [handle, ctypes.c_int]
        k.PowerClearRequest.argtypes = [handle, ctypes.c_int]
        k.SetThreadExecutionState.restype = wintypes.DWORD
        k.SetThreadExecutionState.argtypes = [wintypes.DWORD]
        k.CreateToolhelp32Snapshot.restype = handle
        k.CreateToolhelp32Snapshot.argtypes = [wintypes.DWORD, wintypes.DWORD]
        k.Process32FirstW.argtypes = [handle, ctypes.POINTER(_ProcessEntry)]
        k.Process32NextW.argtypes = [handle, ctypes.POINTER(_ProcessEntry)]
        self._handler_type = ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.DWORD)  # type: ignore[attr-defined,unused-ignore]
        k.SetConsoleCtrlHandler.argtypes = [self._handler_type, wintypes.BOOL]
        self._k = k
        self._handle_type = handle

    def _error(self) -> "OSError":
        code = ctypes.get_last_error()  # type: ignore[attr-defined,unused-ignore]
        return OSError(None, ctypes.FormatError(code).strip(), None, code)  # type: ignore[attr-defined,unused-ignore]

    def create_event(self) -> int:
        event: int | None = self._k.CreateEventW(None, True, False, None)  # manual reset
        if not event:
            raise SessionError(f"CreateEventW failed: {self._error()}")
        return event

    def set_event(self, event: int) -> None:
        self._k.SetEvent(event)

    def reset_event(self, event: int) -> None:
        self._k.ResetEvent(event)

    def wait_any(self, handles: "Sequence[int]", ms: "int | None") -> "int | None":
        """The index of a signalled handle, or None when ``ms`` passed first."""
        array = (self._handle_type * len(handles))(*handles)
        result: int = self._k.WaitForMultipleObjects(
            len(handles), array, False, INFINITE if ms is None else ms
        )
        if result == WAIT_TIMEOUT:
            return None
        if result == WAIT_FAILED:
            raise SessionError(f"WaitForMultipleObjects failed: {self._error()}")
        return result

    def open_process(self, pid: int) -> int:
        access = SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION
        process: int | None = self._k.OpenProcess(access, False, pid)
        if not process:
            err = self._error()
            if err.winerror == ERROR_INVALID_PARAMETER:  # type: ignore[attr-defined,unused-ignore]
                raise ProcessNotFoundError(pid)
            raise SessionError(f"cannot watch process {pid}: {err.strerror}")
        return process

    def processes(self) -> "list[tuple[int, str]]":
        """Every process now, as (PID, the executable's file name)."""
        from ..errors import ConditionError

        snapshot: int | None = self._k.CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0)
        if not snapshot or snapshot == _INVALID_HANDLE:
            raise ConditionError(f"cannot list processes: {self._error().strerror}")
        out = []
        try:
            entry = _ProcessEntry()
            entry.dwSize = ctypes.sizeof(_ProcessEntry)
            more = self._k.Process32FirstW(snapshot, ctypes.byref(entry))
            while more:
                out.append((int(entry.th32ProcessID), str(entry.szExeFile)))
                more = self._k.Process32NextW(snapshot, ctypes.byref(entry))
        finally:
            self._k.CloseHandle(snapshot)
        return out

    def close_handle(self, handle: int) -> None:
        self._k.CloseHandle(handle)

    def power_request(self, reason: str, kinds: "Sequence[int]") -> int:
        """A power request carrying ``reason``, set for each of ``kinds``."""
        context = _ReasonContext(
            POWER_REQUEST_CONTEXT_VERSION, POWER_REQUEST_CONTEXT_SIMPLE_STRING, reason
        )
        request: int | None = self._k.PowerCreateRequest(ctypes.byref(context))
        if not request or request == _INVALID_HANDLE:
            raise MechanismError(f"PowerCreateRequest failed: {self._error().strerror}")
        for kind in kinds:
            if not self._k.PowerSetRequest(request, kind):
                err = self._error()
                self.power_clear(request, ())
                raise MechanismError(f"PowerSetRequest failed: {err.strerror}")
        return request

    def power_clear(self, request: int, kinds: "Sequence[int]") -> None:
        for kind in kinds:
            self._k.PowerClearRequest(request, kind)
        self._k.CloseHandle(request)

    def set_thread_execution_state(self, flags: int) -> int:
        """Set the calling thread's execution state; return the previous one. (It belongs
        to the thread, and ends with it.)"""
        previous: int = self._k.SetThreadExecutionState(flags)
        if not previous:
            raise OSError(None, "SetThreadExecutionState failed", None, 0)
        return previous

    def console_handler(self, callback: "Callable[[int], bool]") -> "Callable[[], None]":
        """Install ``callback`` for console control events; return its remover."""
        routine = self._handler_type(lambda event: bool(callback(event)))
        self._k.SetConsoleCtrlHandler(routine, True)

        def remove() -> None:
            self._k.SetConsoleCtrlHandler(routine, False)

        return remove


_kernel32: "Any" = None


def kernel32() -> "Any":
    """The kernel32 layer, created on first use; tests assign a fake to ``_kernel32``."""
    global _kernel32
    if _kernel32 is None:
        _kernel32 = Kernel32()
    return _kernel32
