"""``AudioPlaying``: met while an output stream plays through PulseAudio, or through
PipeWire's PulseAudio server.

A stream plays while it is not corked (paused), not muted and not at zero volume, and its
application is not one the user ignores. The streams are read once at start and again after
each of the server's events on them (its subscription to sink inputs); nothing is polled.

The client is pulsectl, a binding to libpulse (the ``audio`` extra). libpulse runs a main
loop of its own and pulsectl gives its file descriptors to no other loop, so this watcher
keeps one thread: it connects, sleeps in libpulse's poll, which only the server's events
end, reads the streams, and hands what it found to the session through a pipe. The start
waits for its first look at most :data:`CONNECT_TIMEOUT` (pulsectl's own connect bound
would wait all of it even once connected: 2 s per start, measured). The session never
waits for it: what the thread found is read under a lock held for an assignment. Its calls
to the server are bounded by libpulse's own reply timeout (30 s, measured on PulseAudio 16
with the server stopped mid-call). Closing asks it to stop (``event_listen_stop``, again
until it has left, at most :data:`CLOSE_WAIT`); it closes its connection itself, on its way
out, so a thread held by a server that stopped answering mid-call leaves when libpulse
gives up, after the session has let go.
"""

import os
import threading
import time
from typing import TYPE_CHECKING, Any

from ..errors import ConditionError
from . import ConnectionSource, Watcher

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..reactor import Source

CONNECT_TIMEOUT = 2.0
"""Seconds the sound server has, at start, to answer and say what plays."""
CLOSE_WAIT = 2.0
"""Seconds closing waits for the thread to leave (it leaves in well under one)."""
FIRST_RETRY, LAST_RETRY = 1.0, 30.0
"""Seconds before reconnecting to a server that went away, doubling up to the last."""
NOBODY = "no audio plays"


def playing(streams: "Iterable[Any]", ignore: "frozenset[str]") -> "list[str]":
    """The applications of ``streams`` (pulsectl's sink inputs) that play: not corked,
    not muted, not at zero volume, not ignored (by application name or executable, in
    any case); sorted, each once."""
    found: set[str] = set()
    for stream in streams:
        if stream.corked or stream.mute or max(stream.volume.values, default=0.0) <= 0:
            continue
        props = stream.proplist
        name = str(props.get("application.name") or stream.name or "an application")
        binary = str(props.get("application.process.binary") or "")
        if name.casefold() in ignore or binary.casefold() in ignore:
            continue
        found.add(name)
    return sorted(found)


def say(names: "list[str]") -> str:
    if not names:
        return NOBODY
    return f"{', '.join(names)} {'plays' if len(names) == 1 else 'play'} audio"


class AudioWatcher(Watcher):
    def __init__(self, ignore: "Iterable[str]" = ()) -> None:
        super().__init__()
        self.detail = NOBODY
        self._ignore = frozenset(name.casefold() for name in ignore)
        self._lock = threading.Lock()  # guards the three below; held for assignments only
        self._found: tuple[bool, str, str | None] | None = None  # met, detail, a problem
        self._pulse: Any = None  # the thread's connection, while it is open
        self._pipe: tuple[int, int] | None = None
        self._stopping = threading.Event()  # close(), under the lock; ends a reconnect wait
        self._first = threading.Event()  # the thread's first look, or why it could not
        self._failed = ""
        self._thread: threading.Thread | None = None

    def open(self) -> "list[Source]":
        try:
            import pulsectl
        except ImportError:
            raise ConditionError(
                "following audio needs pulsectl: pip install 'cocainate[audio]'"
            ) from None
        except OSError as err:  # pulsectl loads libpulse as it is imported
            raise ConditionError(f"following audio needs libpulse: {err}") from None
        read, write = os.pipe()
        for fd in (read, write):
            os.set_blocking(fd, False)
        self._pipe = (read, write)
        # The thread connects: pulsectl's connect() has no bound of its own that does not
        # also wait out the whole bound once connected, so the bound is this wait.
        self._thread = threading.Thread(
            target=self._run, args=(pulsectl,), name="cocainate-audio", daemon=True
        )
        self._thread.start()
        answered = self._first.wait(CONNECT_TIMEOUT)
        if not answered or self._failed:
            self.close()
            why = self._failed or (f"the sound server did not answer within {CONNECT_TIMEOUT:g} s")
            raise ConditionError(f"cannot follow audio: {why}")
        self.take()
        return [ConnectionSource(self.fileno, self.take)]

    def close(self) -> None:
        with self._lock:  # not between _adopt()'s look and its assignment
            self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            give_up = time.monotonic() + CLOSE_WAIT
            while thread.is_alive() and time.monotonic() < give_up:
                with self._lock:  # never on a connection the thread has closed
                    if self._pulse is not None:
                        self._pulse.event_listen_stop()
                thread.join(0.05)  # a stop asked just before it listens is not seen
        with self._lock:  # a thread that did not leave in time writes to it no more
            pipe, self._pipe = self._pipe, None
        if pipe is not None:
            for fd in pipe:
                os.close(fd)

    # -- the session's side --------------------------------------------------------------

    def fileno(self) -> "int | None":
        return self._pipe[0] if self._pipe is not None else None

    def take(self) -> bool:
        """Take what the thread found last (the pipe only says that there is something);
        False once closed."""
        if self._pipe is None:
            return False
        try:
            while os.read(self._pipe[0], 512):
                pass
        except BlockingIOError:
            pass
        with self._lock:
            found, self._found = self._found, None
        if found is not None:
            self.met, self.detail, problem = found
            if problem is not None:
                self.report(problem, False)
        return True

    # -- the thread's side ---------------------------------------------------------------

    def _connect(self, pulsectl: "Any") -> "Any":
        """A connection subscribed to the streams' events; ConditionError if none."""
        pulse = pulsectl.Pulse("cocainate", connect=False)
        try:
            pulse.connect()  # a refusal or a missing socket fails at once
            pulse.event_mask_set("sink_input")
        except Exception as err:
            pulse.close()
            raise ConditionError("no PulseAudio or PipeWire sound server is running") from err

        def changed(_event: "Any") -> None:
            raise pulsectl.PulseLoopStop  # read the streams, outside libpulse's callback

        pulse.event_callback_set(changed)
        return pulse

    def _look(self, pulse: "Any") -> "tuple[bool, str]":
        names = playing(pulse.sink_input_list(), self._ignore)
        return bool(names), say(names)

    def _hand_over(self, met: bool, detail: str, problem: "str | None" = None) -> None:
        with self._lock:
            self._found = (met, detail, problem)
            if self._pipe is not None:
                try:
                    os.write(self._pipe[1], b"!")
                except OSError:
                    pass  # full: it is readable already

    def _run(self, pulsectl: "Any") -> None:
        pulse = None
        try:
            try:
                pulse = self._adopt(self._connect(pulsectl))
                if pulse is None:
                    return
                self._hand_over(*self._look(pulse))
            except Exception as err:  # ConditionError, or a first look that failed
                self._failed = str(err) if isinstance(err, ConditionError) else repr(err)
                return
            finally:
                self._first.set()
            while not self._stopping.is_set():
                try:
                    pulse.event_listen()  # until an event on the streams, or a stop
                    if self._stopping.is_set():
                        break
                    self._hand_over(*self._look(pulse))
                except Exception:  # the server went (PulseDisconnected, or a failed call)
                    self._drop(pulse)
                    self._hand_over(False, NOBODY, "the sound server has gone; waiting for it")
                    pulse = self._reconnect(pulsectl)
                    if pulse is None:
                        return
                    self._hand_over(*self._look(pulse))
        except Exception as err:  # a server that answers wrongly: nothing is followed
            self._hand_over(False, NOBODY, f"stopped following audio: {err}")
        finally:
            self._drop(pulse)

    def _adopt(self, pulse: "Any") -> "Any":
        """Make ``pulse`` the connection close() can stop; None (and closed) if closing."""
        with self._lock:
            if not self._stopping.is_set():
                self._pulse = pulse
                return pulse
        pulse.close()
        return None

    def _drop(self, pulse: "Any") -> None:
        with self._lock:
            if self._pulse is pulse:
                self._pulse = None
        if pulse is not None:
            pulse.close()

    def _reconnect(self, pulsectl: "Any") -> "Any":
        """A new connection once the server is back (None: closed meanwhile)."""
        delay = FIRST_RETRY
        while not self._stopping.wait(delay):
            try:
                pulse = self._connect(pulsectl)
            except ConditionError:
                delay = min(delay * 2, LAST_RETRY)
                continue
            return self._adopt(pulse)
        return None
