"""A new monitor database, made whole before it takes its name.

:class:`~spasm_cv.live.store.Store` opens only a spasm-cv store; a file found at ``--db``
that is not one (an empty or text file, another program's database) is refused. So that a
store of ours is never found empty, a new one is made and given its schema under a hidden
temporary name, then put in place in one step, only if nothing came to the path meanwhile.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from pathlib import Path

from spasm_cv._private import create_private_file, make_private_dirs
from spasm_cv.errors import SpasmCvError
from spasm_cv.live.schema import BUSY_TIMEOUT_S, migrate
from spasm_cv.results.atomic import rename_noreplace
from spasm_cv.results.outputs import os_reason


def create_store(path: Path) -> None:
    """Create a new, empty store at ``path``, owner-only (folders ``0700``, file ``0600``;
    SQLite creates the WAL and SHM files with the database file's mode).

    It is made under a temporary name and put in place only if nothing came to ``path``
    meanwhile, so a file found at the path is never one of ours cut short (a creation
    interrupted leaves only the hidden temporary file).
    """
    try:
        make_private_dirs(path.parent)
        tmp = path.with_name(f".{path.name}.new-{os.getpid()}-{secrets.token_hex(4)}")
        create_private_file(tmp)
    except OSError as exc:
        raise SpasmCvError(f"cannot create database {path}: {os_reason(exc)}") from None
    try:
        conn = sqlite3.connect(tmp, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
            migrate(conn, path)
        finally:
            conn.close()  # checkpoints and removes the temporary WAL and SHM files
        rename_noreplace(tmp, path)
    except FileExistsError:
        pass  # made meanwhile by someone else: checked as any file found there
    except (OSError, sqlite3.Error) as exc:
        raise SpasmCvError(f"cannot create database {path}: {exc}") from None
    finally:
        for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            p.unlink(missing_ok=True)
