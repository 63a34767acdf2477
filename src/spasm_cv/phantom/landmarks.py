"""Mesh indices the phantom generator uses, per patient side (unmirrored image).

The patient's right eye is on the image's left (mesh 33/133); the left-side tables are the
mirror images of the right-side ones on the MediaPipe canonical mesh.
"""

from __future__ import annotations

# Points around each eye that do not move with the lid: eye corners, lower brow, nose
# bridge, cheekbone and the outer ring below the lower lid. Donor-to-target alignment.
EYE_ANCHORS = {
    "right": (
        33,
        133,
        130,
        243,
        46,
        53,
        52,
        65,
        55,
        168,
        6,
        116,
        117,
        118,
        119,
        100,
        228,
        229,
        230,
        231,
    ),
    "left": (
        263,
        362,
        359,
        463,
        276,
        283,
        282,
        295,
        285,
        168,
        6,
        345,
        346,
        347,
        348,
        329,
        448,
        449,
        450,
        451,
    ),
}

# Ring around the eye from just below the brow to just below the lower lid: the region
# taken from the donor (its convex hull, feathered).
EYE_REGION = {
    "right": (226, 113, 225, 224, 223, 222, 221, 189, 244, 233, 232, 231, 230, 229, 228, 31),
    "left": (446, 342, 445, 444, 443, 442, 441, 413, 464, 453, 452, 451, 450, 449, 448, 261),
}

# Upper and lower lid margins (for pictures and checks).
EYE_LIDS = {
    "right": (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7),
    "left": (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249),
}

MOUTH_CORNER = {"right": 61, "left": 291}
EYE_OUTER = {"right": 33, "left": 263}
FOREHEAD, CHIN = 10, 152

# Every point kept per frame by the first pass, and where each sits in the kept array.
KEY_POINTS: tuple[int, ...] = tuple(
    sorted(
        {i for table in (EYE_ANCHORS, EYE_REGION, EYE_LIDS) for pts in table.values() for i in pts}
        | set(MOUTH_CORNER.values())
        | set(EYE_OUTER.values())
        | {FOREHEAD, CHIN}
    )
)
KEY_INDEX = {mesh: k for k, mesh in enumerate(KEY_POINTS)}


def key_columns(mesh_indices: tuple[int, ...]) -> list[int]:
    """Columns of the kept-points array holding these mesh points."""
    return [KEY_INDEX[i] for i in mesh_indices]
