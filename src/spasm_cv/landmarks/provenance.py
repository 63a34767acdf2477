"""What result summaries say about the landmark stage, without loading it.

Readers of result folders (``spasm_cv.load``, ``report``, ``export``) import this: it must
import neither OpenCV nor MediaPipe (``tests/test_layers.py`` checks that reading a folder
loads neither). The model's name and checksum are in :mod:`spasm_cv.landmarks.model`, also
free of both.
"""

from __future__ import annotations

# Which face is followed, as result summaries state it (the policy of
# :class:`spasm_cv.landmarks.tracker.FaceTracker`).
FOLLOWED_FACE = (
    "the largest face in view whenever one is found anew (start, tracker restart, face lost), "
    "tracked in between"
)
