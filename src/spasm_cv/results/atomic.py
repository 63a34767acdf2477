"""Writing files and folders so that whatever is under the final name is complete, and
nothing spasm-cv did not write is replaced on the way.

Everything spasm-cv writes for people (result folders, reports, exports, tables, review
videos) goes through here: the content is written under a temporary name beside the target,
then put in place in one step by :func:`publish`. An interrupted write leaves the old file
(or nothing), never half a file.

:func:`publish` is the one place an output reaches its final name. It never follows a
symbolic link and never replaces what it was not told it may: a new output goes in place
only if nothing is there at that instant (``renameat2(RENAME_NOREPLACE)`` on Linux, a hard
link for files elsewhere, and a check just before the rename where neither exists). If
something appeared at the target while the output was being made (a user's file, a link),
the output is kept beside it under a new name (``NAME-2``, ``NAME-3``, ...) and a one-line
note says so on stderr.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import secrets
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from spasm_cv._private import create_private_file

#: ``replace`` of :func:`publish`: False (only where nothing is), True (whatever regular file
#: is there; never a folder or a link), or a test that recognises a file this command wrote.
Replace = bool | Callable[[Path], bool]

_RENAME_NOREPLACE = 1
_AT_FDCWD = -100
_BESIDE_MAX = 1000


def _renameat2() -> Callable[..., int] | None:
    """glibc's ``renameat2`` (Linux 3.15+, glibc 2.28+), or None where it is missing."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_RENAMEAT2 = _renameat2()


def rename_noreplace(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Rename ``src`` (a file or a folder) to ``dst`` only if nothing is at ``dst``.

    Raises FileExistsError when something (a file, a folder, a link, even a broken one) is at
    ``dst``; the rename is one atomic step where the system allows it (Linux:
    ``renameat2(RENAME_NOREPLACE)``; files elsewhere: a hard link, then the old name
    removed), otherwise a check just before ``os.rename``.
    """
    s, d = os.fsencode(src), os.fsencode(dst)
    if _RENAMEAT2 is not None:
        if _RENAMEAT2(_AT_FDCWD, s, _AT_FDCWD, d, _RENAME_NOREPLACE) == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise OSError(err, os.strerror(err), os.fsdecode(dst))
    if not stat.S_ISDIR(os.lstat(s).st_mode):
        try:
            os.link(s, d)  # our own regular file: no link to follow
        except FileExistsError:
            raise
        except OSError:  # no hard links on this file system: fall through
            pass
        else:
            os.unlink(s)
            return
    if os.path.lexists(d):
        raise FileExistsError(errno.EEXIST, "exists", os.fsdecode(dst))
    os.rename(s, d)


def beside_name(path: Path, n: int, folder: bool = False) -> Path:
    """``path`` numbered ``n``: ``visit-2.mp4``, ``scans-2.tsv.gz``; a ``folder`` (or a name
    without a dot) is numbered at its end: ``visit.spasm-cv-2``."""
    name = path.name
    dot = name.find(".", 1)
    if dot < 0 or folder:
        return path.with_name(f"{name}-{n}")
    return path.with_name(f"{name[:dot]}-{n}{name[dot:]}")


def publish(tmp: str | os.PathLike, final: str | os.PathLike, replace: Replace = False) -> Path:
    """Put the file or folder ``tmp`` in place as ``final``; return where it went.

    Parameters
    ----------
    tmp : path-like
        The complete output, under a temporary name in ``final``'s folder.
    final : path-like
        Where it goes.
    replace : bool or callable
        What may be replaced at ``final``: False nothing; True a regular file (never a
        folder nor a link); a test ``replace(path) -> bool`` that recognises a regular file
        this command wrote (the file found there is moved aside first, tested, and put back
        if it fails the test, so that a file that replaced it meanwhile is never lost).

    Returns
    -------
    Path
        ``final``, or the name beside it (``NAME-2`` ...) that the output took because
        something it may not replace was at ``final`` (a one-line note on stderr says so).
    """
    src, dst = Path(tmp), Path(final)
    if replace is not False and _is_regular(dst):
        if replace is True:
            os.replace(src, dst)  # a regular file's name: the rename never follows a link
            return dst
        if _replace_ours(src, dst, replace):
            return dst
    try:
        rename_noreplace(src, dst)
        return dst
    except FileExistsError:
        pass
    other = _beside(src, dst)
    print(
        f"spasm-cv: note: {dst} appeared while the output was being written and was left as "
        f"it is; the output is {other}",
        file=sys.stderr,
    )
    return other


def _beside(src: Path, dst: Path) -> Path:
    """Rename ``src`` to the first free name beside ``dst``; the name."""
    folder = stat.S_ISDIR(os.lstat(src).st_mode)
    for n in range(2, _BESIDE_MAX):
        other = beside_name(dst, n, folder)
        try:
            rename_noreplace(src, other)
        except FileExistsError:
            continue
        return other
    raise FileExistsError(errno.EEXIST, "no free name beside", str(dst))


def _is_regular(p: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(p).st_mode)
    except OSError:
        return False


def _replace_ours(src: Path, dst: Path, ours: Callable[[Path], bool]) -> bool:
    """Replace ``dst`` by ``src`` if ``dst`` is a regular file ``ours`` recognises.

    The file at ``dst`` is first renamed aside, under its own name in a new hidden folder
    (one step: whatever is there at that instant moves, and nobody else's file can take its
    place unseen; tests may look at the name), tested there, and removed only if it is ours;
    otherwise it goes back. False: ``src`` is still to be put somewhere.
    """
    folder = _fresh(dst.parent, f".{dst.name}.old-{os.getpid()}-")
    folder.mkdir()
    aside = folder / dst.name
    try:
        try:
            os.rename(dst, aside)
        except FileNotFoundError:
            return False  # gone meanwhile: the output goes where nothing is
        try:
            mine = _is_regular(aside) and bool(ours(aside))
        except (OSError, ValueError, UnicodeDecodeError):
            mine = False
        if mine:  # an earlier output of this command: the new one replaces it
            try:
                rename_noreplace(src, dst)
                return True
            except FileExistsError:  # a newcomer took the name: the output goes beside it
                return False
            finally:
                aside.unlink()
        try:
            rename_noreplace(aside, dst)  # not ours: back it goes
        except FileExistsError:  # and something else came meanwhile: keep both, say so
            kept = _beside(aside, dst)
            print(f"spasm-cv: note: a file found at {dst} is kept as {kept}", file=sys.stderr)
        return False
    finally:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _fresh(folder: Path, prefix: str) -> Path:
    for _ in range(100):
        p = folder / f"{prefix}{secrets.token_hex(4)}"
        if not os.path.lexists(p):
            return p
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(folder))


class Published:
    """Where :func:`published` puts its output: ``tmp`` to write, ``path`` once in place."""

    def __init__(self, tmp: Path, path: Path):
        self.tmp, self.path = tmp, path


def _temporary(path: Path, what: str) -> Path:
    """A new, empty hidden file beside ``path`` (``0666`` less the umask), with the same
    suffix (for writers that choose a format by it); never a link followed."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        tmp = path.with_name(
            f".{path.stem}.{what}-{os.getpid()}-{secrets.token_hex(4)}{path.suffix}"
        )
        try:
            os.close(os.open(tmp, flags, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))


@contextmanager
def published(
    path: str | os.PathLike, *, private: bool = False, replace: Replace = False
) -> Iterator[Published]:
    """Like :func:`atomic_file`, yielding a :class:`Published` whose ``path`` is, after the
    block, where the file went (``path``, or a name beside it: see :func:`publish`)."""
    out = Path(path)
    tmp = _temporary(out, "tmp")
    done = Published(tmp, out)
    try:
        if private:  # created again, owner-only from the start
            tmp.unlink()
            create_private_file(tmp)
        yield done
        done.path = publish(tmp, out, replace)
    except BaseException:
        with contextlib.suppress(OSError):
            if _is_regular(tmp):
                tmp.unlink()
        raise


@contextmanager
def atomic_file(
    path: str | os.PathLike, private: bool = False, replace: Replace = False
) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is put in place as ``path``.

    On an exception the temporary file is removed and ``path`` is left as it was. The
    temporary name keeps ``path``'s suffix, for writers that choose a format by it.
    ``private``: the temporary file is created empty and owner-only (``0600``) before it is
    yielded, whatever the umask; writers that open it for writing keep that mode.
    ``replace``: what may be replaced at ``path`` (see :func:`publish`; by default nothing:
    a file that appeared there meanwhile is kept, the output goes beside it).

    Examples
    --------
    >>> with atomic_file("table.tsv") as tmp:  # doctest: +SKIP
    ...     tmp.write_text("a\\tb\\n")
    """
    with published(path, private=private, replace=replace) as done:
        yield done.tmp


def write_text_atomic(
    path: str | os.PathLike, text: str, encoding: str = "utf-8", replace: Replace = False
) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_file`); returns where it
    went (``path``, or a name beside it)."""
    with published(path, replace=replace) as done:
        done.tmp.write_text(text, encoding=encoding)
    return done.path


@contextmanager
def atomic_folder(path: str | os.PathLike) -> Iterator[Published]:
    """Yield a :class:`Published` with an empty temporary folder ``tmp``; on success it is
    put in place as ``path`` (``path`` must not exist: if something appeared there
    meanwhile, the folder goes beside it, see :func:`publish`), and ``path`` is set to where
    it went. On an exception the temporary folder's files are deleted (never through a
    link). The parent folder is created.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _fresh(out.parent, f".{out.name}.tmp-{os.getpid()}-")
    tmp.mkdir()
    done = Published(tmp, out)
    try:
        yield done
        done.path = publish(tmp, out)
    except BaseException:
        remove_tree(tmp)
        raise


def remove_tree(folder: Path) -> None:
    """Delete ``folder`` and everything in it, never following a link (a link inside is
    removed, not what it points to); a link at ``folder`` itself is left alone."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return
    try:
        _empty(fd)
    finally:
        os.close(fd)
    with contextlib.suppress(OSError):
        folder.rmdir()


def _empty(fd: int) -> None:
    for name in os.listdir(fd):
        try:
            st = os.lstat(name, dir_fd=fd)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            try:
                sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError:
                continue
            try:
                _empty(sub)
            finally:
                os.close(sub)
            with contextlib.suppress(OSError):
                os.rmdir(name, dir_fd=fd)
        else:
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=fd)
