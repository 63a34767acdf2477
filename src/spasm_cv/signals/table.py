"""``Signals``: the one table that flows from the landmark stage to the detection core."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spasm_cv.signals.geometry import (
    BLENDSHAPE_COLUMNS,
    GEOMETRY_COLUMNS,
    POSE_COLUMNS,
    SIDES,
    TEXTURE_COLUMNS,
    blendshape_sides,
    head_pose,
    side_measures,
)

SIGNAL_COLUMNS = GEOMETRY_COLUMNS + POSE_COLUMNS + BLENDSHAPE_COLUMNS + TEXTURE_COLUMNS

# why a frame was not observed though the video has it: ``corrupt`` (its packet could not
# be decoded), ``frozen`` (the image stood still too long: a still photo, a frozen feed)
LOST_FLAGS = ("corrupt", "frozen")
LOST_DTYPE = "<U7"


@dataclass
class Signals:
    """Per-frame face signals of one recording.

    ``time`` is in seconds from the first frame. ``face`` is False where no face was found;
    there every column is NaN. ``n_faces`` counts faces in view (more than one: flagged).
    ``columns`` holds ``SIGNAL_COLUMNS`` (see :mod:`spasm_cv.signals.geometry` for units),
    sides being the patient's anatomical ``left``/``right``. ``lost`` gives, per frame, one
    of ``LOST_FLAGS`` where the frame was not observed for a reason of the video itself
    (``face`` is False there), else ``""`` (default: ``""`` everywhere).
    """

    time: np.ndarray
    face: np.ndarray
    n_faces: np.ndarray
    columns: dict[str, np.ndarray]
    meta: dict = field(default_factory=dict)
    lost: np.ndarray = field(default_factory=lambda: np.array([], dtype=LOST_DTYPE))

    def __post_init__(self) -> None:
        if len(self.lost) == 0:  # not given: no frame was lost
            self.lost = np.full(len(self.time), "", dtype=LOST_DTYPE)
        elif len(self.lost) != len(self.time):
            raise ValueError(f"{len(self.lost)} lost flags for {len(self.time)} frames")

    def __len__(self) -> int:
        return len(self.time)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def side(self, name: str, side: str) -> np.ndarray:
        """Column ``<name>_<side>``, e.g. ``signals.side("eye_aperture", "left")``."""
        return self.columns[f"{name}_{side}"]

    def slice(self, start: int, stop: int) -> Signals:
        return Signals(
            self.time[start:stop],
            self.face[start:stop],
            self.n_faces[start:stop],
            {k: v[start:stop] for k, v in self.columns.items()},
            dict(self.meta),
            self.lost[start:stop],
        )

    def mirrored(self) -> Signals:
        """The same recording with the patient's sides swapped (for tests of symmetry)."""
        swap = {}
        for k, v in self.columns.items():
            if k.endswith("_left"):
                swap[k[: -len("_left")] + "_right"] = v
            elif k.endswith("_right"):
                swap[k[: -len("_right")] + "_left"] = v
            elif k in ("yaw", "roll"):
                swap[k] = -v
            else:
                swap[k] = v
        return Signals(self.time, self.face, self.n_faces, swap, dict(self.meta), self.lost)

    @property
    def fps(self) -> float:
        """Median frame rate of the recording, frames per second."""
        if len(self.time) < 2:
            return float(self.meta.get("fps") or 30.0)
        return float(1.0 / np.median(np.diff(self.time)))

    @classmethod
    def concatenate(cls, parts: list[Signals]) -> Signals:
        cols = parts[0].columns.keys()
        return cls(
            np.concatenate([p.time for p in parts]),
            np.concatenate([p.face for p in parts]),
            np.concatenate([p.n_faces for p in parts]),
            {k: np.concatenate([p.columns[k] for p in parts]) for k in cols},
            dict(parts[0].meta),
            np.concatenate([p.lost for p in parts]),
        )


def signals_row(observation, width: int, height: int) -> np.ndarray:
    """One frame's values of ``SIGNAL_COLUMNS`` from a FaceObservation (NaN if None)."""
    if observation is None:
        return np.full(len(SIGNAL_COLUMNS), np.nan)
    values = side_measures(observation.landmarks, width, height)
    values.update(zip(POSE_COLUMNS, head_pose(observation.matrix), strict=True))
    values.update(blendshape_sides(observation.blendshapes))
    texture = getattr(observation, "eye_texture", None) or {}
    values.update({f"eye_texture_{s}": texture.get(s, np.nan) for s in SIDES})
    return np.array([float(values[c]) for c in SIGNAL_COLUMNS])


class SignalsBuilder:
    """Collects one row per frame, keeping only the signals (not the 478-point mesh)."""

    def __init__(self, width: int, height: int, meta: dict | None = None):
        self.width, self.height = width, height
        self.meta = dict(meta or {})
        # one entry per frame, appended in one step: an interrupt (Ctrl-C, SIGTERM) arriving
        # while a frame is being added must not leave the columns of different lengths
        self._frames: list[tuple[float, bool, int, np.ndarray, str]] = []

    def __len__(self) -> int:
        return len(self._frames)

    def add(
        self, time_s: float, observation, size: tuple[int, int] | None = None, lost: str = ""
    ) -> None:
        """Add a frame; ``observation`` is a FaceObservation or None (no face). ``size``: the
        frame's (width, height) in pixels, when it may differ from the previous frames'.
        ``lost``: one of ``LOST_FLAGS`` for a frame not observed (``observation`` None)."""
        if size is not None:
            self.width, self.height = size
        if lost and (lost not in LOST_FLAGS or observation is not None):
            raise ValueError(f"a lost frame ({lost!r}) has no observation")
        row = signals_row(observation, self.width, self.height)
        n_faces = 0 if observation is None else observation.n_faces
        self._frames.append((time_s, observation is not None, n_faces, row, lost))

    def build(self) -> Signals:
        n = len(self._frames)
        rows = np.array([f[3] for f in self._frames]).reshape(n, len(SIGNAL_COLUMNS))
        return Signals(
            time=np.array([f[0] for f in self._frames], dtype=np.float64),
            face=np.array([f[1] for f in self._frames], dtype=bool),
            n_faces=np.array([f[2] for f in self._frames], dtype=np.int16),
            columns={c: rows[:, i] for i, c in enumerate(SIGNAL_COLUMNS)},
            meta=dict(self.meta),
            lost=np.array([f[4] for f in self._frames], dtype=LOST_DTYPE),
        )
