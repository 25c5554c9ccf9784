"""Frames without a face: filled so every frame has a value, and reported.

Gaps inside the clip are interpolated linearly between the faces on either side; gaps at
the start or end hold the nearest face. ``gaps`` lists them as 1-based inclusive frame
ranges for ``run.json`` and the command line.
"""

from __future__ import annotations

import numpy as np


def gaps(found: np.ndarray) -> list[tuple[int, int]]:
    """Frames without a face as (first, last), 1-based, inclusive."""
    edges = np.diff(np.concatenate([[0], (~found).astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(int(a) + 1, int(b)) for a, b in zip(starts, ends, strict=True)]


def fill_missing(values: np.ndarray, found: np.ndarray) -> np.ndarray:
    """[n, k] values with the rows where ``found`` is False interpolated (held at the ends)."""
    out = np.array(values, np.float64)
    if found.all() or not found.any():
        return out
    idx = np.arange(len(found))
    for k in range(out.shape[1]):
        out[~found, k] = np.interp(idx[~found], idx[found], out[found, k])
    return out


def describe_gaps(found: np.ndarray) -> str:
    """'3 frames without a face (12-13, 40)' or '' when none."""
    ranges = gaps(found)
    if not ranges:
        return ""
    text = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in ranges[:10])
    more = f" and {len(ranges) - 10} more ranges" if len(ranges) > 10 else ""
    missing = int((~found).sum())
    return f"{missing} frame{'s' * (missing != 1)} without a face ({text}{more}), filled"
