"""A thin-plate-spline displacement field on a coarse grid, and its backward map.

The control points stay where they are in the source photo, so the spline's system matrix
and its values on the grid are solved once; each frame is then one matrix product
(displacements -> field on the grid). The renderer needs the *backward* map (for each
output pixel, where to sample the photo); a few fixed-point steps invert the forward field.
"""

from __future__ import annotations

import cv2
import numpy as np


def _kernel(r2: np.ndarray) -> np.ndarray:
    """U(r) = r^2 log r, written on r^2 (0 at r = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 0.5 * r2 * np.log(r2)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


class CoarseTps:
    """Maps control-point displacements to a backward sampling grid.

    ``points``: [N, 2] control points in region pixels (edge-based coordinates);
    ``grid_shape``: (gh, gw) coarse grid spanning pixel centres of a ``size`` region.
    """

    def __init__(
        self,
        points: np.ndarray,
        size: tuple[int, int],
        grid_shape: tuple[int, int],
        smoothing: float = 1e-5,
        margin: float = 0.06,
        fade_edges: tuple[bool, bool, bool, bool] = (True, True, True, True),
    ):
        w, h = size
        gh, gw = grid_shape
        self.size, self.grid_shape = size, grid_shape
        self.scale = float(max(w, h))
        c = points.astype(np.float64) / self.scale
        n = len(c)
        k = _kernel(((c[:, None, :] - c[None, :, :]) ** 2).sum(-1)) + smoothing * np.eye(n)
        p = np.concatenate([np.ones((n, 1)), c], 1)
        system = np.zeros((n + 3, n + 3))
        system[:n, :n], system[:n, n:], system[n:, :n] = k, p, p.T
        # Displacement -> spline coefficients; applied per frame (cheaper than folding it
        # into the grid operator, which would cost a G x N x N product at set-up).
        self.solve = np.linalg.inv(system)[:, :n].astype(np.float32)
        xs = np.linspace(0.5, w - 0.5, gw)
        ys = np.linspace(0.5, h - 0.5, gh)
        gx, gy = np.meshgrid(xs, ys)
        self.grid = np.stack([gx, gy], -1).astype(np.float32)  # [gh, gw, 2] pixel centres
        # The spline is smooth: it is evaluated on every other grid point (odd grid sizes)
        # and the points between are averaged from their neighbours.
        self.half = gh % 2 == 1 and gw % 2 == 1 and gh > 2 and gw > 2
        sub = self.grid[::2, ::2] if self.half else self.grid
        g = sub.reshape(-1, 2).astype(np.float64) / self.scale
        kg = _kernel(((g[:, None, :] - c[None, :, :]) ** 2).sum(-1))
        pg = np.concatenate([np.ones((len(g), 1)), g], 1)
        self.basis = np.concatenate([kg, pg], 1).astype(np.float32)  # [G, N + 3]

        # Fade the field to zero at the region's edges (left, top, right, bottom) that lie
        # inside the picture, so nothing outside the region moves; an edge on the picture's
        # own border may move.
        def ramp(distance: np.ndarray, width: float, fade: bool) -> np.ndarray:
            return np.clip(distance / width, 0, 1) if fade else np.ones_like(distance)

        fx = np.minimum(
            ramp(xs, margin * w, fade_edges[0]), ramp(w - xs, margin * w, fade_edges[2])
        )
        fy = np.minimum(
            ramp(ys, margin * h, fade_edges[1]), ramp(h - ys, margin * h, fade_edges[3])
        )
        f = np.outer(fy, fx)
        self.window = (f * f * (3 - 2 * f)).astype(np.float32)

    def interpolate(self, values: np.ndarray) -> np.ndarray:
        """[gh, gw, C] spline through [N, C] values at the control points (no edge fade)."""
        out = self.basis @ (self.solve @ values.astype(np.float32))
        if not self.half:
            return out.reshape(*self.grid_shape, values.shape[1])
        gh, gw = self.grid_shape
        sub = out.reshape((gh + 1) // 2, (gw + 1) // 2, values.shape[1])
        full = np.empty((gh, gw, values.shape[1]), np.float32)
        full[::2, ::2] = sub
        full[::2, 1::2] = 0.5 * (sub[:, :-1] + sub[:, 1:])
        full[1::2] = 0.5 * (full[:-1:2] + full[2::2])
        return full

    def forward(self, displacement: np.ndarray) -> np.ndarray:
        """[gh, gw, 2] forward displacement field (pixels) for [N, 2] control displacements."""
        return self.interpolate(displacement) * self.window[..., None]

    def invert(self, field: np.ndarray, iterations: int = 4) -> np.ndarray:
        """Backward map for a [gh, gw, 2] forward field on this grid (fixed-point steps)."""
        if not np.any(field):
            return self.grid.copy()
        gh, gw = self.grid_shape
        w, h = self.size
        # Position (pixels) -> fractional coarse-grid index, for sampling the field.
        to_index = np.array([(gw - 1) / max(w - 1, 1e-9), (gh - 1) / max(h - 1, 1e-9)], np.float32)
        pos = self.grid - field
        for _ in range(iterations):
            idx = (pos - 0.5) * to_index
            sampled = cv2.remap(
                field, idx[..., 0], idx[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
            pos = self.grid - sampled
        return pos
