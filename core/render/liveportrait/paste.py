"""The paste-back: the 512 generator output into the full-resolution frame.

As LP (``src/utils/crop.py`` ``prepare_paste_back``/``paste_back``): the output and a
feathered mask go back through the crop's inverse affine, and
``frame = mask * out + (1 - mask) * photo``. LP's ``mask_template.png`` is 0 at the
square's edge rising linearly to 1 over its outer 16 of 512 pixels; ``feather_mask`` makes
the same ramp. Only the crop's bounding box is touched: every pixel outside it is the photo,
bit for bit, and inside it where the mask is 0 the photo too.
"""

from __future__ import annotations

import cv2
import numpy as np

from .crop import CROP_SIZE, LpCrop

FEATHER = 16  # pixels of the 512 square


def feather_mask(size: int = CROP_SIZE, feather: int = FEATHER) -> np.ndarray:
    """[size, size] float32: 0 at the edge, 1 from ``feather`` pixels in."""
    ramp = np.minimum(np.arange(size), np.arange(size)[::-1]).astype(np.float32) / feather
    ramp = np.clip(ramp, 0.0, 1.0)
    return np.minimum(ramp[:, None], ramp[None, :])


class PasteBack:
    """Pastes 512 outputs into a photo through one crop's inverse affine."""

    def __init__(self, photo: np.ndarray, crop: LpCrop) -> None:
        self.photo = photo
        x0, y0, x1, y1 = crop.box
        self.box = crop.box
        # The inverse affine into the box's own pixels.
        self.to_box = crop.to_photo.copy()
        self.to_box[:, 2] -= (x0, y0)
        self.size = (x1 - x0, y1 - y0)
        mask = cv2.warpAffine(
            feather_mask(),
            self.to_box,
            self.size,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0.0,),
        )
        self.mask = np.clip(mask, 0.0, 1.0)[..., None]
        self.under = photo[y0:y1, x0:x1].astype(np.float32)

    def __call__(self, out: np.ndarray) -> np.ndarray:
        """A full frame (RGB uint8) with ``out`` ([512, 512, 3], 0..1) pasted in."""
        warped = cv2.warpAffine(
            np.ascontiguousarray(out, np.float32) * 255.0,
            self.to_box,
            self.size,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0, 0, 0),
        )
        blend = self.mask * warped + (1.0 - self.mask) * self.under
        frame = self.photo.copy()
        x0, y0, x1, y1 = self.box
        frame[y0:y1, x0:x1] = np.clip(np.rint(blend), 0, 255).astype(np.uint8)
        return frame
