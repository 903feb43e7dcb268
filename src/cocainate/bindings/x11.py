"""A small X11 protocol client over a socket of our own, for the few requests cocainate makes.

Xlib would do, but it cannot be bounded: ``XOpenDisplay`` and every reply wait for ever on a
server that stopped answering, and a server that goes away ends the process through
Xlib's fatal I/O error handler. Speaking the protocol ourselves, every reply has a deadline,
the connection is an fd the session's reactor watches, and a server that goes away is an
end-of-file like any other. It loads no ctypes and no libX11 either.

Only what cocainate needs: connection setup (with MIT-MAGIC-COOKIE-1 from the Xauthority
file), QueryExtension, MIT-SCREEN-SAVER's QueryVersion and Suspend, DPMS's Capable, Info,
Enable and Disable, and GetInputFocus as a round trip, for the X11 mechanism; InternAtom,
GetProperty, ChangeWindowAttributes (the event mask) and PropertyNotify events, for the
fullscreen condition.
"""

import os
import socket
import struct
import sys
import time

from ..errors import MechanismError

TIMEOUT = 2.0
"""Seconds an X server has to accept us and to answer each request."""

_QUERY_EXTENSION = 98
_GET_INPUT_FOCUS = 43
_CHANGE_WINDOW_ATTRIBUTES = 2
_INTERN_ATOM = 16
_GET_PROPERTY = 20
_CW_EVENT_MASK = 0x800
PROPERTY_CHANGE_MASK = 0x400000
STRUCTURE_NOTIFY_MASK = 0x20000
PROPERTY_NOTIFY = 28
DESTROY_NOTIFY = 17
MAX_ERRORS = 64
"""Errors kept in :attr:`XConnection.errors` (the oldest go)."""


class XError(MechanismError):
    """The X server answered a request with an error."""


def _pad(n: int) -> int:
    return -n % 4


def _extra(header: bytes) -> int:
    """Bytes a packet carries past its first 32: a reply's and a GenericEvent's, by the
    length in their header; none for an error or another event."""
    kind = header[0]
    if kind == 1 or kind & 0x7F == 35:
        length: int = struct.unpack_from("<I", header, 4)[0]
        return 4 * length
    return 0


def _describe_error(packet: bytes) -> "tuple[int, str]":
    """An error packet's sequence number, and what it says."""
    code, sequence, _bad, minor, major = struct.unpack_from("<xBHIHB", packet)
    return sequence, f"the X server answered request {major}.{minor} with error {code}"


def parse_display(name: str) -> "tuple[str, int]":
    """``[host]:number[.screen]`` as (host, number); "" for a local display."""
    host, colon, rest = name.rpartition(":")
    number = rest.partition(".")[0]
    if not colon or not number.isascii() or not number.isdigit():
        raise MechanismError(f"DISPLAY {name!r} is not of the form [host]:number[.screen]")
    if host.startswith("/"):  # launchd's socket path on macOS: /private/tmp/.../org.xquartz:0
        return host + ":" + rest.partition(".")[0], -1
    return ("" if host in ("", "unix") else host), int(number)


def _connect(name: str, deadline: float) -> "socket.socket":
    host, number = parse_display(name)
    candidates: list[tuple[int, object]] = []
    if number < 0:
        candidates.append((socket.AF_UNIX, host))
    elif not host:
        path = f"/tmp/.X11-unix/X{number}"
        candidates.append((socket.AF_UNIX, path))
        if sys.platform.startswith("linux"):
            candidates.append((socket.AF_UNIX, "\0" + path))  # the abstract socket
    else:
        candidates.append((socket.AF_INET, (host, 6000 + number)))
    error: OSError | None = None
    for family, address in candidates:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            sock.connect(address)  # type: ignore[arg-type]
        except OSError as err:
            sock.close()
            error = err
            continue
        return sock
    reason = (error.strerror if error else None) or str(error)
    raise MechanismError(f"cannot connect to X display {name}: {reason}")


def _cookie(name: str) -> "tuple[bytes, bytes]":
    """The MIT-MAGIC-COOKIE-1 for display ``name`` from the Xauthority file, or none."""
    path = os.environ.get("XAUTHORITY") or os.path.join(os.path.expanduser("~"), ".Xauthority")
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 20)
    except OSError:
        return b"", b""
    host, number = parse_display(name)
    wanted_host = (host or socket.gethostname()).encode()
    wanted_number = str(number).encode()
    position = 0

    def field() -> bytes:
        nonlocal position
        (size,) = struct.unpack_from(">H", data, position)
        value = data[position + 2 : position + 2 + size]
        position += 2 + size
        return value

    try:
        while position < len(data):
            (family,) = struct.unpack_from(">H", data, position)
            position += 2
            address, number_field, auth_name, auth_data = field(), field(), field(), field()
            if number_field not in (wanted_number, b""):
                continue
            local = family == 256 and (address == wanted_host or not host)
            if (local or family == 65535) and auth_name == b"MIT-MAGIC-COOKIE-1":
                return auth_name, auth_data
    except struct.error:
        pass
    return b"", b""


class XConnection:
    """One connection to an X server; every request that has a reply waits at most
    ``timeout`` seconds for it."""

    def __init__(self, name: str, timeout: float = TIMEOUT) -> None:
        self.name = name
        self.timeout = timeout
        deadline = time.monotonic() + timeout
        self._sock = _connect(name, deadline)
        self._sequence = 0
        self._buffer = b""
        self.root = 0
        """The first screen's root window."""
        self.events: list[bytes] = []
        """Events that arrived while waiting for a reply, for :meth:`read_events`."""
        self.errors: list[str] = []
        """Errors the server sent for requests that have no reply, as they arrived."""
        try:
            self._setup(deadline)
        except BaseException:
            self._sock.close()
            raise
        self._sock.setblocking(False)

    def fileno(self) -> int:
        return self._sock.fileno()

    def _setup(self, deadline: float) -> None:
        auth_name, auth_data = _cookie(self.name)
        head = struct.pack("<cxHHHH2x", b"l", 11, 0, len(auth_name), len(auth_data))
        self._send(
            head
            + auth_name
            + b"\0" * _pad(len(auth_name))
            + auth_data
            + b"\0" * _pad(len(auth_data)),
            deadline,
        )
        status, reason_length, _major, _minor, extra = struct.unpack(
            "<BBHHH", self._read(8, deadline)
        )
        body = self._read(extra * 4, deadline)
        if status != 1:
            reason = body[:reason_length].decode("latin-1") if status == 0 else ""
            raise MechanismError(
                f"the X server at {self.name} refused us"
                + (f": {reason.strip()}" if reason.strip() else " (authorization required)")
            )
        if len(body) >= 32:  # the first screen's root, after the vendor and the formats
            vendor_length, formats = struct.unpack_from("<H", body, 16)[0], body[21]
            screens = 32 + vendor_length + _pad(vendor_length) + 8 * formats
            if len(body) >= screens + 4:
                (self.root,) = struct.unpack_from("<I", body, screens)

    def _send(self, data: bytes, deadline: float) -> None:
        self._sock.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            self._sock.sendall(data)
        except (TimeoutError, socket.timeout) as err:
            raise MechanismError(f"the X server at {self.name} did not read our request") from err
        except OSError as err:
            raise MechanismError(f"lost the X server at {self.name}: {err.strerror}") from err
        finally:
            self._sock.setblocking(False)

    def _read(self, size: int, deadline: float) -> bytes:
        while len(self._buffer) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise MechanismError(
                    f"the X server at {self.name} did not answer within {self.timeout:g} s"
                )
            self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(max(4096, size - len(self._buffer)))
            except (TimeoutError, socket.timeout):
                continue
            except OSError as err:
                raise MechanismError(f"lost the X server at {self.name}: {err.strerror}") from err
            finally:
                self._sock.setblocking(False)
            if not chunk:
                raise MechanismError(f"the X server at {self.name} closed the connection")
            self._buffer += chunk
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

    def send(self, request: bytes) -> int:
        """Send one request (its length already in it); its sequence number."""
        self._sequence = (self._sequence + 1) & 0xFFFF
        self._send(request, time.monotonic() + self.timeout)
        return self._sequence

    def reply(self, sequence: int) -> bytes:
        """The reply to request ``sequence`` (32 bytes and more), skipping events; an error
        for that request raises :class:`XError`."""
        deadline = time.monotonic() + self.timeout
        while True:
            packet = self._read(32, deadline)
            kind = packet[0]
            if kind == 0:  # an error
                seq, error = _describe_error(packet)
                if seq == sequence:
                    raise XError(error)
                self._error(error)
                continue
            packet += self._read(_extra(packet), deadline)
            if kind == 1 and struct.unpack_from("<H", packet, 2)[0] == sequence:
                return packet
            if kind != 1:
                self.events.append(packet)

    def _error(self, error: str) -> None:
        self.errors.append(error)
        del self.errors[:-MAX_ERRORS]

    def read_events(self) -> "list[bytes] | None":
        """Every event that has arrived, without waiting (errors go to :attr:`errors`);
        None once the server has gone."""
        while True:
            try:
                chunk = self._sock.recv(65536)
            except BlockingIOError:
                break
            except OSError:
                return None
            if not chunk:
                return None
            self._buffer += chunk
        events, self.events = self.events, []
        while len(self._buffer) >= 32:
            kind = self._buffer[0]
            size = 32 + _extra(self._buffer)
            if len(self._buffer) < size:
                break
            packet, self._buffer = self._buffer[:size], self._buffer[size:]
            if kind == 0:
                self._error(_describe_error(packet)[1])
            elif kind != 1:  # a late reply nobody waits for is dropped
                events.append(packet)
        return events

    def intern_atom(self, name: str) -> int:
        raw = name.encode()
        request = struct.pack(
            "<BBHH2x", _INTERN_ATOM, 0, 2 + (len(raw) + _pad(len(raw))) // 4, len(raw)
        )
        reply = self.call(request + raw + b"\0" * _pad(len(raw)))
        atom: int = struct.unpack_from("<I", reply, 8)[0]
        return atom

    def get_property(self, window: int, atom: int, length: int = 64) -> "tuple[int, ...] | None":
        """A window's property of 32-bit values (atoms, windows, cardinals), up to
        ``length`` of them; None when the window does not have it."""
        request = struct.pack("<BBHIIIII", _GET_PROPERTY, 0, 6, window, atom, 0, 0, length)
        reply = self.call(request)
        format_, count = reply[1], struct.unpack_from("<I", reply, 16)[0]
        if format_ != 32:
            return None
        return struct.unpack_from(f"<{count}I", reply, 32)

    def select_events(self, window: int, mask: int) -> None:
        """Set the events this client hears from ``window`` (no reply: an error for a
        window gone meanwhile lands in :attr:`errors`)."""
        self.send(
            struct.pack("<BxHIII", _CHANGE_WINDOW_ATTRIBUTES, 4, window, _CW_EVENT_MASK, mask)
        )

    def call(self, request: bytes) -> bytes:
        return self.reply(self.send(request))

    def sync(self) -> None:
        """A round trip: once it returns, the server has handled (or refused) every request."""
        self.call(struct.pack("<BxH", _GET_INPUT_FOCUS, 1))

    def extension(self, name: str) -> "int | None":
        """The major opcode of extension ``name``, or None if the server lacks it."""
        raw = name.encode()
        request = struct.pack(
            "<BxHH2x", _QUERY_EXTENSION, 2 + (len(raw) + _pad(len(raw))) // 4, len(raw)
        )
        reply = self.call(request + raw + b"\0" * _pad(len(raw)))
        present, major = struct.unpack_from("<BB", reply, 8)
        return major if present else None

    def drain(self) -> bool:
        """Read and drop whatever the server sent unasked (events); False once it has gone."""
        while True:
            try:
                chunk = self._sock.recv(4096)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not chunk:
                return False

    def close(self) -> None:
        self._sock.close()


class ScreenSaver:
    """MIT-SCREEN-SAVER and DPMS on one connection."""

    def __init__(self, connection: "XConnection") -> None:
        self.x = connection
        self.saver = connection.extension("MIT-SCREEN-SAVER")
        self.dpms = connection.extension("DPMS")

    def saver_version(self) -> "tuple[int, int] | None":
        if self.saver is None:
            return None
        reply = self.x.call(struct.pack("<BBHBB2x", self.saver, 0, 2, 1, 1))
        major, minor = struct.unpack_from("<HH", reply, 8)
        return major, minor

    def suspend(self, suspend: bool) -> None:
        assert self.saver is not None
        self.x.send(struct.pack("<BBHI", self.saver, 5, 2, int(suspend)))

    def dpms_enabled(self) -> "bool | None":
        """Whether DPMS is on; None where the server has no DPMS or the screen cannot."""
        if self.dpms is None:
            return None
        (capable,) = struct.unpack_from("<B", self.x.call(struct.pack("<BBH", self.dpms, 1, 1)), 8)
        if not capable:
            return None
        _level, state = struct.unpack_from(
            "<HB", self.x.call(struct.pack("<BBH", self.dpms, 7, 1)), 8
        )
        return bool(state)

    def dpms_set(self, enabled: bool) -> None:
        assert self.dpms is not None
        self.x.send(struct.pack("<BBH", self.dpms, 4 if enabled else 5, 1))
