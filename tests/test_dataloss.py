"""Issue 22, "Data loss": nothing a user owns is removed or replaced, not through a link and
not in a race between the check of a destination and the output taking its name.

Every test here failed before the fix: a symlinked ``.partial`` deleted an earlier result
through the link, ``--out`` as a link was renamed away (and with ``--force`` its target
emptied), a file or folder that appeared at an output path while a command ran was
replaced (or moved aside and deleted), two BIDS exports into one dataset both wrote
run-1, ``monitor --db`` took over an empty user file, a killed batch left its hidden
temporary folders forever, and two places gave a traceback instead of one line.

The race property (a user's file made at an output path during the run always survives
byte for byte; the tool's output is kept beside it, and said so) is checked here at fixed
moments for each kind of output; ``benchmarks/races.py`` checks it at random moments with
the real processes.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SAMPLE_VIDEO, cli, package_env, sample_cut
from fsfaults import assert_one_line_error, read_only, sim_result, snapshot, write_video

import spasm_cv.pipeline as pipeline

USER = b"the user's own bytes\n\x00\xff"


@pytest.fixture
def no_analysis(monkeypatch):
    """Make any analysis fail loudly: a refusal must come before the work."""

    def boom(*args, **kwargs):
        raise AssertionError("the analysis ran before the destination was checked")

    monkeypatch.setattr(pipeline, "extract_signals", boom)


# ------------------------------------------------------------------ links (items 1, 4)


def test_a_symlinked_partial_is_refused_and_the_earlier_result_kept(tmp_path, no_analysis):
    v1 = sim_result(tmp_path / "v1")
    before = snapshot(v1)
    (tmp_path / "v2.partial").symlink_to("v1")
    code, _, err = cli("analyze", SAMPLE_VIDEO, "--out", tmp_path / "v2")
    assert_one_line_error(code, err, "v2.partial", "symbolic link")
    assert snapshot(v1) == before
    assert (tmp_path / "v2.partial").is_symlink()
    assert not (tmp_path / "v2").exists()


def test_a_result_written_beside_a_symlinked_partial_deletes_nothing_through_it(tmp_path):
    """The writer itself (not only the command line) refuses the link before any work."""
    from spasm_cv.errors import SpasmCvError

    v1 = sim_result(tmp_path / "v1")
    before = snapshot(v1)
    (tmp_path / "v2.partial").symlink_to(v1)
    with pytest.raises(SpasmCvError, match="symbolic link"):
        sim_result(tmp_path / "v2")
    assert snapshot(v1) == before


@pytest.mark.parametrize("force", [False, True])
def test_out_as_a_link_to_a_folder_is_refused_and_its_target_untouched(
    tmp_path, no_analysis, force
):
    v1 = sim_result(tmp_path / "v1")
    (v1 / "notes.md").write_bytes(USER)
    before = snapshot(v1)
    (tmp_path / "link").symlink_to(v1)
    args = ["--force"] if force else []
    code, _, err = cli("analyze", SAMPLE_VIDEO, "--out", tmp_path / "link", *args)
    assert_one_line_error(code, err, "symbolic link")
    assert (tmp_path / "link").is_symlink() and snapshot(v1) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "v1"]  # nothing renamed aside


def test_a_report_out_that_is_a_link_is_refused(tmp_path):
    res = sim_result(tmp_path / "visit")
    mine = tmp_path / "mine.html"
    mine.write_bytes(USER)
    (tmp_path / "r.html").symlink_to(mine)
    code, _, err = cli("report", res, "--out", tmp_path / "r.html")
    assert_one_line_error(code, err, "symbolic link")
    assert mine.read_bytes() == USER and (tmp_path / "r.html").is_symlink()


# ------------------------------------------------------------------------ races (item 2)

Intrude = Callable[[Path], Callable[[], None]]


def _user_file(p: Path) -> Callable[[], None]:
    return lambda: p.write_bytes(USER)


def _user_folder(p: Path) -> Callable[[], None]:
    def make() -> None:
        p.mkdir()
        (p / "mine.txt").write_bytes(USER)

    return make


def _user_link(p: Path) -> Callable[[], None]:
    def make() -> None:
        elsewhere = p.parent / "elsewhere"
        elsewhere.mkdir()
        (elsewhere / "mine.txt").write_bytes(USER)
        p.symlink_to(elsewhere)

    return make


INTRUSIONS: dict[str, Intrude] = {"file": _user_file, "folder": _user_folder, "link": _user_link}


def _intrude_during(monkeypatch, module, name: str, make: Callable[[], None]) -> None:
    """Run ``make`` once, when ``module.name`` is called (mid-run, after every check)."""
    real = getattr(module, name)

    def hooked(*args, **kwargs):
        make()
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, hooked)


def _the_users_data_survived(path: Path, kind: str) -> None:
    if kind == "file":
        assert path.is_file() and not path.is_symlink() and path.read_bytes() == USER
    elif kind == "folder":
        assert sorted(os.listdir(path)) == ["mine.txt"]
        assert (path / "mine.txt").read_bytes() == USER
    else:
        assert path.is_symlink() and os.readlink(path) == str(path.parent / "elsewhere")
        assert sorted(os.listdir(path.parent / "elsewhere")) == ["mine.txt"]
        assert (path.parent / "elsewhere" / "mine.txt").read_bytes() == USER


def _beside(path: Path, n: int = 2) -> Path:
    from spasm_cv.results.atomic import beside_name

    return beside_name(path, n, folder=path.suffix == "" or path.name.endswith(".spasm-cv"))


@pytest.mark.parametrize("kind", INTRUSIONS)
def test_a_result_folder_never_replaces_what_appeared_during_the_analysis(
    tmp_path, monkeypatch, capfd, kind
):
    from spasm_cv.results import files
    from spasm_cv.results.outputs import is_result_folder

    out = tmp_path / "visit"
    _intrude_during(monkeypatch, files, "write_result_files", INTRUSIONS[kind](out))
    written = sim_result(out)
    _the_users_data_survived(out, kind)
    assert written == tmp_path / "visit-2" and is_result_folder(written)
    assert f"the output is {written}" in capfd.readouterr().err


@pytest.mark.parametrize("kind", INTRUSIONS)
def test_a_report_never_replaces_what_appeared_while_it_was_made(tmp_path, monkeypatch, kind):
    import spasm_cv.report.html as html

    res = sim_result(tmp_path / "visit")
    out = tmp_path / "r.html"
    _intrude_during(monkeypatch, html, "build_html", INTRUSIONS[kind](out))
    code, stdout, err = cli("report", res, "--out", out)
    assert code == 0, err
    _the_users_data_survived(out, kind)
    assert html.is_report(tmp_path / "r-2.html") and "r-2.html" in stdout
    assert "spasm-cv: note:" in err and "r-2.html" in err


@pytest.mark.parametrize("kind", INTRUSIONS)
def test_an_export_never_replaces_what_appeared_while_it_was_made(tmp_path, monkeypatch, kind):
    from spasm_cv.export import tables

    res = sim_result(tmp_path / "visit")
    out = tmp_path / "tables"
    _intrude_during(monkeypatch, tables, "events_table", INTRUSIONS[kind](out / "events.csv"))
    code, stdout, err = cli("export", res, "--format", "csv", "--out", out)
    assert code == 0, err
    _the_users_data_survived(out / "events.csv", kind)
    assert (out / "events-2.csv").read_text().startswith("recording,")
    assert str(out / "events-2.csv") in stdout and "spasm-cv: note:" in err


def test_an_earlier_export_is_replaced_but_a_user_file_swapped_in_meanwhile_is_not(
    tmp_path, monkeypatch
):
    """``replace`` by a test of the file: the file found at the name when the new one takes
    it is the one tested, so a user's file that replaced our earlier one survives."""
    from spasm_cv.export import tables

    res = sim_result(tmp_path / "visit")
    out = tmp_path / "tables"
    assert cli("export", res, "--format", "csv", "--out", out).returncode == 0
    assert cli("export", res, "--format", "csv", "--out", out).returncode == 0  # replaced
    assert sorted(os.listdir(out)) == ["events.csv", "recordings.csv"]
    _intrude_during(monkeypatch, tables, "events_table", _user_file(out / "events.csv"))
    code, _, err = cli("export", res, "--format", "csv", "--out", out)
    assert code == 0, err
    assert (out / "events.csv").read_bytes() == USER
    assert (out / "events-2.csv").read_text().startswith("recording,")
    assert not [p for p in os.listdir(out) if p.startswith(".")]  # nothing hidden left


@pytest.mark.parametrize("kind", ["file", "link"])
def test_a_batch_table_never_replaces_what_appeared_during_the_batch(tmp_path, monkeypatch, kind):
    from spasm_cv.batch import table

    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "broken.mp4").write_bytes(b"not a video")
    out = tmp_path / "out"
    _intrude_during(monkeypatch, table, "outcome_row", INTRUSIONS[kind](out / "batch.tsv"))
    code, _, err = cli("batch", videos, "--out", out, "--jobs", 1)
    assert code == 1, err  # the one video failed; the batch itself went on
    _the_users_data_survived(out / "batch.tsv", kind)
    assert table.is_batch_table(out / "batch-2.tsv") and "spasm-cv: note:" in err


def test_review_clips_never_replace_a_folder_made_during_the_review(
    tmp_path, monkeypatch, sample_result
):
    import spasm_cv.review.page as page

    out = tmp_path / "E"
    _intrude_during(monkeypatch, page, "index_page", _user_folder(out))
    code, stdout, err = cli("review", sample_result, "--episodes-only", "--out", out, "--quiet")
    assert code == 0, err
    _the_users_data_survived(out, "folder")
    assert (tmp_path / "E-2" / "index.html").is_file() and "E-2" in err


def test_a_partial_made_a_link_during_the_analysis_is_not_followed(tmp_path, monkeypatch):
    """The ``.partial`` removed after a complete result: a link put there after the check
    is left, and nothing behind it is deleted."""
    from spasm_cv.results import files

    v1 = sim_result(tmp_path / "v1")
    before = snapshot(v1)
    link = tmp_path / "v2.partial"
    _intrude_during(monkeypatch, files, "write_result_files", lambda: link.symlink_to(v1))
    sim_result(tmp_path / "v2")
    assert snapshot(v1) == before and link.is_symlink()


def test_a_review_video_never_replaces_a_file_made_while_it_was_encoded(tmp_path, capfd):
    import numpy as np

    from spasm_cv.review.writer import VideoWriter

    out = tmp_path / "x.mp4"
    with VideoWriter(out, 25.0, (64, 48)) as writer:
        for _ in range(5):
            writer.write(np.zeros((48, 64, 3), np.uint8))
        out.write_bytes(USER)  # the user saves a file there meanwhile
    assert out.read_bytes() == USER
    assert writer.path == tmp_path / "x-2.mp4" and writer.path.stat().st_size > 0
    assert "the output is" in capfd.readouterr().err


@pytest.mark.parametrize("renameat2", [True, False], ids=["renameat2", "portable"])
def test_publish_never_replaces_and_never_follows_a_link(tmp_path, capfd, monkeypatch, renameat2):
    """The one place outputs take their name, on its own, for files and folders (with
    Linux's renameat2, and with the portable fallback: a hard link, or a check)."""
    from spasm_cv.results import atomic
    from spasm_cv.results.atomic import publish

    if not renameat2:
        monkeypatch.setattr(atomic, "_RENAMEAT2", None)

    for kind, make in INTRUSIONS.items():
        for is_folder in (False, True):
            d = tmp_path / f"{kind}-{is_folder}"
            d.mkdir()
            tmp = d / ".out.tmp"
            if is_folder:
                tmp.mkdir()
                (tmp / "ours.txt").write_text("ours")
            else:
                tmp.write_text("ours")
            make(d / "out")()
            where = publish(tmp, d / "out", replace=lambda p: False)
            _the_users_data_survived(d / "out", kind)
            assert where == d / "out-2" and not tmp.exists()
            got = (where / "ours.txt") if is_folder else where
            assert got.read_text() == "ours"
    assert capfd.readouterr().err.count("spasm-cv: note:") == 6


# ----------------------------------------------------------- concurrent BIDS (item 3)


def _export_bids(result: Path, dataset: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "spasm_cv", "export", str(result), "--format", "bids",
         "--out", str(dataset)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=package_env(),
    )  # fmt: skip


def test_a_bids_dataset_being_written_refuses_a_second_export(tmp_path):
    from spasm_cv.export.bids_lock import LOCK_FILE

    res = sim_result(tmp_path / "a")
    dataset = tmp_path / "cb"
    dataset.mkdir()
    with open(dataset / LOCK_FILE, "w") as held:  # another export holds the dataset
        fcntl.flock(held, fcntl.LOCK_EX)
        proc = _export_bids(res, dataset)
        _, err = proc.communicate(timeout=120)
    assert_one_line_error(proc.returncode, err, "being written by another export")
    assert os.listdir(dataset) == [LOCK_FILE]


def test_a_folder_that_is_no_dataset_gets_no_lock_file(tmp_path):
    res = sim_result(tmp_path / "a")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "thesis.txt").write_bytes(USER)
    code, _, err = cli("export", res, "--format", "bids", "--out", docs)
    assert_one_line_error(code, err, "not a BIDS dataset")
    assert snapshot(docs) == {"thesis.txt": USER} and os.listdir(docs) == ["thesis.txt"]


def test_two_concurrent_bids_exports_never_write_one_run_twice(tmp_path):
    """Two real processes at once, a few times: each run is written once, or an export is
    refused with one line; ``scans.tsv`` never lists a run twice."""
    a = sim_result(tmp_path / "a", name="a.mp4")
    b = sim_result(tmp_path / "b", name="b.mp4", seconds=25.0)
    for i in range(3):
        dataset = tmp_path / f"cb{i}"
        procs = [_export_bids(r, dataset) for r in (a, b)]
        outcomes = [(p.wait(timeout=180), p.stderr.read()) for p in procs]
        for code, err in outcomes:
            if code != 0:
                assert_one_line_error(code, err, "being written by another export")
        scans = (dataset / "sub-01" / "sub-01_scans.tsv").read_text().splitlines()[1:]
        names = [line.split("\t")[0] for line in scans]
        assert len(names) == len(set(names)) == 2 * sum(c == 0 for c, _ in outcomes)


# ----------------------------------------------------------------- monitor --db (item 5)


@pytest.mark.parametrize("content", [b"", b"my shopping list\n"])
def test_a_monitor_database_is_never_an_existing_user_file(tmp_path, content):
    from spasm_cv.errors import SpasmCvError
    from spasm_cv.live.store import Store

    db = tmp_path / "notes.db"
    db.write_bytes(content)
    db.chmod(0o644)
    with pytest.raises(SpasmCvError, match="not a spasm-cv monitor database"):
        Store(db)
    assert db.read_bytes() == content and db.stat().st_mode & 0o777 == 0o644
    assert sorted(os.listdir(tmp_path)) == ["notes.db"]


def test_monitor_db_onto_an_empty_file_is_one_line(tmp_path):
    db = tmp_path / "empty.db"
    db.touch()
    code, _, err = cli(
        "monitor", "--source", SAMPLE_VIDEO, "--headless", "--db", db, "--duration", "1"
    )
    assert_one_line_error(code, err, "not a spasm-cv monitor database")
    assert db.read_bytes() == b"" and sorted(os.listdir(tmp_path)) == ["empty.db"]


def test_a_new_monitor_database_is_owner_only_and_made_whole(tmp_path):
    from spasm_cv.live.store import Store, check_store_header

    old = os.umask(0o022)
    try:
        with Store(tmp_path / "new" / "m.db"):
            pass
    finally:
        os.umask(old)
    db = tmp_path / "new" / "m.db"
    assert db.stat().st_mode & 0o777 == 0o600
    assert check_store_header(db) and os.listdir(db.parent) == ["m.db"]  # no temporary left


# ------------------------------------------------------- stale temporaries (item 6)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_batch_removes_only_its_own_stale_temporary_folders(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "broken.mp4").write_bytes(b"not a video")
    out = tmp_path / "out"
    out.mkdir()
    dead, alive = _dead_pid(), os.getppid()
    stale = out / f".visit.tmp-{dead}-0123abcd"
    stale.mkdir()
    for name in ("events.tsv", "summary.json"):
        (stale / name).write_text("half")
    (out / f".empty.tmp-{dead}-89abcdef").mkdir()
    keep = {
        f".visit.tmp-{alive}-0123abcd": None,  # a running process's
        f".visit.tmp-{dead}-0123abcd9": None,  # not the exact pattern
        f".visit.tmp-{dead}-notmine1": None,
        f".held.tmp-{dead}-fedcba98": "mine.txt",  # holds a user's file
    }
    for name, inner in keep.items():
        (out / name).mkdir()
        if inner:
            (out / name / inner).write_bytes(USER)
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "events.tsv").write_bytes(USER)
    (out / f".linked.tmp-{dead}-00000000").symlink_to(tmp_path / "target")
    code, _, err = cli("batch", videos, "--out", out, "--jobs", 1)
    assert code == 1, err
    left = sorted(p for p in os.listdir(out) if p.startswith("."))
    assert left == sorted([*keep, f".linked.tmp-{dead}-00000000"])
    assert (out / f".held.tmp-{dead}-fedcba98" / "mine.txt").read_bytes() == USER
    assert (tmp_path / "target" / "events.tsv").read_bytes() == USER


@pytest.mark.slow
def test_after_kill_9_during_a_batch_the_next_run_leaves_no_temporary(tmp_path):
    """A real batch process killed with SIGKILL while its worker analyses (the temporary
    result folder made), then run again: no ``.NAME.tmp-PID-*`` is left in OUT."""
    import signal
    import time

    videos = tmp_path / "videos"
    videos.mkdir()
    sample_cut(videos / "visit.mp4", 20.0)
    out = tmp_path / "out"
    args = [sys.executable, "-m", "spasm_cv", "batch", videos, "--out", out, "--jobs", "1"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=package_env(), start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while not (out.is_dir() and any(p.startswith(".visit.tmp-") for p in os.listdir(out))):
        assert proc.poll() is None and time.monotonic() < deadline, "no temporary folder made"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the batch and its worker, at once
    proc.wait()
    time.sleep(0.5)  # the worker's exit is reaped by init
    assert any(p.startswith(".visit.tmp-") for p in os.listdir(out))
    code, _, err = cli("batch", videos, "--out", out, "--jobs", 1, "--quiet")
    assert code == 0, err
    assert not [p for p in os.listdir(out) if p.startswith(".")]
    assert (out / "visit" / "summary.json").is_file()


# ----------------------------------------------------------------------------- smaller


def test_review_into_a_read_only_folder_is_one_line(tmp_path):
    res = sim_result(tmp_path / "visit")
    with read_only(tmp_path / "ro") as ro:
        code, _, err = cli("review", res, "--video", SAMPLE_VIDEO, "--out", ro / "x.mp4")
    assert_one_line_error(code, err, "x.mp4")
    assert "internal error" not in err


def test_batch_key_in_a_missing_folder_is_one_line_and_leaves_no_out(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    write_video(videos / "a.mp4")
    out = tmp_path / "out"
    code, _, err = cli("batch", videos, "--out", out, "--deidentify",
                       "--key", tmp_path / "keys" / "k.tsv")  # fmt: skip
    assert_one_line_error(code, err, "--key", "does not exist")
    assert not out.exists() and not (tmp_path / "keys").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_killed_process_not_yet_reaped_counts_as_gone():
    """A worker killed with its batch stays a zombie where nothing reaps it (a container's
    first process may not): its temporary folders are stale all the same."""
    import signal
    import time

    from spasm_cv.results.outputs import _alive

    proc = subprocess.Popen(["sleep", "30"])
    assert _alive(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while _alive(proc.pid) and time.monotonic() < deadline:  # a zombie until wait()
        time.sleep(0.02)
    assert not _alive(proc.pid)
    proc.wait()
