"""The brows: browInnerUp, browDown and browOuterUp move the brow landmarks.

A plain warp draws them well (the skin around follows through the spline), so there is
nothing to paint; this is only where their control points go.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..face import regions as fr

BROW_OUTER_UP = 0.06  # face heights at the brow's outer end


def move_brows(ch: Mapping[str, float], up: np.ndarray, fh: float, disp: np.ndarray) -> None:
    """Add the brows' displacement (upright face frame) to ``disp``. ``up``: the
    landmarks in the face frame; ``fh``: the face height in pixels."""
    inner = ch.get("browInnerUp", 0.0)
    disp[list(fr.RIGHT_BROW_INNER + fr.LEFT_BROW_INNER), 1] -= inner * 0.04 * fh
    disp[list(fr.RIGHT_BROW), 1] += ch.get("browDownRight", 0.0) * 0.03 * fh
    disp[list(fr.LEFT_BROW), 1] += ch.get("browDownLeft", 0.0) * 0.03 * fh
    # The outer ends rise, the inner ends stay.
    for brow, inner_end, name in (
        (fr.RIGHT_BROW, fr.RIGHT_BROW_INNER, "browOuterUpRight"),
        (fr.LEFT_BROW, fr.LEFT_BROW_INNER, "browOuterUpLeft"),
    ):
        outer = ch.get(name, 0.0)
        if outer:
            reach = np.abs(up[list(brow), 0] - up[list(inner_end), 0].mean())
            disp[list(brow), 1] -= outer * BROW_OUTER_UP * fh * reach / max(reach.max(), 1e-6)
