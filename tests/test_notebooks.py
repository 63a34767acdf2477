"""The notebooks in notebooks/: committed without outputs, public API only, and they run.

Each notebook is executed top to bottom in a fresh ``python3`` kernel (nbclient), with the
working directory ``notebooks/`` as in Jupyter; a cell that raises fails the test. The
kernel imports the same ``spasm_cv`` as this test process, and its temporary folders go
under pytest's ``tmp_path``.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 300
# Modules a notebook may import names from: the package and its documented subpackages.
PUBLIC_MODULES = ("spasm_cv", "spasm_cv.batch", "spasm_cv.evaluation", "spasm_cv.phantom")


def _ids(path: Path) -> str:
    return path.stem


def _code_cells(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def test_the_three_notebooks_exist():
    names = {p.name for p in NOTEBOOKS}
    assert {
        "01_analyze_a_video.ipynb",
        "02_validate_with_a_phantom.ipynb",
        "03_cohort_summary.ipynb",
    } <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_is_committed_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            strip = "strip it: jupyter nbconvert --clear-output --inplace notebooks/*.ipynb"
            assert not cell.get("outputs"), f"cell {i} has outputs; {strip}"
            assert cell.get("execution_count") is None, f"cell {i} has an execution count; {strip}"
    assert path.stat().st_size < 100_000


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_uses_only_the_public_api(path):
    for source in _code_cells(path):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("spasm_cv"):
                assert node.module in PUBLIC_MODULES, f"imports from {node.module}"
                public = importlib.import_module(node.module).__all__
                for alias in node.names:
                    assert alias.name in public, f"{node.module}.{alias.name} is not public"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("spasm_cv"):
                        assert alias.name in PUBLIC_MODULES, f"imports {alias.name}"
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "spasm_cv"
            ):
                import spasm_cv

                assert node.attr in spasm_cv.__all__, f"spasm_cv.{node.attr} is not public"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_runs(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    import spasm_cv

    # The kernel inherits this environment: the same spasm_cv, temporary files under tmp_path.
    package_parent = str(Path(spasm_cv.__file__).resolve().parents[1])
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    start = time.perf_counter()
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{path.name} raised:\n{exc}", pytrace=False)
    print(f"{path.name}: {time.perf_counter() - start:.0f} s")
