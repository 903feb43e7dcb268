"""The command line: a thin layer over :class:`cocainate.Session`.

:mod:`.options` is its one table, which reads a command line that holds; :mod:`.parsing`
builds argparse's parser from it for everything else; :mod:`.run` runs a session or a
subcommand; :mod:`.say` writes without blocking; :mod:`.terminal`, :mod:`.command` and
:mod:`.status` serve a person at a terminal, ``-- COMMAND`` and ``cocainate status``.

:func:`main` is the console script and ``python -m cocainate``. It loads the rest inside a
guard, so a Ctrl-C that arrives while Python is still importing exits quietly (130)
instead of printing a traceback; nothing is held before the CLI runs. (No imports at the
top of this module: each would widen that window.)

The cyclic garbage collector is paused until the hold is in place, or until the command
ends otherwise (:func:`.run.main` resumes it): start-up, docs/benchmarks.md.
"""

TYPE_CHECKING = False  # not typing's: see above
if TYPE_CHECKING:
    from collections.abc import Sequence

paused_gc = False


def main(argv: "Sequence[str] | None" = None) -> int:
    global paused_gc
    try:
        import gc

        paused_gc = gc.isenabled()
        gc.disable()
        from .run import main as run
    except KeyboardInterrupt:
        return 130
    return run(argv)
