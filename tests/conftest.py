"""Shared test helpers: where the real face videos are, cached analyses of them, and
:func:`cli`, which runs ``spasm-cv`` in this process.

Markers: ``slow`` marks every test that runs MediaPipe on real video, and the few that wait
seconds of wall-clock time (a camera outage, a locked database). Tests that use one of
the landmarking fixtures (:data:`LANDMARKING_FIXTURES`) are marked ``slow`` here
automatically; tests that landmark video themselves carry the mark explicitly.

``pytest -n 2`` is the whole suite on two cores (pytest-xdist), as CI runs it (the README's
command). ``pytest --fast -n 2`` is the fast loop: no ``slow`` test, and property tests draw a
fifth of their examples (:func:`examples`). With ``-n`` the tests are scheduled with
``--dist worksteal`` unless ``--dist`` is given.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (derandomize: a suite that passes passes
# again, on any machine, and a failure is reproduced by running it again);
# SPASM_CV_HYPOTHESIS=explore draws new random examples on each run, to look for failures
# the fixed draw does not reach (and keeps them in .hypothesis/ to replay).
settings.register_profile("fixed", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("SPASM_CV_HYPOTHESIS", "fixed"))

REPO = Path(__file__).resolve().parents[1]
SHARED_VIDEOS = REPO.parent / "shared" / "videos"
SAMPLE_VIDEO = REPO / "sample_videos" / "sample_phantom.mp4"
SAMPLE_TRUTH = REPO / "sample_videos" / "sample_phantom.truth.tsv"
SAMPLE_RECORDED_AT = datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc)

# fixtures that landmark real video: a test using one (directly or not) is slow
LANDMARKING_FIXTURES = frozenset({"sample_run", "analyzed", "short_sample_result"})


_FAST = False  # set by --fast before test modules are imported


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast",
        action="store_true",
        help="the fast loop: skip slow (MediaPipe) tests, fewer property examples",
    )


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist makes -n mean --dist load
def pytest_cmdline_main(config: pytest.Config) -> None:
    # some tests take seconds (minutes for the slowest), several of them in one file: with -n
    # and no --dist, an idle worker takes tests still queued on a busy one (xdist's worksteal)
    workers = getattr(config.option, "numprocesses", None)
    if workers and config.option.dist == "no":
        config.option.dist = "worksteal"


def pytest_configure(config: pytest.Config) -> None:
    global _FAST
    _FAST = bool(config.getoption("--fast"))


def examples(n: int) -> int:
    """A property test's number of examples: ``n``, or a fifth of it (at least 2) in the fast
    loop (``pytest --fast``)."""
    return max(2, n // 5) if _FAST else n


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if LANDMARKING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    if _FAST:
        slow = [item for item in items if item.get_closest_marker("slow")]
        if slow:
            config.hook.pytest_deselected(items=slow)
            items[:] = [item for item in items if not item.get_closest_marker("slow")]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a headless-capable Chromium (pages are checked in a real browser), or skip."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed (CI installs Debian's chromium)")
    return exe


@pytest.fixture
def browser(chromium):
    """A headless Chromium driven by Selenium (Debian's chromium-driver), or skip."""
    webdriver = pytest.importorskip("selenium.webdriver")
    driver_exe = shutil.which("chromedriver")
    if driver_exe is None:
        pytest.skip("chromedriver is not installed (CI installs Debian's chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--mute-audio",
                 "--disable-dev-shm-usage", "--window-size=1280,900"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(driver_exe))
    try:
        yield driver
    finally:
        driver.quit()


def shared_video(name: str) -> Path:
    """Path of a clip in ../shared/videos, or skip the test where that folder is absent."""
    path = SHARED_VIDEOS / name
    if not path.is_file():
        pytest.skip(f"{path} not available (../shared is absent here)")
    return path


def package_env() -> dict[str, str]:
    """Environment for a ``python -m spasm_cv`` subprocess that imports the package under
    test (installed, or from src/ when the tests run with PYTHONPATH=src)."""
    import spasm_cv

    env = dict(os.environ)
    here = str(Path(spasm_cv.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    return env


class CliRun(NamedTuple):
    """What ``spasm-cv ARGS`` did: its exit code and what it printed."""

    returncode: int
    stdout: str
    stderr: str


def cli(*args: object, cwd: str | os.PathLike | None = None) -> CliRun:
    """Run ``spasm-cv ARGS`` in this process, as ``python -m spasm_cv ARGS`` would.

    The exit code is ``main``'s, or argparse's (``--help``, usage errors); stdout and stderr
    are what reached file descriptors 1 and 2, native libraries' output included, as a
    terminal would show it. An exception escaping ``main`` (a traceback) fails the test.
    ``cwd`` is the working folder for the run. The command must leave the process as it
    found it (working folder, umask, signal handlers): checked after every run.
    """
    from spasm_cv.cli import main

    before = _process_state()
    with _captured_output() as printed:
        here = os.getcwd()
        try:
            if cwd is not None:
                os.chdir(cwd)
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:  # argparse; the interpreter's rules for the code
                if exc.code is None or isinstance(exc.code, int):
                    code = exc.code or 0
                else:
                    print(exc.code, file=sys.stderr)
                    code = 1
        finally:
            os.chdir(here)
    after = _process_state()
    assert after == before, f"spasm-cv changed the process's state: {before} -> {after}"
    return CliRun(code, *printed)


def _process_state() -> dict[str, object]:
    umask = os.umask(0o022)
    os.umask(umask)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    return {"cwd": os.getcwd(), "umask": umask, "handlers": handlers}


@contextlib.contextmanager
def _captured_output() -> Iterator[list[str]]:
    """File descriptors 1 and 2 (and ``sys.stdout``/``sys.stderr`` on them) go to temporary
    files within the block; the list then holds what was written to each."""
    printed: list[str] = []
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        saved = [os.dup(1), os.dup(2)]
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            with (
                open(1, "w", encoding="utf-8", closefd=False) as stdout,
                open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False) as stderr,
                contextlib.redirect_stdout(stdout),
                contextlib.redirect_stderr(stderr),
            ):
                yield printed
        finally:
            for fd, copy in zip((1, 2), saved, strict=True):
                os.dup2(copy, fd)
                os.close(copy)
        for f in (out, err):
            f.seek(0)
            printed.append(f.read().decode("utf-8", errors="replace"))


_cache: dict[tuple[str, bool], object] = {}


@dataclass
class SampleRun:
    """``spasm-cv`` alone, run once: the analysis it made and what it printed."""

    analysis: object  # spasm_cv.pipeline.Analysis
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory) -> SampleRun:
    """The bundled sample landmarked once per test session, through the command line.

    Runs ``spasm-cv --recorded-at ...`` (no video: the bundled sample, written to the default
    ``./sample_phantom.spasm-cv``) in this process, in a folder of its own, and keeps the
    ``Analysis`` that ``analyze_video`` returned (full-precision signals and events, for
    comparisons with the live monitor).
    """
    import spasm_cv.pipeline as pipeline

    if not SAMPLE_VIDEO.is_file():
        pytest.skip("bundled sample video missing")
    made = []
    analyze = pipeline.analyze_video

    def keep(*args, **kwargs):
        made.append(analyze(*args, **kwargs))
        return made[-1]

    pipeline.analyze_video = keep
    try:
        run = cli(
            "--recorded-at", SAMPLE_RECORDED_AT.isoformat(), cwd=tmp_path_factory.mktemp("sample")
        )
    finally:
        pipeline.analyze_video = analyze
    assert run.returncode == 0, run.stderr
    (analysis,) = made
    return SampleRun(analysis, run.stdout, run.stderr)


@pytest.fixture(scope="session")
def sample_analysis(sample_run):
    """The ``Analysis`` of the bundled sample (see :func:`sample_run`)."""
    return sample_run.analysis


@pytest.fixture(scope="session")
def sample_result(sample_analysis) -> Path:
    """The result folder of :func:`sample_analysis`."""
    return sample_analysis.out_dir


@pytest.fixture(scope="session")
def short_sample_result(tmp_path_factory) -> Path:
    """The result folder of the first 17 s of the bundled sample (:func:`sample_cut`: a real
    face, real MediaPipe), analysed once per session through the command line.

    Two one-sided episodes (3.4 s and 13.9 s) among natural blinks: for the tests that need a
    real result folder and its video (``review`` re-tracks the face) but not the whole minute,
    whose cost grows with the video's length.
    """
    if not SAMPLE_VIDEO.is_file():
        pytest.skip("bundled sample video missing")
    root = tmp_path_factory.mktemp("short-sample")
    video = sample_cut(root / "sample17.mp4", 17.0)
    out = root / "sample17.spasm-cv"
    run = cli(
        "analyze", video, "--out", out, "--recorded-at", SAMPLE_RECORDED_AT.isoformat(), "--quiet"
    )
    assert run.returncode == 0, run.stderr
    return out


@pytest.fixture(scope="session")
def analyzed(tmp_path_factory):
    """Analyse a shared clip once per session: ``analyzed(name, mirrored=False)``."""
    from spasm_cv import analyze_video

    def run(name: str, mirrored: bool = False):
        key = (name, mirrored)
        if key not in _cache:
            out = tmp_path_factory.mktemp("results") / (
                Path(name).stem + (".m" if mirrored else "")
            )
            _cache[key] = analyze_video(shared_video(name), out, mirrored=mirrored)
        return _cache[key]

    return run


def sample_cut(path: Path, seconds: float) -> Path:
    """The first ``seconds`` of the bundled sample (a real face)."""
    import cv2

    cap = cv2.VideoCapture(str(SAMPLE_VIDEO))
    fps = cap.get(cv2.CAP_PROP_FPS)
    size = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for _ in range(int(seconds * fps)):
        ok, frame = cap.read()
        assert ok
        vw.write(frame)
    vw.release()
    cap.release()
    return path
