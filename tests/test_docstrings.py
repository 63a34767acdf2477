"""Docstrings: numpydoc sections on every public function, and their examples run.

Every module of the package is searched for doctests. Examples run in a fresh folder holding
what a user would have next to them: ``sample_phantom.spasm-cv`` (the bundled sample's
result folder, analysed once per test session) and ``monitor.sqlite`` (a monitor database
with the sample's events in one session). Examples that need a video to be landmarked are
marked ``# doctest: +SKIP`` with the reason in the docstring.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import inspect
import os
import pkgutil
from pathlib import Path

import pytest
from conftest import SAMPLE_RECORDED_AT
from helpers_monitor import write_session

import spasm_cv
from spasm_cv.results.files import read_events

# modules of the detection core (events/, signals/) are the lead's: their docstrings are
# checked by the doctest run, not for sections here
CORE = ("spasm_cv.events.", "spasm_cv.signals.")
NEEDS_SAMPLE = ("sample_phantom.spasm-cv", "monitor.sqlite")


def _modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(spasm_cv.__path__, "spasm_cv.")]
    return ["spasm_cv", *sorted(n for n in names if not n.endswith("__main__"))]


def _doctests(sample: bool) -> list[str]:
    """Modules with examples (read from their source: importing every module, MediaPipe
    included, would slow collection in every test process); ``sample``: those whose
    examples use the sample's result folder or the monitor database."""
    out = []
    for name in _modules():
        source = Path(importlib.util.find_spec(name).origin).read_text()
        examples = "".join(
            line for line in source.splitlines() if line.lstrip().startswith((">>> ", "... "))
        )
        if examples and any(s in examples for s in NEEDS_SAMPLE) == sample:
            out.append(name)
    return out


def _run(module: str, folder) -> None:
    here = os.getcwd()
    os.chdir(folder)
    try:
        result = doctest.testmod(
            importlib.import_module(module),
            optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
            report=True,
            verbose=False,
        )
    finally:
        os.chdir(here)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"


@pytest.mark.parametrize("module", _doctests(sample=False))
def test_doctests(module, tmp_path):
    _run(module, tmp_path)


@pytest.mark.parametrize("module", _doctests(sample=True))
def test_doctests_on_the_sample(module, sample_result, tmp_path):
    (tmp_path / "sample_phantom.spasm-cv").symlink_to(sample_result, target_is_directory=True)
    write_session(tmp_path / "monitor.sqlite", read_events(sample_result), SAMPLE_RECORDED_AT)
    _run(module, tmp_path)


def _public_functions():
    for name in spasm_cv.__all__:
        obj = getattr(spasm_cv, name)
        if inspect.isfunction(obj) and not obj.__module__.startswith(CORE):
            yield name, obj
    from spasm_cv.export import annotations, bids_dataset, physio
    from spasm_cv.export import tables as export_tables
    from spasm_cv.results import frames, params

    for module in (annotations, bids_dataset, physio, export_tables, frames, params):
        for name, obj in vars(module).items():
            if inspect.isfunction(obj) and obj.__module__ == module.__name__ and name[0] != "_":
                yield f"{module.__name__}.{name}", obj


_PUBLIC = list(_public_functions())


@pytest.mark.parametrize(("name", "func"), _PUBLIC, ids=[name for name, _ in _PUBLIC])
def test_public_functions_have_numpydoc_sections(name, func):
    doc = inspect.getdoc(func) or ""
    summary = doc.split("\n\n")[0]
    assert summary and summary.strip().endswith((".", ")")), f"{name}: no summary line"
    for section in ("Parameters", "Returns", "Examples"):
        sig = inspect.signature(func)
        if section == "Returns" and sig.return_annotation in ("None", None):
            continue
        if section == "Parameters" and not sig.parameters:
            continue
        assert f"\n{section}\n{'-' * len(section)}\n" in doc, f"{name}: no {section} section"
    params = [p for p in inspect.signature(func).parameters if p not in ("self", "cls")]
    documented = doc.split("Parameters\n----------\n", 1)[-1].split("\n\n")[0]
    for p in params:
        assert p in documented, f"{name}: parameter {p!r} not documented"
