"""MediaPipe Face Landmarker, opened and closed deliberately, following one face.

One ``FaceTracker`` per process, used as a context manager: mediapipe 1.2.x has deadlocked
when one landmarker was garbage-collected while another was detecting. The tracker starts
afresh at every segment boundary (see :mod:`spasm_cv.video.segments`), closing its landmarker
before it creates the next, so that results do not depend on how a video is split up.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spasm_cv._native import native_stderr_silenced
from spasm_cv.landmarks.model import verified_model_path
from spasm_cv.video.segments import DEFAULT_SEGMENTS, SegmentParams, segment_index

# Which face is followed, as result summaries state it.
FOLLOWED_FACE = (
    "the largest face in view whenever one is found anew (start, tracker restart, face lost), "
    "tracked in between"
)


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

    The landmarker follows one face. Whenever it has to find one anew (first frame, after a
    restart, after losing the face), it is shown only the largest face the bundle's face
    detector sees (the patient, nearest the camera, rather than a bystander); it then tracks
    that face from frame to frame. Every ``count_faces_every_s`` seconds the detector counts
    the faces in view, so frames with bystanders are flagged (``n_faces > 1``) at a fraction
    of the cost of landmarking every face.
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
        self._detector_warm = False
        self._fresh_state()

    def _fresh_state(self) -> None:
        self._warm = False
        self._following = False
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
        self._detector_warm = False
        return self

    def _count_faces(self, image, time_s: float) -> list:
        """The detector's faces in ``image`` (their count is kept for the frames' flags)."""
        if self._detector_warm:
            faces = self._detector.detect(image).detections
        else:
            with native_stderr_silenced():
                faces = self._detector.detect(image).detections
            self._detector_warm = True
        self._n_faces = max(len(faces), 1)
        self._last_count_s = time_s
        return faces

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
        rgb = np.ascontiguousarray(rgb)
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        start = image
        if not self._following:  # the landmarker looks for a face anew: start on the largest
            faces = self._count_faces(image, time_s)
            if len(faces) > 1:
                only = largest_face_only(rgb, faces)
                start = mp.Image(image_format=mp.ImageFormat.SRGB, data=only)
        if self._warm:
            result = self._landmarker.detect_for_video(start, ms)
        else:  # the first call sets up the graph and logs about it
            with native_stderr_silenced():
                result = self._landmarker.detect_for_video(start, ms)
            self._warm = True
        self._following = bool(result.face_landmarks)
        if not result.face_landmarks:
            return None
        if time_s - self._last_count_s >= self.count_faces_every_s:
            self._count_faces(image, time_s)
        landmarks = np.array([(p.x, p.y, p.z) for p in result.face_landmarks[0]], dtype=np.float32)
        blend = {c.category_name: float(c.score) for c in result.face_blendshapes[0]}
        matrix = np.asarray(result.facial_transformation_matrixes[0], dtype=np.float64)
        return FaceObservation(landmarks, blend, matrix, n_faces=self._n_faces)


def largest_face_only(rgb: np.ndarray, faces: list, grow: float = 0.25) -> np.ndarray:
    """A copy of ``rgb`` with every detected face but the largest filled with grey.

    ``faces``: MediaPipe face detections (pixel bounding boxes), each box grown by ``grow``
    of its larger side; the largest face's own box is left untouched where boxes overlap.
    """

    def box(d) -> tuple[int, int, int, int]:
        b = d.bounding_box
        g = grow * max(b.width, b.height)
        h, w = rgb.shape[:2]
        return (max(int(b.origin_x - g), 0), max(int(b.origin_y - g), 0),
                min(int(b.origin_x + b.width + g) + 1, w),
                min(int(b.origin_y + b.height + g) + 1, h))

    keep = max(faces, key=lambda d: d.bounding_box.width * d.bounding_box.height)
    out = rgb.copy()
    for d in faces:
        if d is not keep:
            x0, y0, x1, y1 = box(d)
            out[y0:y1, x0:x1] = 128
    x0, y0, x1, y1 = box(keep)
    out[y0:y1, x0:x1] = rgb[y0:y1, x0:x1]
    return out
