"""A stand-in X server on a real socket, for what Xvfb cannot show: DPMS (Xvfb has none),
an old MIT-SCREEN-SAVER, and a server that accepts and then never answers.

It speaks the X11 wire protocol (little-endian clients only) for the requests cocainate
makes: connection setup, QueryExtension, MIT-SCREEN-SAVER QueryVersion and Suspend, DPMS
Capable, Info, Enable and Disable, GetInputFocus. Everything else gets a BadRequest error,
as a real server answers an unknown request. Each request is recorded.

DISPLAY for it is ``{socket path}:0``, the form XQuartz uses for a socket path.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
from pathlib import Path

SAVER, DPMS = 130, 131  # the major opcodes it gives its extensions


class FakeXServer:
    def __init__(
        self,
        directory: Path,
        *,
        saver: tuple[int, int] | None = (1, 1),
        dpms: bool | None = True,
        answer: bool = True,
    ) -> None:
        self.path = str(directory / "X:0")
        self.display = self.path  # parse_display: "<path>:0" is a socket path
        self.saver, self.dpms = saver, dpms
        self.answer = answer  # False: accept, read, never reply (a hung server)
        self.calls: list[tuple[str, object]] = []
        self.connections: list[socket.socket] = []
        self.open = 0  # connections the client has not closed yet
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(8)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections.append(conn)
            self.open += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _serve(self, conn: socket.socket) -> None:
        try:
            head = self._read(conn, 12)
            _order, _major, _minor, name_len, data_len = struct.unpack("<cxHHHH2x", head)
            self._read(conn, (name_len + 3) // 4 * 4 + (data_len + 3) // 4 * 4)
            if not self.answer:
                while self._read(conn, 1):
                    pass
            conn.sendall(struct.pack("<BxHHH", 1, 11, 0, 0))  # success, no extra data
            sequence = 0
            while True:
                major, minor, length = struct.unpack("<BBH", self._read(conn, 4))
                body = self._read(conn, length * 4 - 4)
                sequence = (sequence + 1) & 0xFFFF
                reply = self._handle(major, minor, body)
                if reply is None:
                    continue
                if reply == b"error":
                    conn.sendall(struct.pack("<BBHIHB21x", 0, 1, sequence, 0, minor, major))
                    continue
                conn.sendall(struct.pack("<BBHI", 1, 0, sequence, 0) + reply.ljust(24, b"\0"))
        except (EOFError, OSError):
            pass
        finally:
            self.open -= 1
            conn.close()

    def _handle(self, major: int, minor: int, body: bytes) -> bytes | None:
        if major == 98:  # QueryExtension
            (size,) = struct.unpack_from("<H", body)
            name = body[4 : 4 + size].decode()
            self.calls.append(("QueryExtension", name))
            opcode = {"MIT-SCREEN-SAVER": SAVER if self.saver else 0}.get(name, 0)
            if name == "DPMS" and self.dpms is not None:
                opcode = DPMS
            return struct.pack("<BBBB", int(bool(opcode)), opcode, 0, 0)
        if major == 43:  # GetInputFocus
            return struct.pack("<I", 1)
        if major == SAVER and self.saver:
            if minor == 0:
                return struct.pack("<HH", *self.saver)
            if minor == 5:
                self.calls.append(("Suspend", struct.unpack("<I", body)[0]))
                return None
        if major == DPMS and self.dpms is not None:
            if minor == 1:
                return struct.pack("<B", 1)
            if minor == 7:
                return struct.pack("<HB", 0, int(self.dpms))
            if minor in (4, 5):
                self.dpms = minor == 4
                self.calls.append(("DPMS", self.dpms))
                return None
        return b"error"

    def close(self) -> None:
        self._listener.close()
        for conn in self.connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass
