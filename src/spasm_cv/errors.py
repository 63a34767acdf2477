"""The one exception type the command line turns into a one-line message."""


class SpasmCvError(Exception):
    """A problem the user can act on (bad input, missing model, ...).

    The CLI prints ``spasm-cv: error: <message>`` and exits non-zero, without a traceback.
    """
