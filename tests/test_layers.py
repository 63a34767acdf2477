"""The layer picture of ARCHITECTURE.md holds: no module imports one above it or beside it.

Every ``import``/``from ... import`` of ``spasm_cv`` in every module is checked (including
imports inside functions and under ``TYPE_CHECKING``), and no module loads another by name
with importlib. Reading a result folder (``spasm_cv.load``, ``report``, ``export``) loads
neither OpenCV nor MediaPipe.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import package_env
from fsfaults import sim_result

import spasm_cv

PACKAGE = Path(spasm_cv.__file__).resolve().parent

BASE = {
    "errors",
    "_version",
    "_resources",
    "_native",
    "_processes",
    "_private",
    "_secrets",
    "_html",
    "_server",
    "cliargs",
}
CORE = {"signals", "events", "video", "landmarks"}
PEERS = {"pipeline", "live", "report", "export", "evaluation", "phantom", "review"}

# what each top-level part of spasm_cv may import (besides itself and the base modules)
ALLOWED: dict[str, set[str]] = {
    **{name: set() for name in BASE},
    "signals": set(),
    "events": {"signals"},
    "video": set(),
    "landmarks": {"video", "signals"},
    "results": {"events", "signals", "landmarks"},
    **{name: CORE | {"results"} for name in PEERS},
    "batch": CORE | {"results", "pipeline"},
    "api": {"results"},
    "cli": CORE | PEERS | {"results", "batch", "api"},
    "__init__": CORE | PEERS | {"results", "batch", "api"},
    "__main__": {"cli"},
}


def _part(module: str) -> str:
    """``spasm_cv.results.summary`` -> ``results``."""
    return module.split(".")[1] if module.count(".") else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "spasm_cv":  # from spasm_cv import x: x is a part
                out += [(node.lineno, f"spasm_cv.{a.name}") for a in node.names]
            elif node.module.startswith("spasm_cv."):
                out.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("spasm_cv.")]
    return out


def test_no_module_imports_one_above_or_beside_it():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        here = rel.parts[0].removesuffix(".py") if len(rel.parts) == 1 else rel.parts[0]
        allowed = ALLOWED[here] | BASE | {here}
        for line, module in _imports(path):
            there = _part(module)
            if there not in allowed:
                wrong.append(f"{rel}:{line} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_no_module_is_loaded_by_name():
    users = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "import_module(" in p.read_text() and p != PACKAGE / "__init__.py"
    ]
    assert users == []


def test_long_modules_say_why():
    """No module over ~400 lines without a reason written at its top."""
    long = []
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text().splitlines()
        if len(lines) > 420 and "Long module:" not in "\n".join(lines[:40]):
            long.append(f"{path.relative_to(PACKAGE)} ({len(lines)} lines)")
    assert not long, long


# a per-frame column named as text ("closure_right", f"closure_{side}", "quality"): only the
# serializers of signals.csv.gz and of the exports that copy it may spell them
_SIDED = r"(measurable|closure|mouth_pull|brow_lift)_(right|left|\{)"
_COLUMN_BY_NAME = re.compile(
    rf"""\[\s*f?["']((time|quality|n_faces)["']|{_SIDED})|\.get\(\s*f?["']{_SIDED}"""
)
_SERIALIZERS = {  # signals.csv.gz, its schema, and the exports that copy its columns
    "results/files.py",
    "results/track.py",
    "results/schemas.py",
    "results/frames.py",
    "export/physio.py",
}


def test_consumers_read_per_frame_data_through_the_track():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in _SERIALIZERS or rel.startswith(("signals/", "events/", "landmarks/")):
            continue  # the core names its own columns; the Track is made above it
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _COLUMN_BY_NAME.search(line) and not line.lstrip().startswith((">>>", "...")):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert not offenders, "read results.track.Track's fields instead:\n" + "\n".join(offenders)


def test_every_part_has_its_tests_listed():
    listed = (Path(__file__).parent / "README.md").read_text(encoding="utf-8")
    parts = {p.name + "/" if p.is_dir() else p.name for p in PACKAGE.iterdir()
             if (p.is_dir() and (p / "__init__.py").exists()) or p.suffix == ".py"}  # fmt: skip
    missing = sorted(p for p in parts if f"`{p}" not in listed)
    assert not missing, f"tests/README.md does not say where the tests of {missing} are"
    for name in re.findall(r"`((?:[a-z_]+/)?test_[a-z_]+\.py)`", listed):
        name = name.removeprefix("tests/")
        assert (Path(__file__).parent / name).is_file(), f"tests/README.md lists {name}"


# run in a new process: its sys.modules starts empty (this one has loaded cv2 long ago)
_READ_ONLY = """
import sys
folder, out = sys.argv[1], sys.argv[2]
import spasm_cv
spasm_cv.load(folder)
assert "cv2" not in sys.modules and "mediapipe" not in sys.modules, "spasm_cv.load"
from spasm_cv.cli import main
for args in (["report", folder, "--out", out + "/report.html"],
             ["export", folder, "--format", "csv", "--out", out + "/csv"],
             ["export", folder, "--format", "bids", "--out", out + "/bids"],
             ["export", folder, "--format", "elan", "--out", out + "/elan"],
             ["export", folder, "--format", "json", "--out", out + "/json"]):
    assert main(args) == 0, args
    loaded = [m for m in ("cv2", "mediapipe") if m in sys.modules]
    assert not loaded, f"spasm-cv {' '.join(args[:3])} loaded {loaded}"
"""


@pytest.mark.slow  # runs the command line in a new process
def test_reading_a_result_folder_loads_no_opencv_nor_mediapipe(tmp_path):
    """Readers of result folders (``spasm_cv.load``, ``report``, ``export``) work where
    OpenCV and MediaPipe are slow to load or broken: neither is imported."""
    folder = sim_result(tmp_path / "visit.spasm-cv")
    run = subprocess.run(
        [sys.executable, "-c", _READ_ONLY, str(folder), str(tmp_path)],
        env=package_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "report.html").is_file()
