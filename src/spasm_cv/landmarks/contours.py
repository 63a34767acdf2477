"""Outlines on the face mesh (MediaPipe Face Mesh indices), for drawing on video.

Sides are the patient's: in an unmirrored image the patient's right eye is on the image's
left. Used by the live preview and by ``spasm-cv review``.
"""

from __future__ import annotations

# each eye's lid margin, once around (upper and lower lid)
EYE_CONTOUR = {
    "right": (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
    "left": (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466),
}
