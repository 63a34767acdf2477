"""The bundled MediaPipe Face Landmarker model and its integrity check."""

from __future__ import annotations

import hashlib
from pathlib import Path

from spasm_cv._resources import data_path
from spasm_cv.errors import SpasmCvError

MODEL_NAME = "face_landmarker.task"
MODEL_VERSION = "face_landmarker float16 v1"
MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"

_verified: dict[Path, str] = {}


def default_model_path() -> Path:
    return data_path("models", MODEL_NAME)


def verified_model_path(path: str | Path | None = None) -> Path:
    """Return the model path after checking its SHA-256; raise SpasmCvError otherwise."""
    model = Path(path) if path is not None else default_model_path()
    if not model.is_file():
        raise SpasmCvError(f"face model not found: {model}")
    model = model.resolve()
    if _verified.get(model) != MODEL_SHA256:
        digest = hashlib.sha256(model.read_bytes()).hexdigest()
        if digest != MODEL_SHA256:
            raise SpasmCvError(
                f"face model {model} has SHA-256 {digest[:12]}..., expected "
                f"{MODEL_SHA256[:12]}...: the file is altered or not the official float16 v1 model"
            )
        _verified[model] = digest
    return model
