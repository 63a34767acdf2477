"""Issue 16: outputs never replace what spasm-cv did not write, and a destination that
cannot take them fails before any work, with one line naming the path (exit 2).

Every test here failed on the main branch before the fix: ``--out`` onto a user's folder
deleted its files, ``--out`` onto the input turned the video into a folder, ``--out
/proc/foo`` failed after the analysis as an internal error, and so on.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import cli, sample_cut
from fsfaults import (
    assert_one_line_error,
    fill,
    read_only,
    sim_result,
    snapshot,
    tiny_disk,
    write_video,
)

import spasm_cv.pipeline as pipeline
from spasm_cv.errors import SpasmCvError


def ResultTarget(*args, **kwargs):  # noqa: N802 - imported late: these tests also run on main
    from spasm_cv.results.outputs import ResultTarget

    return ResultTarget(*args, **kwargs)


def is_result_folder(path) -> bool:
    from spasm_cv.results.outputs import is_result_folder

    return is_result_folder(path)


@pytest.fixture
def no_analysis(monkeypatch):
    """Make any analysis fail loudly: a refusal must come before the work."""

    def boom(*args, **kwargs):
        raise AssertionError("the analysis ran before the destination was checked")

    monkeypatch.setattr(pipeline, "extract_signals", boom)


@pytest.fixture
def clip(tmp_path) -> Path:
    """The first 2 s of the bundled sample (a real face, quick to analyse)."""
    return sample_cut(tmp_path / "clip.mp4", 2.0)


def _user_folder(root: Path) -> Path:
    docs = root / "my_documents"
    (docs / "sub").mkdir(parents=True)
    (docs / "thesis.txt").write_text("years of work\n")
    (docs / "sub" / "data.csv").write_text("a,b\n1,2\n")
    return docs


# ------------------------------------------------------------------------- analyze


def test_analyze_into_a_user_folder_is_refused_and_the_folder_survives(tmp_path, clip, no_analysis):
    docs = _user_folder(tmp_path)
    before = snapshot(docs)
    code, out, err = cli("analyze", clip, "--out", docs)
    assert code == 2
    assert_one_line_error(code, err, str(docs), "not a spasm-cv result folder")
    assert snapshot(docs) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "my_documents"]


def test_analyze_onto_its_input_or_a_file_is_refused(tmp_path, clip, no_analysis):
    video = clip.read_bytes()
    code, _, err = cli("analyze", clip, "--out", clip)
    assert_one_line_error(code, err, "is the input")
    assert clip.is_file() and clip.read_bytes() == video
    assert not list(tmp_path.glob(".clip*"))
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    code, _, err = cli("analyze", clip, "--out", notes)
    assert_one_line_error(code, err, "is a file")
    assert notes.read_text() == "mine\n"


@pytest.mark.parametrize("where", ["/proc/foo", ".", ".."])
def test_analyze_to_an_impossible_place_fails_before_the_work(
    where, tmp_path, clip, no_analysis, monkeypatch
):
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    code, _, err = cli("analyze", clip, "--out", where)
    assert code == 2
    assert_one_line_error(code, err, where)


def test_analyze_into_a_read_only_folder_fails_before_the_work(tmp_path, clip, no_analysis):
    with read_only(tmp_path / "ro") as ro:
        code, _, err = cli("analyze", clip, "--out", ro / "result")
    assert code == 2
    assert_one_line_error(code, err, str(ro / "result"))


def test_a_full_disk_fails_before_the_work_naming_the_path(tmp_path, clip, no_analysis):
    with tiny_disk(tmp_path / "disk") as disk:
        fill(disk)
        code, _, err = cli("analyze", clip, "--out", disk / "result")
    assert code == 2
    assert_one_line_error(code, err, str(disk / "result"))


def test_a_disk_that_fills_during_the_write_is_one_line_naming_the_path(tmp_path):
    with (
        tiny_disk(tmp_path / "disk", "64k") as disk,
        pytest.raises(SpasmCvError, match="not enough free space"),
    ):
        ResultTarget(disk / "result").prepare()  # 1 MB free is asked for
    # (on a disk with room at the start that fills during the write, the same one line:)
    with tiny_disk(tmp_path / "disk2", "2m") as disk:
        target = ResultTarget(disk / "result").prepare()
        fill(disk)
        with pytest.raises(SpasmCvError, match=f"cannot write {disk / 'result'}: no space"):
            target.write(lambda tmp: (tmp / "signals.csv.gz").write_bytes(b"x" * 100_000))
        target.close()
        assert [p.name for p in disk.iterdir()] == ["filler.bin"]


@pytest.mark.slow  # MediaPipe on 2 s of video
def test_replacing_an_earlier_result_needs_force_and_keeps_the_users_files(tmp_path, clip):
    res = tmp_path / "res"
    code, _, err = cli("analyze", clip, "--out", res, "--quiet")
    assert code == 0, err
    (res / "my notes.txt").write_text("patient said the left eye too\n")
    (res / "figures").mkdir()
    (res / "figures" / "fig1.png").write_bytes(b"png")
    first = json.loads((res / "summary.json").read_text())
    code, _, err = cli("analyze", clip, "--out", res, "--quiet")
    assert_one_line_error(code, err, "--force")
    code, _, err = cli("analyze", clip, "--out", res, "--quiet", "--force")
    assert code == 0, err
    assert (res / "my notes.txt").read_text() == "patient said the left eye too\n"
    assert (res / "figures" / "fig1.png").read_bytes() == b"png"
    again = json.loads((res / "summary.json").read_text())
    assert again["processing"] != first["processing"]  # written anew
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "res"]  # no leftovers


# ----------------------------------------------------------- result folder writing


def test_write_replaces_only_our_files_and_removes_a_stale_partial(tmp_path):
    res = sim_result(tmp_path / "visit")
    (res / "notes.md").write_text("mine")
    partial = sim_result(tmp_path / "visit.partial", interrupted="Ctrl-C")
    assert is_result_folder(partial)
    sim_result(tmp_path / "visit")  # the Python API replaces an earlier result by default
    assert (res / "notes.md").read_text() == "mine"
    assert not partial.exists()  # the complete result supersedes the partial one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["visit"]


def test_a_partial_folder_holding_a_users_file_is_kept(tmp_path):
    partial = sim_result(tmp_path / "visit.partial", interrupted="Ctrl-C")
    (partial / "keep.txt").write_text("mine")
    sim_result(tmp_path / "visit")
    assert sorted(p.name for p in partial.iterdir()) == ["keep.txt"]


def test_a_non_result_folder_named_like_the_partial_is_refused_before_the_work(tmp_path):
    (tmp_path / "visit.partial").mkdir()
    (tmp_path / "visit.partial" / "x.txt").write_text("mine")
    with pytest.raises(SpasmCvError, match="not a spasm-cv result folder"):
        ResultTarget(tmp_path / "visit").prepare()
    assert (tmp_path / "visit.partial" / "x.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["visit.partial"]


def test_an_empty_folder_may_take_a_result(tmp_path):
    (tmp_path / "new").mkdir()
    sim_result(tmp_path / "new")
    assert is_result_folder(tmp_path / "new")


# --------------------------------------------------------------------------- batch


def test_batch_never_deletes_a_folder_that_is_not_a_result(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    write_video(videos / "visit.mp4", n=30)
    out = tmp_path / "out"
    (out / "visit").mkdir(parents=True)
    (out / "visit" / "thesis.txt").write_text("years of work\n")
    code, stdout, err = cli("batch", videos, "--out", out, "--jobs", "1")
    assert code == 1, err
    assert (out / "visit" / "thesis.txt").read_text() == "years of work\n"
    assert "not a spasm-cv result folder" in stdout
    rows = (out / "batch.tsv").read_text().splitlines()
    assert len(rows) == 2 and "\terror\t" in rows[1]


def test_batch_out_onto_a_file_or_a_foreign_table_is_refused(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    write_video(videos / "visit.mp4", n=30)
    f = tmp_path / "file.txt"
    f.write_text("mine")
    code, _, err = cli("batch", videos, "--out", f)
    assert_one_line_error(code, err, "is a file")
    assert f.read_text() == "mine"
    out = tmp_path / "out"
    out.mkdir()
    (out / "batch.tsv").write_text("my own table\n")
    code, _, err = cli("batch", videos, "--out", out)
    assert_one_line_error(code, err, "batch.tsv")
    assert (out / "batch.tsv").read_text() == "my own table\n"


def test_batch_jobs_are_capped_at_the_cores(monkeypatch, tmp_path):
    import spasm_cv.batch.cli as batch_cli

    seen = {}

    def fake_run_batch(tasks, engine, jobs, address, advance):
        seen["jobs"] = jobs
        return []

    monkeypatch.setattr(batch_cli, "run_batch", fake_run_batch)
    videos = tmp_path / "videos"
    videos.mkdir()
    write_video(videos / "visit.mp4", n=30)
    cli("batch", videos, "--out", tmp_path / "out", "--jobs", "1000", "--quiet")
    assert seen["jobs"] == len(os.sched_getaffinity(0))


# ------------------------------------------------------------------ report, export


def test_report_never_replaces_a_users_file_and_replaces_its_own(tmp_path):
    res = sim_result(tmp_path / "visit")
    mine = tmp_path / "report.html"
    mine.write_text("<html>my own page</html>")
    code, _, err = cli("report", res, "--out", mine)
    assert_one_line_error(code, err, str(mine))
    assert mine.read_text() == "<html>my own page</html>"
    ours = tmp_path / "ours.html"
    assert cli("report", res, "--out", ours)[0] == 0
    assert cli("report", res, "--out", ours)[0] == 0  # its own earlier report: replaced


def test_report_out_onto_a_folder_is_refused_and_leaves_nothing(tmp_path):
    res = sim_result(tmp_path / "visit")
    folder = tmp_path / "reports"
    folder.mkdir()
    code, _, err = cli("report", res, "--out", folder)
    assert_one_line_error(code, err, "is a folder")
    assert list(folder.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports", "visit"]


def test_report_into_a_read_only_folder_fails_before_reading(tmp_path):
    res = sim_result(tmp_path / "visit")
    with read_only(tmp_path / "ro") as ro:
        code, _, err = cli("report", res, "--out", ro / "r.html")
    assert_one_line_error(code, err, str(ro / "r.html"))


def test_export_of_two_results_with_the_same_name_writes_both(tmp_path):
    a = sim_result(tmp_path / "a" / "visit.spasm-cv", name="visit.mp4")
    b = sim_result(tmp_path / "b" / "visit.spasm-cv", name="visit.mp4")
    for fmt, ext in (("json", "json"), ("elan", "eaf")):
        out = tmp_path / f"out-{fmt}"
        code, stdout, err = cli("export", a, b, "--format", fmt, "--out", out)
        assert code == 0, err
        assert sorted(p.name for p in out.iterdir()) == [f"visit.{ext}", f"visit_2.{ext}"]
        assert cli("export", a, b, "--format", fmt, "--out", out)[0] == 0  # again: ours


def test_export_never_replaces_a_users_file(tmp_path):
    res = sim_result(tmp_path / "visit.spasm-cv")
    out = tmp_path / "out"
    out.mkdir()
    (out / "recordings.csv").write_text("my,own\n")
    code, _, err = cli("export", res, "--format", "csv", "--out", out)
    assert_one_line_error(code, err, "recordings.csv")
    assert (out / "recordings.csv").read_text() == "my,own\n"
    assert not (out / "episodes.csv").exists()  # nothing was written


# -------------------------------------------------------------------------- phantom


def test_phantom_never_replaces_a_users_video_or_table(tmp_path):
    src = write_video(tmp_path / "face.mp4", n=30)
    mine = tmp_path / "holiday.mp4"
    mine.write_bytes(b"my holiday video")
    code, _, err = cli("phantom", src, "--out", mine, "--truth", tmp_path / "t.tsv")
    assert_one_line_error(code, err, str(mine))
    assert mine.read_bytes() == b"my holiday video"
    table = tmp_path / "mine.tsv"
    table.write_text("a\tb\n")
    code, _, err = cli("phantom", src, "--out", tmp_path / "p.mp4", "--truth", table)
    assert_one_line_error(code, err, str(table))
    code, _, err = cli("phantom", src, "--out", src, "--truth", tmp_path / "t.tsv")
    assert_one_line_error(code, err, "is the input")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face.mp4", "holiday.mp4", "mine.tsv"]


def test_a_failed_replacement_puts_the_users_files_back(tmp_path, monkeypatch):
    from spasm_cv.results import atomic, outputs

    res = sim_result(tmp_path / "visit")
    (res / "notes.md").write_text("mine")
    real_rename = atomic.rename_noreplace

    def failing(src, dst):
        if Path(src).name.startswith(".visit.tmp-"):  # the new folder cannot take its place
            raise OSError(28, "No space left on device")
        return real_rename(src, dst)

    monkeypatch.setattr(outputs, "rename_noreplace", failing)
    monkeypatch.setattr(atomic, "rename_noreplace", failing)
    with pytest.raises(SpasmCvError, match="no space left"):
        sim_result(tmp_path / "visit")
    monkeypatch.undo()
    assert (res / "notes.md").read_text() == "mine"
    assert is_result_folder(res)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["visit"]  # nothing left behind


def test_result_folders_follow_the_users_umask(tmp_path):
    old = os.umask(0o022)
    try:
        res = sim_result(tmp_path / "visit")
        sim_result(tmp_path / "visit")  # replaced
    finally:
        os.umask(old)
    assert res.stat().st_mode & 0o777 == 0o755
