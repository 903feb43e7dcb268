"""The console script and ``python -m cocainate``: load the CLI inside a guard, so a Ctrl-C
that arrives while Python is still importing exits quietly (130) instead of printing a
traceback; nothing is held before the CLI runs. (No imports here, not even __future__:
each one would widen the window.)"""


def main() -> int:
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        return 130
    return run()
