"""The console script and ``python -m cocainate``: load the CLI inside a guard, so a Ctrl-C
that arrives while Python is still importing exits quietly (130) instead of printing a
traceback; nothing is held before the CLI runs."""

from __future__ import annotations


def main() -> int:
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        return 130
    return run()
