"""Named groups of MediaPipe's 468 face-mesh landmarks that the renderer moves together.

"Right"/"left" are the subject's: the subject's right eye appears on the image's left.
Upper and lower eyelid lists are paired point by point (same position along the eye).
"""

from __future__ import annotations

LIP_OUTER_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIP_OUTER_LOWER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
LIP_INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIP_INNER_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
MOUTH_CORNERS = (61, 291, 78, 308, 62, 292, 76, 306, 77, 307)
UPPER_LIP = (
    185,
    40,
    39,
    37,
    0,
    267,
    269,
    270,
    409,
    191,
    80,
    81,
    82,
    13,
    312,
    311,
    310,
    415,
    184,
    74,
    73,
    72,
    11,
    302,
    303,
    304,
    408,
    183,
    42,
    41,
    38,
    12,
    268,
    271,
    272,
    407,
)
LOWER_LIP = (
    146,
    91,
    181,
    84,
    17,
    314,
    405,
    321,
    375,
    95,
    88,
    178,
    87,
    14,
    317,
    402,
    318,
    324,
    96,
    89,
    179,
    86,
    15,
    316,
    403,
    319,
    325,
    90,
    180,
    85,
    16,
    315,
    404,
    320,
)

RIGHT_EYE_UPPER = (246, 161, 160, 159, 158, 157, 173)
RIGHT_EYE_LOWER = (7, 163, 144, 145, 153, 154, 155)
RIGHT_EYE_CREASE = (247, 30, 29, 27, 28, 56, 190)
LEFT_EYE_UPPER = (466, 388, 387, 386, 385, 384, 398)
LEFT_EYE_LOWER = (249, 390, 373, 374, 380, 381, 382)
LEFT_EYE_CREASE = (467, 260, 259, 257, 258, 286, 414)
# (upper lid, lower lid, crease) per eye, subject's right eye first (matches SourceFace.iris).
EYES = (
    (RIGHT_EYE_UPPER, RIGHT_EYE_LOWER, RIGHT_EYE_CREASE),
    (LEFT_EYE_UPPER, LEFT_EYE_LOWER, LEFT_EYE_CREASE),
)

RIGHT_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
LEFT_BROW = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)
RIGHT_BROW_INNER = (107, 55, 65, 66)
LEFT_BROW_INNER = (336, 285, 295, 296)

FACE_OVAL = (
    10,
    338,
    297,
    332,
    284,
    251,
    389,
    356,
    454,
    323,
    361,
    288,
    397,
    365,
    379,
    378,
    400,
    377,
    152,
    148,
    176,
    149,
    150,
    136,
    172,
    58,
    132,
    93,
    234,
    127,
    162,
    21,
    54,
    103,
    67,
    109,
)

FOREHEAD_TOP = 10
CHIN = 152
NOSE_TIP = 1
