"""The thread that writes a running session's rows, never dropping any.

The monitor hands it batches (events at once, aggregates every ~0.5 s); it commits them, so a
crash or power cut loses at most the last ~0.5 s. When the database cannot be written (locked,
disk full) it keeps everything in memory and retries; whatever is still unwritten when the
session closes goes to a new JSON file beside the database (else in the temporary folder),
readable by its owner only.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from spasm_cv._private import write_private_text
from spasm_cv._secrets import scrub
from spasm_cv.errors import SpasmCvError
from spasm_cv.live.schema import iso
from spasm_cv.live.store import Batch, SessionInfo, Store


def _jsonable(value):
    """numpy scalars (and anything else) for json.dumps."""
    return value.item() if isinstance(value, np.generic) else str(value)


class StoreError(SpasmCvError):
    """The store could not be written; the message says where the unsaved data went."""


class StoreWriter:
    """Writes one session's rows on its own thread, never dropping any.

    :meth:`submit` is non-blocking. A failed write (database locked, disk full, ...) keeps its
    rows, sets :attr:`error` and is retried (after 0.25 s doubling to 5 s, or sooner with the
    next submission); later rows are merged in. :meth:`close`
    writes the rest and ends the session; if the database still cannot be written after
    ``close_timeout_s``, the unsaved rows go to a JSON file and StoreError says where.
    """

    def __init__(
        self,
        store: Store,
        session_id: int,
        t0_wall: float,
        *,
        retry_s: tuple[float, float] = (0.25, 5.0),
        close_timeout_s: float = 10.0,
    ):
        self.store, self.session_id, self.t0_wall = store, session_id, t0_wall
        self.retry_s, self.close_timeout_s = retry_s, close_timeout_s
        self.error: str | None = None
        self._pending = Batch()
        self._cond = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="spasm-cv-store", daemon=True)
        self._thread.start()

    @property
    def pending_rows(self) -> int:
        with self._cond:
            return len(self._pending)

    def submit(self, batch: Batch) -> None:
        if not len(batch) and batch.progress is None:
            return
        with self._cond:
            self._pending.merge(batch)
            self._cond.notify()

    def _take(self) -> Batch | None:
        with self._cond:
            while not len(self._pending) and self._pending.progress is None:
                if self._closing:
                    return None
                self._cond.wait()
            batch, self._pending = self._pending, Batch()
            return batch

    def _put_back(self, batch: Batch) -> None:
        with self._cond:
            batch.merge(self._pending)
            self._pending = batch

    def _write(self, batch: Batch) -> bool:
        try:
            self.store.write(self.session_id, self.t0_wall, batch)
        except Exception as exc:  # noqa: BLE001 - whatever it is, the rows are kept
            self.error = f"cannot write to {self.store.path}: {exc}"
            self._put_back(batch)
            return False
        self.error = None
        return True

    def _run(self) -> None:
        delay = self.retry_s[0]
        while True:
            batch = self._take()
            if batch is None:
                return
            if self._write(batch):
                delay = self.retry_s[0]
                continue
            with self._cond:  # wait before retrying (wakes early when closing)
                if not self._closing:
                    self._cond.wait(delay)
            delay = min(delay * 2, self.retry_s[1])
            if self._closing:
                return

    def close(self, ended_at: float, reason: str, info: SessionInfo | None = None) -> None:
        """Write everything, mark the session ended; StoreError if data had to go elsewhere."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout=self.close_timeout_s + 5)
        deadline = time.monotonic() + self.close_timeout_s
        ended = False
        while True:
            with self._cond:
                batch, self._pending = self._pending, Batch()
            try:
                if len(batch) or batch.progress is not None:
                    self.store.write(self.session_id, self.t0_wall, batch)
                self.store.end_session(self.session_id, ended_at, reason)
                ended = True
                self.error = None
                break
            except Exception as exc:  # noqa: BLE001 - kept, then dumped to JSON
                self.error = f"cannot write to {self.store.path}: {exc}"
                self._put_back(batch)
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.25)
        if not ended:
            path = self._dump(ended_at, reason, info)
            raise StoreError(
                f"{self.error}; the session's unsaved data ({self.pending_rows} rows) was "
                f"written to {path}"
                if path
                else f"{self.error}; unsaved data lost: could not write it anywhere"
            )

    def _dump(self, ended_at: float, reason: str, info: SessionInfo | None) -> Path | None:
        data = {
            "database": str(self.store.path),
            "session_id": self.session_id,
            "started_at": iso(self.t0_wall),
            "ended_at": iso(ended_at),
            "end_reason": reason,
            "session": asdict(info) if info else None,
            "unsaved": self._pending.to_json(),
        }
        name = f"{self.store.path.name}.unsaved-session{self.session_id}-{int(ended_at)}"
        text = scrub(json.dumps(data, indent=1, default=_jsonable)) + "\n"
        for folder in (self.store.path.parent, Path(tempfile.gettempdir())):
            for n in range(10):  # a new file (owner-only), never over an existing one
                target = folder / (name + (f"-{n}" if n else "") + ".json")
                try:
                    return write_private_text(target, text)
                except FileExistsError:
                    continue
                except OSError:
                    break
        return None
