"""Where bundled files live: inside the installed wheel, or at the repository root."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_REPO_ROOT = _PACKAGE.parent.parent


def data_path(*parts: str) -> Path:
    """Path to a bundled file, e.g. ``data_path("models", "face_landmarker.task")``.

    A wheel install carries the files in ``spasm_cv/_data/``; an editable install or a
    source checkout reads them from the repository root.
    """
    installed = _PACKAGE.joinpath("_data", *parts)
    if installed.exists():
        return installed
    return _REPO_ROOT.joinpath(*parts)
