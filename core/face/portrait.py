"""Reading the portrait: any common format to RGB uint8, with clear errors."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..errors import ImageError

MIN_SIDE = 64
MAX_SIDE = 8192


def load_image(path: str | Path) -> np.ndarray:
    """RGB uint8 [H, W, 3]. Alpha is composited over black; 16-bit is scaled to 8-bit."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"Image file not found: {path}; check the path.")
    if path.stat().st_size == 0:
        raise ImageError(f"Image file {path.name} is empty; choose another image.")
    data = np.fromfile(str(path), np.uint8)  # handles non-ASCII paths, unlike cv2.imread
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageError(
            f"Image file {path.name} could not be decoded; save it as PNG or JPEG and retry."
        )
    return to_rgb8(image, path.name)


def to_rgb8(image: np.ndarray, label: str = "the image") -> np.ndarray:
    """Normalise a decoded (BGR/BGRA/grey, 8/16-bit) image to RGB uint8 and check its size."""
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image.astype(np.float32) * 255.0, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    elif image.shape[2] == 4:
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        image = cv2.cvtColor((image[:, :, :3] * alpha).astype(np.uint8), cv2.COLOR_BGR2RGB)
    else:
        image = cv2.cvtColor(image[:, :, :3], cv2.COLOR_BGR2RGB)
    h, w = image.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ImageError(
            f"{label} is only {w}x{h} pixels; use a portrait at least "
            f"{MIN_SIDE} pixels on each side."
        )
    if max(h, w) > MAX_SIDE:
        raise ImageError(
            f"{label} is {w}x{h} pixels, larger than the {MAX_SIDE}-pixel limit; "
            "scale it down and retry."
        )
    return np.ascontiguousarray(image)
