"""Where outputs may go: nothing spasm-cv did not write is ever replaced or deleted.

Every command that writes (``analyze``, ``batch``, ``report``, ``export``, ``phantom``)
checks its destination here **before any work starts**, and fails with a one-line
:class:`~spasm_cv.errors.SpasmCvError` naming the path when it cannot be used:

- a **result folder** (:class:`ResultTarget`) may go where nothing is, into an empty folder,
  or over an earlier spasm-cv result folder (recognised by its ``summary.json``) when the
  caller allows it (``--force`` for ``analyze``; ``batch`` replaces its own stale results).
  A non-empty folder that is not a result, a file, the input itself, the current folder or
  one of its parents is refused. Files a user added inside an earlier result folder are
  carried over into the new one; only the files spasm-cv writes are replaced. The temporary
  folder is created at once, so an unwritable or missing location fails before the analysis.
- an **output file** (:func:`check_output_file`) may go where nothing is, or over a file the
  same command wrote before (each writer passes a test that recognises its own files, e.g.
  the report's ``<meta name="generator" content="spasm-cv ...">``). A folder, an input, or any
  other file is refused.

Write failures (a full disk, a permission lost meanwhile) become :func:`write_error`: one
line naming the path. Atomic writing itself is :mod:`spasm_cv.results.atomic`.

Long module: every rule about where spasm-cv may write is kept in this one place (result
folders and output files share the checks, the messages and the free-space test), so that
a command cannot be added that forgets one, and privacy settings (owner-only permissions)
have one place to go.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
import stat
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from spasm_cv.errors import SpasmCvError
from spasm_cv.results.atomic import publish, rename_noreplace

# The files spasm-cv writes into a result folder (results/files.py names them; repeated here
# so that this module stays below files.py). Anything else in a result folder is the user's.
RESULT_FILES = ("events.tsv", "events.json", "signals.csv.gz", "summary.json")
SUMMARY_FILE = "summary.json"
PARTIAL_SUFFIX = ".partial"
BYTES_PER_FRAME = 300  # signals.csv.gz per frame (measured ~150), with room to grow
MIN_FREE_BYTES = 1 << 20


def os_reason(exc: OSError) -> str:
    """Why an operating-system call failed, in a few words."""
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    if exc.errno == errno.ENOENT:
        return "no such folder, or one that cannot hold new files"
    return (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")


def write_error(path: str | os.PathLike, exc: OSError, what: str = "") -> SpasmCvError:
    """A one-line error for a failed write to ``path`` (full disk, permission, ...)."""
    label = f"{what} {path}" if what else str(path)
    return SpasmCvError(f"cannot write {label}: {os_reason(exc)}")


def is_result_folder(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder (not a link to one) holding a summary.json written by
    spasm-cv."""
    p = Path(path)
    if p.is_symlink():
        return False
    try:
        raw = json.loads((p / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(raw, dict)
        and "schema_version" in raw
        and isinstance(raw.get("software"), dict)
        and raw["software"].get("name") == "spasm-cv"
    )


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _refuse_input(out: Path, inputs: Iterable[str | os.PathLike], what: str) -> None:
    for given in inputs:
        src = Path(given)
        if _same(out, src):
            raise SpasmCvError(f"{what} {out} is the input {src}: choose another output")
        try:
            inside = src.resolve().is_relative_to(out.resolve())
        except OSError:
            inside = False
        if inside and out.resolve() != src.resolve() and out.exists():
            raise SpasmCvError(f"{what} {out} holds the input {src}: choose another output folder")


def _make_parent(path: Path, what: str) -> list[Path]:
    """Create ``path``'s parent folder; the folders created (outermost first).

    One-line error when it cannot be created.
    """
    parent = path.parent
    missing = [p for p in (parent, *parent.parents) if not p.exists()][::-1]
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise SpasmCvError(f"cannot write {what} {path}: {parent} is not a folder") from None
    except OSError as exc:
        raise write_error(path, exc, what) from None
    if not parent.is_dir():
        raise SpasmCvError(f"cannot write {what} {path}: {parent} is not a folder")
    return missing


def _check_writable_place(path: Path, what: str) -> None:
    """Whether ``path`` could be created, without creating anything but a probe file.

    The nearest existing folder above it must be a folder we may write to (a probe file is
    created there and removed when it is ``path``'s own parent).
    """
    anc = next((p for p in (path.parent, *path.parent.parents) if p.exists()), None)
    if anc is None or not anc.is_dir():
        raise SpasmCvError(f"cannot write {what} {path}: {anc} is not a folder")
    if anc != path.parent:  # folders to be made: check the one they would go in
        if not os.access(anc, os.W_OK | os.X_OK):
            reason = "read-only file system" if _read_only_fs(anc) else "permission denied"
            raise SpasmCvError(f"cannot write {what} {path}: {reason}")
        return
    probe = anc / f".{path.name}.check-{os.getpid()}"
    try:
        probe.touch()
    except OSError as exc:
        raise write_error(path, exc, what) from None
    with contextlib.suppress(OSError):
        probe.unlink()


def _read_only_fs(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def _check_free(folder: Path, need: int, what: str, path: Path) -> None:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if free < need:
        raise SpasmCvError(
            f"not enough free space for {what} {path}: {free / 1e6:.1f} MB free, "
            f"about {need / 1e6:.1f} MB needed"
        )


def _is_cwd_or_parent(path: Path) -> bool:
    try:
        cwd, p = Path.cwd().resolve(), path.resolve()
    except OSError:
        return False
    return cwd == p or cwd.is_relative_to(p)


# ------------------------------------------------------------------- result folders


class ResultTarget:
    """A result folder's destination, checked and held before the work that fills it.

    Use :meth:`prepare` before the analysis, then :meth:`write` once with a function that
    fills a folder, then :meth:`close` (or use it as a context manager). ``partial`` writes
    go to ``<path>.partial`` instead.

    Parameters
    ----------
    path : the final result folder.
    inputs : files the work reads (refused as destinations).
    replace : an earlier spasm-cv result folder at ``path`` may be replaced (``--force``);
        otherwise it is refused with a hint. ``<path>.partial`` is always replaceable when
        spasm-cv wrote it.
    expected_frames : frames to be written (for the free-space check), if known.
    what : how messages name the destination (e.g. ``--out``).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        inputs: Iterable[str | os.PathLike] = (),
        replace: bool = False,
        expected_frames: int = 0,
        what: str = "result folder",
    ):
        self.path = Path(path)
        self.inputs = tuple(Path(p) for p in inputs)
        self.replace = replace
        self.what = what
        self.expected_frames = max(int(expected_frames or 0), 0)
        self.tmp: Path | None = None
        self._made: list[Path] = []  # parent folders :meth:`prepare` created

    @property
    def partial_path(self) -> Path:
        """Where an interrupted run's result goes: ``<path>.partial``."""
        return self.path.with_name(self.path.name + PARTIAL_SUFFIX)

    def final(self, partial: bool = False) -> Path:
        """The folder a complete (or partial) result is written to."""
        return self.partial_path if partial else self.path

    # -- before the work -----------------------------------------------------------

    def check(self) -> ResultTarget:
        """Refuse a destination that cannot or must not take the result (no side effect)."""
        out, what = self.path, self.what
        if not out.name or out.name in (".", ".."):
            raise SpasmCvError(f"{what} {out} is not a folder name: give a new folder")
        if _is_cwd_or_parent(out):
            raise SpasmCvError(
                f"{what} {out} is the current folder (or holds it): give a new folder name"
            )
        _refuse_input(out, self.inputs, what)
        for p, replaceable in ((out, self.replace), (self.partial_path, True)):
            self._check_existing(p, replaceable)
        return self

    def _check_existing(self, p: Path, replaceable: bool) -> None:
        refuse_link(p, self.what)
        if not p.exists():
            return
        if not p.is_dir():
            raise SpasmCvError(
                f"{self.what} {p} is a file, not a folder: choose another {self.what}"
            )
        try:
            empty = not any(p.iterdir())
        except OSError as exc:
            raise SpasmCvError(f"cannot use {self.what} {p}: {os_reason(exc)}") from None
        if empty:
            return
        if not is_result_folder(p):
            raise SpasmCvError(
                f"{self.what} {p} exists and is not a spasm-cv result folder: nothing was "
                "written; choose a new folder"
            )
        if not replaceable:
            raise SpasmCvError(
                f"{self.what} {p} holds an earlier spasm-cv result: add --force to replace it "
                "(files you added there are kept), or choose another folder"
            )

    def prepare(self) -> ResultTarget:
        """:meth:`check`, then create the parent and the temporary folder (so an
        unwritable location fails now, before any work), and check the free space."""
        self.check()
        out = self.path
        self._made = _make_parent(out, self.what)
        remove_stale_temporaries(out.parent, out.name)
        try:  # a name of its own: an older leftover is never reused nor deleted
            tmp = _fresh_name(out.parent, f".{out.name}.tmp-{os.getpid()}-", make=True)
        except OSError as exc:
            self._remove_made()
            raise write_error(out, exc, self.what) from None
        self.tmp = tmp
        need = MIN_FREE_BYTES + BYTES_PER_FRAME * self.expected_frames
        try:
            _check_free(out.parent, need, self.what, out)
        except SpasmCvError:
            self.close()
            raise
        return self

    # -- after the work ------------------------------------------------------------

    def write(self, fill: Callable[[Path], None], partial: bool = False) -> Path:
        """Fill the temporary folder with ``fill(folder)``, then put it in place; returns
        where it went.

        An earlier result at the destination is replaced, the files a user added to it
        carried over. Anything else found there now (a user's folder or file, a link, made
        while the work ran) is left as it is, and the result goes beside it under a new
        name (said in one line on stderr). After a complete result, a ``.partial`` beside it
        that spasm-cv wrote is removed (only its own files; a user's file in it keeps the
        folder; never through a link).
        """
        if self.tmp is None:
            self.prepare()
        assert self.tmp is not None
        final = self.final(partial)
        try:
            fill(self.tmp)
            final = _install(self.tmp, final, replace=partial or self.replace)
        except OSError as exc:
            raise write_error(final, exc) from None
        self.tmp, self._made = None, []
        if not partial:
            _remove_result_files(self.partial_path)
        return final

    def close(self) -> None:
        """Remove the temporary folder if it was not used (it holds only our files), and
        the parent folders :meth:`prepare` made for it if they are still empty."""
        if self.tmp is not None:
            _remove_result_files(self.tmp, check=False)  # only ours: anything else stays
            self.tmp = None
            self._remove_made()

    def _remove_made(self) -> None:
        for folder in reversed(self._made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        self._made = []

    def __enter__(self) -> ResultTarget:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _install(tmp: Path, final: Path, replace: bool) -> Path:
    """Put folder ``tmp`` in place as ``final``, keeping what a user added to ``final``;
    returns where it went.

    Nothing there: ``tmp`` is renamed into place, only if nothing came meanwhile. An earlier
    spasm-cv result (``replace``): the user's entries are moved (renamed, on the same file
    system) into the new folder, the old folder is renamed aside, the new one renamed into
    place, entries that came meanwhile follow, and the old folder, holding only spasm-cv's
    files, is removed. Anything else (a link, a file, a user's folder) is never touched: the
    result goes beside it (:func:`~spasm_cv.results.atomic.publish`).
    """
    if _real_folder(final):
        with contextlib.suppress(OSError):  # an empty folder given as --out; kept if not
            final.rmdir()
    try:
        rename_noreplace(tmp, final)
        return final
    except FileExistsError:
        pass
    if not (replace and _real_folder(final) and is_result_folder(final)):
        return publish(tmp, final)
    moved: list[str] = []
    old = _fresh_name(final.parent, f".{final.name}.old-{os.getpid()}-")
    try:
        _move_entries(final, tmp, moved)  # the user's files go into the new folder
        final.rename(old)
        placed = publish(tmp, final)
    except OSError:  # the old folder back under its name, the user's files back in it
        if not os.path.lexists(final) and os.path.lexists(old):
            with contextlib.suppress(OSError):
                rename_noreplace(old, final)
        home = old if os.path.lexists(old) else final
        for name in moved:
            with contextlib.suppress(OSError):
                rename_noreplace(tmp / name, home / name)
        raise
    _move_entries(old, placed, [])  # anything added while the folder was moved
    _remove_result_files(old, check=False)
    if os.path.lexists(old):  # a name clash kept something of the user's there
        kept = publish(old, final.with_name(final.name + ".kept"))
        print(f"spasm-cv: note: files found in {final} are kept in {kept}", file=sys.stderr)
    return placed


def _real_folder(p: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(p).st_mode)
    except OSError:
        return False


def _move_entries(src: Path, dst: Path, moved: list[str]) -> None:
    """Move every entry of ``src`` but spasm-cv's own files into ``dst`` (never onto an
    entry there, never through a link to ``src``), adding the names moved to ``moved``."""
    fd = _open_folder(src)
    if fd is None:
        return
    try:
        for name in os.listdir(fd):
            if name not in RESULT_FILES:
                with contextlib.suppress(FileExistsError):
                    rename_noreplace(src / name, dst / name)
                    moved.append(name)
    finally:
        os.close(fd)


def _open_folder(p: Path) -> int | None:
    """A descriptor of folder ``p`` itself (None if it is a link, not a folder, or gone)."""
    try:
        return os.open(p, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None


def _fresh_name(folder: Path, prefix: str, make: bool = False) -> Path:
    """A name in ``folder`` that nothing has (made as a folder with ``make``, with the
    user's umask, as any folder spasm-cv writes)."""
    for _ in range(100):
        p = folder / f"{prefix}{secrets.token_hex(4)}"
        if make:
            try:
                p.mkdir()
            except FileExistsError:
                continue
            return p
        if not p.exists() and not p.is_symlink():
            return p
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(folder))


def _remove_result_files(folder: Path, check: bool = True) -> None:
    """Delete spasm-cv's own files in ``folder`` and the folder if nothing else is left.

    With ``check``, only a result folder (its summary.json says spasm-cv wrote it) is
    touched; a user's file in it keeps the folder. A link (at ``folder`` or in it) is
    never followed.
    """
    if check and not is_result_folder(folder):
        return
    fd = _open_folder(folder)
    if fd is None:
        return
    try:
        for name in RESULT_FILES:
            try:
                os.unlink(name, dir_fd=fd)
            except FileNotFoundError:
                continue
            except OSError:
                return
    finally:
        os.close(fd)
    with contextlib.suppress(OSError):  # something of the user's is left: keep the folder
        folder.rmdir()


_TEMPORARY = re.compile(r"\.(?P<name>.+)\.tmp-(?P<pid>[0-9]+)-[0-9a-f]{8}")


def remove_stale_temporaries(folder: Path, name: str | None = None) -> list[Path]:
    """Remove the temporary result folders a killed run left in ``folder``; those removed.

    Only folders (not links) named exactly as :meth:`ResultTarget.prepare` names them,
    ``.NAME.tmp-PID-XXXXXXXX`` (of result folder ``name`` if given), whose process ``PID``
    is no longer running on this machine, and only spasm-cv's files in them: a folder
    holding anything else is left.
    """
    removed = []
    try:
        entries = os.listdir(folder)
    except OSError:
        return removed
    for entry in entries:
        m = _TEMPORARY.fullmatch(entry)
        if m is None or (name is not None and m["name"] != name) or _alive(int(m["pid"])):
            continue
        p = folder / entry
        if _real_folder(p):
            _remove_result_files(p, check=False)
            if not os.path.lexists(p):
                removed.append(p)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True  # someone else's process, or cannot tell: keep
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A process that has exited but not been reaped (Linux): dead for our purpose. In a
    container whose first process does not reap orphans, a killed worker stays a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # not Linux, or gone meanwhile: kill() said it was there
    state = stat.rpartition(")")[2].split()[:1]  # the name in parentheses may hold spaces
    return state in (["Z"], ["X"])


def refuse_link(path: Path, what: str) -> None:
    """One-line error if ``path`` is a symbolic link: spasm-cv writes no output through a
    link, nor replaces or removes one."""
    if path.is_symlink():
        raise SpasmCvError(
            f"{what} {path} is a symbolic link: spasm-cv never writes through a link; "
            "give the real path or another name"
        )


# ---------------------------------------------------------------------- output files


def check_output_file(
    path: str | os.PathLike,
    *,
    ours: Callable[[Path], bool] | None = None,
    inputs: Iterable[str | os.PathLike] = (),
    what: str = "--out",
) -> Path:
    """Check that ``path`` may take an output file, before the work that makes it.

    Refused (one-line SpasmCvError naming the path): a folder, one of ``inputs``, an existing
    file that ``ours`` does not recognise as written by this command, a location whose
    folder cannot be created or written (a probe file is created there and removed; no
    folder is created).
    """
    p = Path(path)
    refuse_link(p, what)
    if p.is_dir():
        raise SpasmCvError(f"{what} {p} is a folder: give a file name")
    for src in inputs:
        if _same(p, Path(src)):
            raise SpasmCvError(f"{what} {p} is the input {src}: choose another output")
    if p.exists() or p.is_symlink():
        if not p.is_file():
            raise SpasmCvError(f"{what} {p} exists and is not a regular file")
        if ours is None or not _recognised(ours, p):
            raise SpasmCvError(
                f"{what} {p} exists and was not written by this spasm-cv command: nothing "
                "was written; choose another name"
            )
    _check_writable_place(p, what)
    anc = next(a for a in (p.parent, *p.parent.parents) if a.exists())
    _check_free(anc, MIN_FREE_BYTES, what, p)
    return p


def _recognised(ours: Callable[[Path], bool], p: Path) -> bool:
    try:
        return bool(ours(p))
    except (OSError, ValueError, UnicodeDecodeError):
        return False


def starts_with(prefix: bytes, limit: int = 4096) -> Callable[[Path], bool]:
    """A test for :func:`check_output_file`: the file's first bytes start with ``prefix``."""

    def test(p: Path) -> bool:
        with open(p, "rb") as f:
            return f.read(max(limit, len(prefix))).startswith(prefix)

    return test


def contains(marker: bytes, limit: int = 4096) -> Callable[[Path], bool]:
    """A test for :func:`check_output_file`: ``marker`` occurs in the file's first bytes."""

    def test(p: Path) -> bool:
        with open(p, "rb") as f:
            return marker in f.read(limit)

    return test
