"""MediaPipe Face Landmarker, opened and closed deliberately, following one face.

The landmarker predicts MediaPipe's 468-point 3-D face mesh [1]_ (478 points with the iris
points the bundle adds), whose indices :mod:`spasm_cv.signals.geometry` reads.

One ``FaceTracker`` per process, used as a context manager: mediapipe 1.2.x has deadlocked
when one landmarker was garbage-collected while another was detecting. The tracker starts
afresh at every segment boundary (see :mod:`spasm_cv.video.segments`), closing its landmarker
before it creates the next, so that results do not depend on how a video is split up.

References
----------
.. [1] Kartynnik Y, Ablavatski A, Grishchenko I, Grundmann M. Real-time facial surface
   geometry from monocular video on mobile GPUs. arXiv:1907.06724, 2019.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spasm_cv._native import native_stderr_silenced
from spasm_cv.landmarks.model import verified_model_path
from spasm_cv.landmarks.texture import eye_texture
from spasm_cv.video.segments import DEFAULT_SEGMENTS, SegmentParams, segment_index

# Which face is followed, as result summaries state it: FOLLOWED_FACE in
# spasm_cv.landmarks.provenance (result readers import it without OpenCV or MediaPipe).


@dataclass(frozen=True)
class FaceObservation:
    """The followed face in one frame.

    ``landmarks`` are MediaPipe's normalised image coordinates (x, y in 0-1 of width and
    height; z roughly in units of width), in the unmirrored image.
    ``blendshapes`` maps MediaPipe's names (``eyeBlinkLeft`` = patient's left) to 0-1 scores.
    ``matrix`` is the 4x4 facial transformation matrix (canonical face to camera space).
    ``n_faces`` is the number of faces in view at the last face count (>1: flag the frame).
    ``eye_texture`` maps each anatomical side to the image detail of that eye's region
    (:func:`~spasm_cv.landmarks.texture.eye_texture`): low when something covers the eye.
    """

    landmarks: np.ndarray  # (478, 3) float32
    blendshapes: dict[str, float]
    matrix: np.ndarray  # (4, 4)
    n_faces: int
    eye_texture: dict[str, float] = field(default_factory=dict)


class FaceTracker:
    """Landmarks, blendshapes and pose of one followed face per frame (VIDEO mode).

    The landmarker follows one face. Whenever it has to find one anew (first frame, after a
    restart, after losing the face), it is shown only the largest face the bundle's face
    detector sees (the patient, nearest the camera, rather than a bystander); it then tracks
    that face from frame to frame. Every ``count_faces_every_s`` seconds the detector counts
    the faces in view, so frames with bystanders are flagged (``n_faces > 1``) at a fraction
    of the cost of landmarking every face.

    Small faces in large frames (a speaker at a lectern in 1080p) escape the landmarker's own
    short-range face detector. When neither finds a face on the whole frame, the detector
    looks again in overlapping tiles (at most every ``count_faces_every_s``); a face found
    there is landmarked in a square crop around it, ``crop_scale`` times the face's size,
    kept fixed while the face is followed, and its landmarks are mapped back to the whole
    frame (normalised image coordinates, as always).
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
        crop_scale: float = 3.0,
        segments: SegmentParams | None = DEFAULT_SEGMENTS,
        fps: float | None = None,
    ):
        self.model_path = verified_model_path(model_path)
        self.count_faces_every_s = count_faces_every_s
        self.crop_scale = crop_scale
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
        self._last_search_s = -np.inf
        self._n_faces = 1
        self._crop: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1 in pixels

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

    def _search_tiles(self, rgb: np.ndarray) -> tuple[float, float, float, float] | None:
        """The largest face the detector sees in overlapping half-size tiles, as a pixel
        box (x, y, width, height) of the whole frame; None if none."""
        import mediapipe as mp

        found = []
        # tiles are new input shapes: LiteRT may warn about their memory alignment
        with native_stderr_silenced():
            for x0, y0, x1, y1 in tiles(rgb.shape[1], rgb.shape[0]):
                tile = np.ascontiguousarray(rgb[y0:y1, x0:x1])
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=tile)
                found += [(d.bounding_box, x0, y0) for d in self._detector.detect(image).detections]
        boxes = [(b.origin_x + x0, b.origin_y + y0, b.width, b.height) for b, x0, y0 in found]
        return max(boxes, key=lambda box: box[2] * box[3], default=None)

    def _crop_image(self, rgb: np.ndarray):
        import mediapipe as mp

        x0, y0, x1, y1 = self._crop
        return mp.Image(
            image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb[y0:y1, x0:x1])
        )

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
            self._crop = None
            faces = self._count_faces(image, time_s)
            if not faces and time_s - self._last_search_s >= self.count_faces_every_s:
                self._last_search_s = time_s
                small = self._search_tiles(rgb)
                if small is not None:
                    self._crop = crop_around(small, rgb.shape[1], rgb.shape[0], self.crop_scale)
            if self._crop is not None:
                start = self._crop_image(rgb)
            elif len(faces) > 1:
                only = largest_face_only(rgb, faces)
                start = mp.Image(image_format=mp.ImageFormat.SRGB, data=only)
        elif self._crop is not None:
            start = self._crop_image(rgb)
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
        if self._crop is not None:
            landmarks = uncrop_landmarks(landmarks, self._crop, rgb.shape[1], rgb.shape[0])
        blend = {c.category_name: float(c.score) for c in result.face_blendshapes[0]}
        matrix = np.asarray(result.facial_transformation_matrixes[0], dtype=np.float64)
        return FaceObservation(
            landmarks, blend, matrix, n_faces=self._n_faces, eye_texture=eye_texture(rgb, landmarks)
        )


def largest_face_only(rgb: np.ndarray, faces: list, grow: float = 0.25) -> np.ndarray:
    """A copy of ``rgb`` with every detected face but the largest filled with grey.

    ``faces``: MediaPipe face detections (pixel bounding boxes), each box grown by ``grow``
    of its larger side; the largest face's own box is left untouched where boxes overlap.
    """

    def box(d) -> tuple[int, int, int, int]:
        b = d.bounding_box
        g = grow * max(b.width, b.height)
        h, w = rgb.shape[:2]
        return (
            max(int(b.origin_x - g), 0),
            max(int(b.origin_y - g), 0),
            min(int(b.origin_x + b.width + g) + 1, w),
            min(int(b.origin_y + b.height + g) + 1, h),
        )

    keep = max(faces, key=lambda d: d.bounding_box.width * d.bounding_box.height)
    out = rgb.copy()
    for d in faces:
        if d is not keep:
            x0, y0, x1, y1 = box(d)
            out[y0:y1, x0:x1] = 128
    x0, y0, x1, y1 = box(keep)
    out[y0:y1, x0:x1] = rgb[y0:y1, x0:x1]
    return out


def tiles(width: int, height: int, n: int = 3) -> list[tuple[int, int, int, int]]:
    """Overlapping tiles (x0, y0, x1, y1) covering a frame: each ``2 / (n + 1)`` of its width
    and height, stepped by half a tile (``n`` x ``n`` tiles)."""
    out = []
    tw, th = 2 * width // (n + 1), 2 * height // (n + 1)
    for j in range(n):
        for i in range(n):
            x0, y0 = i * tw // 2, j * th // 2
            out.append((x0, y0, min(x0 + tw, width), min(y0 + th, height)))
    return out


def crop_around(
    box: tuple[float, float, float, float], width: int, height: int, scale: float
) -> tuple[int, int, int, int]:
    """A square crop (x0, y0, x1, y1), ``scale`` times the box's larger side, centred on the
    box and shifted (not shrunk) to stay inside the frame where it can."""
    x, y, w, h = box
    side = int(round(min(scale * max(w, h), width, height)))
    cx, cy = x + w / 2.0, y + h / 2.0
    x0 = int(round(min(max(cx - side / 2.0, 0), width - side)))
    y0 = int(round(min(max(cy - side / 2.0, 0), height - side)))
    return x0, y0, x0 + side, y0 + side


def uncrop_landmarks(
    landmarks: np.ndarray, crop: tuple[int, int, int, int], width: int, height: int
) -> np.ndarray:
    """Landmarks normalised to a crop, normalised to the whole frame instead (z, in units of
    the image width like x, is rescaled with x)."""
    x0, y0, x1, y1 = crop
    out = landmarks.astype(np.float32, copy=True)
    out[:, 0] = (landmarks[:, 0] * (x1 - x0) + x0) / width
    out[:, 1] = (landmarks[:, 1] * (y1 - y0) + y0) / height
    out[:, 2] = landmarks[:, 2] * (x1 - x0) / width
    return out
