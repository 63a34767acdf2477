"""Owner-only files and folders: who may read what spasm-cv writes.

What spasm-cv keeps of a patient on its own (the monitor's database and its WAL/SHM files,
saved clips of the face, rows it could not save) is always created readable by its owner
only: files ``0600``, folders it creates ``0700``, whatever the umask. Files and folders that
already exist are never changed: :func:`readable_by_others` lets the caller say so instead.

Everything else (result folders, reports, exports) follows the user's umask, unless the user
asks for owner-only (``--private``): :func:`use_owner_only_umask` sets the process umask to
``077``, which every writer, library and worker process started afterwards obeys.

On systems without POSIX permissions (Windows) the modes are not applied; files then get the
folder's access rules.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "OWNER_ONLY_UMASK",
    "create_private_file",
    "make_private_dirs",
    "mode_text",
    "readable_by_others",
    "use_owner_only_umask",
    "write_private_text",
]

FILE_MODE = 0o600
DIR_MODE = 0o700
OWNER_ONLY_UMASK = 0o077
POSIX = os.name == "posix"


def make_private_dirs(path: str | os.PathLike) -> list[Path]:
    """Create folder ``path`` and its missing parents, each ``0700``; return those created.

    Folders that already exist are left as they are (see :func:`readable_by_others`).
    """
    p = Path(path)
    missing = []
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    created = []
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:  # made meanwhile by someone else: theirs
            continue
        if POSIX:
            os.chmod(d, DIR_MODE)  # exactly 0700, whatever the umask
        created.append(d)
    return created


def create_private_file(path: str | os.PathLike, exist_ok: bool = False) -> bool:
    """Create an empty file only its owner may read and write (``0600``).

    Returns True if it was created. An existing file raises FileExistsError, or with
    ``exist_ok`` is left as it is (False is returned).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, FILE_MODE)
    except FileExistsError:
        if exist_ok:
            return False
        raise
    try:
        if POSIX:
            os.fchmod(fd, FILE_MODE)  # exactly 0600, whatever the umask
    finally:
        os.close(fd)
    return True


def write_private_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to a new file ``path`` (``0600``); FileExistsError if it exists.

    If writing fails (disk full), the file it created is removed and OSError raised.
    """
    create_private_file(path)
    try:
        with open(path, "w", encoding=encoding) as f:
            f.write(text)
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise
    return Path(path)


def readable_by_others(path: str | os.PathLike) -> bool:
    """Whether users other than the owner may read ``path`` (list it, for a folder).

    False where it does not exist and on systems without POSIX permissions.
    """
    if not POSIX:
        return False
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRGRP | stat.S_IROTH))


def mode_text(path: str | os.PathLike) -> str:
    """``path``'s permission bits as four octal digits (``0644``), or ``?``."""
    try:
        return f"{stat.S_IMODE(os.stat(path).st_mode):04o}"
    except OSError:
        return "?"


def use_owner_only_umask() -> int:
    """From now on this process (and what it starts) creates owner-only files; old umask back.

    For ``--private``: the umask applies to every file any code creates, including the
    libraries' own writers and worker processes, which explicit modes could not reach.
    """
    return os.umask(OWNER_ONLY_UMASK)
