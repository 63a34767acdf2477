"""One export at a time into a BIDS dataset: an advisory lock file inside the dataset.

Appending runs reads the dataset (the runs taken, ``scans.tsv``) and then writes into it;
two exports doing so at once would both take the same run number. :func:`dataset_lock`
holds an exclusive ``flock`` on ``<dataset>/.spasm-cv.lock`` while a dataset is written; a
second export into the same dataset meanwhile is refused with one line. The lock file stays
(removing it would let a third export lock a new file while the second still holds the
old one); BIDS tools ignore hidden files. The lock is released by the system when the
process ends, even when it is killed. Where ``fcntl`` is missing (Windows) nothing is
locked.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from spasm_cv.errors import SpasmCvError
from spasm_cv.results.outputs import os_reason

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".spasm-cv.lock"


@contextlib.contextmanager
def dataset_lock(root: Path) -> Iterator[None]:
    """Hold the dataset ``root`` (an existing folder) for writing within the block.

    Raises
    ------
    SpasmCvError
        Another process holds the dataset, or the lock file cannot be made (a link there is
        never followed).
    """
    if fcntl is None:
        yield
        return
    path = root / LOCK_FILE
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        raise SpasmCvError(f"cannot lock BIDS dataset {root} ({path}): {os_reason(exc)}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SpasmCvError(
                f"BIDS dataset {root} is being written by another export: nothing was "
                "written; run this export again when that one has finished"
            ) from None
        yield
    finally:
        os.close(fd)  # releases the lock
