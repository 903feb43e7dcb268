"""IOKit and CoreFoundation through ctypes: power assertions on macOS.

The one boundary to IOKit; tests on other systems replace :func:`iokit`'s object with a
fake of these two methods.
"""

import ctypes
from typing import Any

from ..errors import MechanismError

_IOKIT = "/System/Library/Frameworks/IOKit.framework/IOKit"
_CORE_FOUNDATION = "/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation"
_UTF8 = 0x08000100  # kCFStringEncodingUTF8
ASSERTION_LEVEL_ON = 255  # kIOPMAssertionLevelOn


class IOKit:
    def __init__(self) -> None:
        try:
            io: Any = ctypes.CDLL(_IOKIT)
            cf: Any = ctypes.CDLL(_CORE_FOUNDATION)
        except OSError as err:
            raise MechanismError(f"cannot load IOKit: {err}") from err
        cf.CFStringCreateWithCString.restype = ctypes.c_void_p
        cf.CFStringCreateWithCString.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint32]
        cf.CFRelease.argtypes = [ctypes.c_void_p]
        io.IOPMAssertionCreateWithName.restype = ctypes.c_int32
        io.IOPMAssertionCreateWithName.argtypes = [
            ctypes.c_void_p,
            ctypes.c_uint32,
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_uint32),
        ]
        io.IOPMAssertionRelease.restype = ctypes.c_int32
        io.IOPMAssertionRelease.argtypes = [ctypes.c_uint32]
        self._io, self._cf = io, cf

    def create_assertion(self, kind: str, name: str) -> int:
        """IOPMAssertionCreateWithName(kind, on, name); the assertion's ID."""
        cf_kind = self._cf.CFStringCreateWithCString(None, kind.encode(), _UTF8)
        cf_name = self._cf.CFStringCreateWithCString(None, name.encode(), _UTF8)
        assertion = ctypes.c_uint32()
        try:
            status = self._io.IOPMAssertionCreateWithName(
                cf_kind, ASSERTION_LEVEL_ON, cf_name, ctypes.byref(assertion)
            )
        finally:
            self._cf.CFRelease(cf_name)
            self._cf.CFRelease(cf_kind)
        if status != 0:
            raise MechanismError(f"IOPMAssertionCreateWithName failed: IOReturn {status:#x}")
        return assertion.value

    def release_assertion(self, assertion: int) -> int:
        """IOPMAssertionRelease; the IOReturn (0 on success)."""
        status: int = self._io.IOPMAssertionRelease(assertion)
        return status


_iokit: "Any" = None


def iokit() -> "Any":
    global _iokit
    if _iokit is None:
        _iokit = IOKit()
    return _iokit
