"""Writing files and folders so that whatever is under the final name is complete.

Everything spasm-cv writes for people (result folders, reports, exports, tables) goes through
here: the content is written under a temporary name beside the target, then renamed into
place in one step. An interrupted write leaves the old file (or nothing), never half a file.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from spasm_cv._private import create_private_file


def _temporary(path: Path, what: str) -> Path:
    """A hidden name beside ``path``, unique to this process, with the same suffix."""
    return path.with_name(f".{path.stem}.{what}-{os.getpid()}{path.suffix}")


@contextmanager
def atomic_file(path: str | os.PathLike, private: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` in one rename.

    On an exception the temporary file is removed and ``path`` is left as it was. The
    temporary name keeps ``path``'s suffix, for writers that choose a format by it.
    ``private``: the temporary file is created empty and owner-only (``0600``) before it is
    yielded, whatever the umask; writers that open it for writing keep that mode.

    Examples
    --------
    >>> with atomic_file("table.tsv") as tmp:  # doctest: +SKIP
    ...     tmp.write_text("a\\tb\\n")
    """
    out = Path(path)
    tmp = _temporary(out, "tmp")
    try:
        if private:
            tmp.unlink(missing_ok=True)  # this process's own leftover
            create_private_file(tmp)
        yield tmp
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_file`); returns the path."""
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


@contextmanager
def atomic_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder; on success it takes the place of ``path``.

    A folder already at ``path`` is moved aside, replaced, then deleted. On an exception the
    temporary folder is deleted and ``path`` is untouched. The parent folder is created.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
