"""The console script and ``python -m cocainate``: load the CLI inside a guard, so a Ctrl-C
that arrives while Python is still importing exits quietly (130) instead of printing a
traceback; nothing is held before the CLI runs. (No imports here, not even __future__:
each one would widen the window.)

The cyclic garbage collector is paused until the hold is in place (the CLI resumes it):
start-up allocates much and frees little, and collections of the growing heap during the
imports cost several milliseconds before the first Inhibit."""

paused_gc = False


def main() -> int:
    global paused_gc
    try:
        import gc

        paused_gc = gc.isenabled()
        gc.disable()
        from .cli import main as run
    except KeyboardInterrupt:
        return 130
    return run()
