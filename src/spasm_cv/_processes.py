"""Worker-process helpers shared by the parallel landmark stage and batch runs."""

from __future__ import annotations

import os
import threading
import time


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
