"""Worker-process helpers shared by the parallel landmark stage and batch runs."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def exit_with_parent(parent: int, every_s: float = 1.0) -> None:
    """End this worker process as soon as process ``parent`` is no longer its parent.

    A worker whose main process was killed would otherwise finish its task for nobody and
    then wait forever for the next. ``parent`` is the main process's pid, passed along (it
    may have died before the worker asks). Checked in a daemon thread every ``every_s``.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="spasm-cv-parent-watch").start()


def _raise_terminated(signum, frame) -> None:
    from spasm_cv.errors import Terminated

    raise Terminated


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`~spasm_cv.errors.Terminated` (a
    KeyboardInterrupt) in the main thread, so it stops a run as Ctrl-C does.

    A no-op outside the main thread (signal handlers can only be set there).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def raise_on_sigterm() -> None:
    """For worker processes: SIGTERM raises :class:`~spasm_cv.errors.Terminated` from now on."""
    signal.signal(signal.SIGTERM, _raise_terminated)


def capped_jobs(jobs: int) -> int:
    """``jobs`` worker processes, at most :func:`available_cores` (more only compete)."""
    return max(1, min(int(jobs), available_cores()))
