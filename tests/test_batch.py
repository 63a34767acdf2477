"""``spasm-cv batch``: result folders + combined table, resume, failures, Ray engine."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from conftest import shared_video

from spasm_cv.batch.plan import plan_batch, read_done, result_names
from spasm_cv.batch.table import TABLE_FILE, TIMING_COLUMNS, read_table
from spasm_cv.cli import main
from spasm_cv.errors import SpasmCvError

CLIPS = ("c3_grid_man_bbaf2n.mp4", "c3_grid_woman_brbk7n.mp4", "c2_wink_man_frontal_cv.mp4")


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """Three short real clips (1-3 s) and a corrupt one, in a folder with a subfolder."""
    d = tmp_path_factory.mktemp("videos")
    (d / "sub").mkdir()
    for i, name in enumerate(CLIPS):
        shutil.copy2(shared_video(name), d / ("sub" if i == 2 else ".") / name)
    data = shared_video(CLIPS[0]).read_bytes()
    (d / "corrupt.mp4").write_bytes(data[: len(data) // 3])  # header lost: cannot decode
    (d / "notes.txt").write_text("not a video, not picked up")
    return d


def _rows(out):
    """The combined table without the timing and location columns."""
    drop = {*TIMING_COLUMNS, "result_dir", "video"}
    return [{k: v for k, v in r.items() if k not in drop} for r in read_table(out / TABLE_FILE)]


@pytest.fixture(scope="module")
def local_run(videos, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "results"
    code = main(["batch", str(videos), "--out", str(out), "--jobs", "2", "--quiet"])
    return code, out


@pytest.mark.slow  # MediaPipe
def test_batch_writes_one_result_per_video_and_a_table(local_run, videos):
    code, out = local_run
    assert code == 1  # one video failed
    rows = {r["name"]: r for r in read_table(out / TABLE_FILE)}
    assert sorted(rows) == sorted(["corrupt", *(n[:-4] for n in CLIPS)])
    for name in CLIPS:
        row = rows[name[:-4]]
        assert row["status"] == "ok" and row["error"] == "n/a"
        summary = json.loads((out / name[:-4] / "summary.json").read_text())
        assert float(row["duration_s"]) == pytest.approx(summary["duration_s"], abs=1e-3)
        assert int(row["episodes"]) == summary["episodes"]["total"]["count"]
        assert row["insufficient_observation"] == "yes"  # seconds, not the 10 min a rate needs
        assert summary["episodes"]["total"]["insufficient_observation"] is True
        assert (out / name[:-4] / "events.tsv").is_file()
    assert rows["c2_wink_man_frontal_cv"]["affected_side"] in ("left", "right")
    bad = rows["corrupt"]
    assert bad["status"] == "error" and "cannot decode" in bad["error"]
    assert not (out / "corrupt").exists()


@pytest.mark.slow  # MediaPipe
def test_resumed_batch_finishes_only_the_missing_videos(local_run, videos, tmp_path, capsys):
    _, first = local_run
    out = tmp_path / "results"
    shutil.copytree(first, out)
    # interrupted: one result missing, one half-written (temporary name), one left partial
    shutil.rmtree(out / "c3_grid_woman_brbk7n")
    (out / ".c3_grid_woman_brbk7n.tmp-99").mkdir()
    (out / ".c3_grid_woman_brbk7n.tmp-99" / "events.tsv").write_text("onset\n")
    shutil.move(out / "c2_wink_man_frontal_cv", out / "c2_wink_man_frontal_cv.partial")
    kept = (out / "c3_grid_man_bbaf2n" / "summary.json").stat().st_mtime_ns
    capsys.readouterr()
    assert main(["batch", str(videos), "--out", str(out), "--jobs", "2"]) == 1
    printed = capsys.readouterr().out
    assert "4 videos: 1 already done, 2 analysed" in printed
    assert (out / "c3_grid_man_bbaf2n" / "summary.json").stat().st_mtime_ns == kept
    assert _rows(out) == _rows(first)


@pytest.mark.slow  # MediaPipe
@pytest.mark.parametrize(
    "dropped",
    [("review_detected", "review_confirmed"),  # before review counts
     ("review_detected", "review_confirmed", "insufficient_observation")],  # and before that
    ids=["before-review", "before-insufficient"],
)  # fmt: skip
def test_a_batch_folder_of_the_previous_table_layout_resumes(local_run, videos, tmp_path, dropped):
    _, first = local_run
    out = tmp_path / "results"
    shutil.copytree(first, out)
    table = out / TABLE_FILE
    lines = [line.split("\t") for line in table.read_text().splitlines()]
    keep = [i for i, name in enumerate(lines[0]) if name not in dropped]
    table.write_text("".join("\t".join(c[i] for i in keep) + "\n" for c in lines))
    assert main(["batch", str(videos), "--out", str(out), "--jobs", "1", "--quiet"]) == 1
    assert _rows(out) == _rows(first)  # rewritten in today's layout, nothing lost


@pytest.mark.slow  # MediaPipe
def test_a_changed_input_is_analysed_again(videos, local_run):
    _, out = local_run
    item = next(i for i in plan_batch(videos, out) if i.name == "c3_grid_man_bbaf2n")
    assert read_done(item) is not None
    assert read_done(item, mirrored=True) is None  # made with other options
    st = item.video.stat()
    os.utime(item.video, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    try:
        assert read_done(item) is None
    finally:
        os.utime(item.video, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert read_done(item) is not None


def test_list_input_and_name_clashes(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for p in ("a/x.mp4", "b/x.mp4", "b/x.avi", "y.mov"):
        (tmp_path / p).write_bytes(b"0")
    lst = tmp_path / "videos.txt"
    lst.write_text("# clinic list\na/x.mp4\n\nb/x.mp4\n" + str(tmp_path / "y.mov") + "\n")
    items = plan_batch(lst, tmp_path / "out")
    assert [i.name for i in items] == ["a__x", "b__x", "y"]
    videos = [tmp_path / "b/x.mp4", tmp_path / "b/x.avi", tmp_path / "a/x.mp4"]
    assert result_names(videos, tmp_path) == ["b__x.mp4", "b__x.avi", "a__x"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpasmCvError, match="no video files"):
        plan_batch(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(SpasmCvError, match="not found"):
        plan_batch(tmp_path / "missing", tmp_path / "out")


def test_bad_engine_arguments_are_one_line_errors(videos, tmp_path, capsys):
    assert main(["batch", str(videos), "--out", str(tmp_path), "--ray-address", "x"]) == 2
    assert "--ray-address needs --engine ray" in capsys.readouterr().err


@pytest.mark.slow  # MediaPipe
def test_ray_engine_gives_the_same_table(local_run, videos, tmp_path):
    ray = pytest.importorskip("ray")
    _, local_out = local_run
    out = tmp_path / "results"
    ray.init(
        num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=80 * 2**20
    )
    try:
        code = main(["batch", str(videos), "--out", str(out), "--engine", "ray", "--quiet"])
    finally:
        ray.shutdown()
    assert code == 1
    assert _rows(out) == _rows(local_out)
