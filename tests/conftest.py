"""Shared test helpers: where the real face videos are, and cached analyses of them."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_VIDEOS = REPO.parent / "shared" / "videos"
SAMPLE_VIDEO = REPO / "sample_videos" / "sample_phantom.mp4"
SAMPLE_TRUTH = REPO / "sample_videos" / "sample_phantom.truth.tsv"


def shared_video(name: str) -> Path:
    """Path of a clip in ../shared/videos, or skip the test where that folder is absent."""
    path = SHARED_VIDEOS / name
    if not path.is_file():
        pytest.skip(f"{path} not available (../shared is absent here)")
    return path


def package_env() -> dict[str, str]:
    """Environment for a ``python -m spasm_cv`` subprocess that imports the package under
    test (installed, or from src/ when the tests run with PYTHONPATH=src)."""
    import os

    import spasm_cv

    env = dict(os.environ)
    here = str(Path(spasm_cv.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    return env


_cache: dict[tuple[str, bool], object] = {}


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
