"""The one exception type the command line turns into a one-line message."""


class SpasmCvError(Exception):
    """A problem the user can act on (bad input, missing model, ...).

    The CLI prints ``spasm-cv: error: <message>`` and exits non-zero, without a traceback.
    """


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C's KeyboardInterrupt.

    Service managers, ``timeout`` and cluster schedulers stop a program with SIGTERM: it takes
    the same path as Ctrl-C (what was measured is kept as a partial result), only the reason
    recorded and the exit status (143) differ.
    """


def interrupt_reason(exc: BaseException | None) -> str:
    """Why a run stopped early, as summary.json records it (``SIGTERM`` or ``Ctrl-C``)."""
    return "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C"


def interrupt_exit_code(exc: BaseException | None) -> int:
    """The shell's exit status for a run stopped by ``exc``: 143 for SIGTERM, else 130."""
    return 143 if isinstance(exc, Terminated) else 130
