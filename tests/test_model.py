import shutil

import pytest

from spasm_cv.errors import SpasmCvError
from spasm_cv.landmarks.model import MODEL_SHA256, default_model_path, verified_model_path


def test_bundled_model_verifies():
    assert verified_model_path().name == "face_landmarker.task"
    assert len(MODEL_SHA256) == 64


def test_altered_model_is_refused_by_name(tmp_path):
    p = tmp_path / "face_landmarker.task"
    shutil.copy(default_model_path(), p)
    with open(p, "r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01\x02")
    with pytest.raises(SpasmCvError, match=str(p.resolve())):
        verified_model_path(p)


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(SpasmCvError, match="not found"):
        verified_model_path(tmp_path / "missing.task")
