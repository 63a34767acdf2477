"""Keeping native libraries' log chatter off the user's terminal."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager


@contextmanager
def native_stderr_silenced():
    """Silence C/C++ logging on file descriptor 2 (MediaPipe, FFmpeg print there).

    Python-level errors still propagate as exceptions with their messages.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (e.g. some notebook kernels)
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def silence_native_stderr() -> None:
    """Point file descriptor 2 at /dev/null for the rest of this process.

    For worker processes only: their results and errors travel back to the main process as
    return values and exceptions, so what reaches their stderr is native log chatter
    (MediaPipe's LiteRT warns now and then about input alignment, FFmpeg about streams).
    """
    try:
        sys.stderr.flush()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except (OSError, ValueError):
        pass
