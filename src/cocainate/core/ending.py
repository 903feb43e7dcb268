"""How a session ended."""

import enum
import signal
from typing import NamedTuple, Optional


class EndReason(str, enum.Enum):
    """Why a session ended."""

    DURATION = "duration"
    UNTIL = "until"
    SIGNAL = "signal"
    PROCESS_EXIT = "process-exit"
    LOST = "lost"
    FAILED = "failed"
    CONDITION_LOST = "condition-lost"
    STOPPED = "stopped"


class Ended(NamedTuple):
    """How a session ended: the reason, and the signal or process it names."""

    reason: EndReason
    signal: Optional[int] = None  # real types, not strings: see mechanisms/__init__.py
    pid: Optional[int] = None

    def __str__(self) -> str:
        if self.reason is EndReason.SIGNAL and self.signal is not None:
            return f"signal {signal.Signals(self.signal).name}"
        if self.reason is EndReason.PROCESS_EXIT:
            return f"process {self.pid} exited"
        if self.reason is EndReason.DURATION:
            return "duration elapsed"
        if self.reason is EndReason.UNTIL:
            return "the time given came"
        if self.reason is EndReason.LOST:
            return "every mechanism was lost and none came back"
        if self.reason is EndReason.FAILED:
            return "nothing could be held when a condition called for it"
        if self.reason is EndReason.CONDITION_LOST:
            return "a condition could no longer be followed"
        return "stopped"
