"""MediaPipe Face Landmarker, opened and closed deliberately, following one face.

One ``FaceTracker`` per process, used as a context manager: mediapipe 1.2.x has deadlocked
when one landmarker was garbage-collected while another was detecting. The tracker starts
afresh at every segment boundary (see :mod:`spasm_cv.video.segments`), closing its landmarker
before it creates the next, so that results do not depend on how a video is split up.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spasm_cv._native import native_stderr_silenced
from spasm_cv.landmarks.model import verified_model_path
from spasm_cv.video.segments import DEFAULT_SEGMENTS, SegmentParams, segment_index

N_LANDMARKS = 478


@dataclass(frozen=True)
class FaceObservation:
    """The followed face in one frame.

    ``landmarks`` are MediaPipe's normalised image coordinates (x, y in 0-1 of width and
    height; z roughly in units of width), in the unmirrored image.
    ``blendshapes`` maps MediaPipe's names (``eyeBlinkLeft`` = patient's left) to 0-1 scores.
    ``matrix`` is the 4x4 facial transformation matrix (canonical face to camera space).
    ``n_faces`` is the number of faces in view at the last face count (>1: flag the frame).
    """

    landmarks: np.ndarray  # (478, 3) float32
    blendshapes: dict[str, float]
    matrix: np.ndarray  # (4, 4)
    n_faces: int


class FaceTracker:
    """Landmarks, blendshapes and pose of one followed face per frame (VIDEO mode).

    The landmarker follows one face: the one it finds first (most confident), tracked from
    frame to frame. Every ``count_faces_every_s`` seconds the bundle's own face detector
    counts the faces in view, so frames with bystanders are flagged (``n_faces > 1``) at a
    fraction of the cost of landmarking every face.
    Times passed to :meth:`detect` must increase; they are made strictly increasing in ms.
    A frame in a later segment than the previous one (``segments``, ``fps``: see
    :func:`~spasm_cv.video.segments.segment_index`) restarts tracking; ``segments=None``
    never restarts.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        count_faces_every_s: float = 1.0,
        *,
        segments: SegmentParams | None = DEFAULT_SEGMENTS,
        fps: float | None = None,
    ):
        self.model_path = verified_model_path(model_path)
        self.count_faces_every_s = count_faces_every_s
        self.segments, self.fps = segments, fps
        self.restarts = 0
        self._landmarker = None
        self._detector = None
        self._segment: int | None = None
        self._fresh_state()

    def _fresh_state(self) -> None:
        self._warm = False
        self._last_ms = -1
        self._last_count_s = -np.inf
        self._n_faces = 1

    def _open_landmarker(self):
        from mediapipe.tasks.python import BaseOptions, vision

        return vision.FaceLandmarker.create_from_options(
            vision.FaceLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(self.model_path)),
                running_mode=vision.RunningMode.VIDEO,
                num_faces=1,
                output_face_blendshapes=True,
                output_facial_transformation_matrixes=True,
            )
        )

    def _restart(self) -> None:
        """A fresh landmarker, the old one closed first (never two alive at once)."""
        with native_stderr_silenced():
            self._landmarker.close()
            self._landmarker = None
            self._landmarker = self._open_landmarker()
        self._fresh_state()
        self.restarts += 1

    def __enter__(self) -> FaceTracker:
        os.environ.setdefault("GLOG_minloglevel", "2")
        with native_stderr_silenced():
            from mediapipe.tasks.python import BaseOptions, vision

            self._landmarker = self._open_landmarker()
            detector_model = zipfile.ZipFile(self.model_path).read("face_detector.tflite")
            self._detector = vision.FaceDetector.create_from_options(
                vision.FaceDetectorOptions(
                    base_options=BaseOptions(model_asset_buffer=detector_model),
                    running_mode=vision.RunningMode.IMAGE,
                )
            )
        self._fresh_state()
        self._segment = None
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        with native_stderr_silenced():
            for task in (self._landmarker, self._detector):
                if task is not None:
                    task.close()
        self._landmarker = self._detector = None

    def detect(self, rgb: np.ndarray, time_s: float) -> FaceObservation | None:
        """Landmarks of the followed face in an RGB uint8 frame, or None if no face."""
        if self._landmarker is None:
            raise RuntimeError("FaceTracker used outside its 'with' block")
        import mediapipe as mp

        if self.segments is not None:
            k = segment_index(time_s, self.segments.segment_s, self.fps)
            if self._segment is not None and k != self._segment:
                self._restart()
            self._segment = k
        ms = max(int(round(time_s * 1000.0)), self._last_ms + 1)
        self._last_ms = ms
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        if self._warm:
            result = self._landmarker.detect_for_video(image, ms)
        else:  # the first call sets up the graph and logs about it
            with native_stderr_silenced():
                result = self._landmarker.detect_for_video(image, ms)
            self._warm = True
        if not result.face_landmarks:
            return None
        if time_s - self._last_count_s >= self.count_faces_every_s:
            first = not np.isfinite(self._last_count_s)
            with native_stderr_silenced() if first else contextlib.nullcontext():
                self._n_faces = max(len(self._detector.detect(image).detections), 1)
            self._last_count_s = time_s
        landmarks = np.array([(p.x, p.y, p.z) for p in result.face_landmarks[0]], dtype=np.float32)
        blend = {c.category_name: float(c.score) for c in result.face_blendshapes[0]}
        matrix = np.asarray(result.facial_transformation_matrixes[0], dtype=np.float64)
        return FaceObservation(landmarks, blend, matrix, n_faces=self._n_faces)
