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


@contextmanager
def native_stderr_silenced_python_kept():
    """For a long-running command (``monitor``): native code's lines on file descriptor 2
    (MediaPipe's LiteRT warnings, FFmpeg) go nowhere, while Python's own messages (warnings,
    ``spasm-cv: error``) still reach the terminal: ``sys.stderr`` writes to a copy of the
    original descriptor for the duration.

    Where ``sys.stderr`` is not the process's descriptor 2 (a notebook, a test capturing
    it), only the native side is silenced.
    """
    try:
        real = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        real = False
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    python_stderr = sys.stderr
    kept = os.fdopen(os.dup(saved), "w", buffering=1, errors="backslashreplace") if real else None
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        if kept is not None:
            sys.stderr = kept
        yield
    finally:
        if kept is not None:
            sys.stderr = python_stderr
            kept.close()
        os.dup2(saved, 2)
        os.close(saved)
