"""A PNG grid of rendered frames at the extremes of every MotionTrack channel.

``python -m core contact-sheet --image IMG --out sheet.png``: one tile per channel value
(the neutral frame first), each a crop around the head, labelled with what it shows.
How a person sees what the renderer does; the numbers come from ``evaluate``.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..face.portrait import load_image
from ..face.source import SourceFace
from ..motion.track import NEUTRAL, STANDARD_CHANNELS
from ..render.frame import FaceFrame
from ..runtime.factory import open_stages
from ..stages import Renderer
from ..take.frames import output_error

# (channel, extreme values); expression channels (0..1) show at 1.
EXTREMES: dict[str, tuple[float, ...]] = {
    "head_yaw": (-20.0, 20.0),
    "head_pitch": (-15.0, 15.0),
    "head_roll": (-15.0, 15.0),
    "head_x": (-0.15, 0.15),
    "head_y": (-0.15, 0.15),
    "head_scale": (0.85, 1.15),
    "gaze_yaw": (-30.0, 30.0),
    "gaze_pitch": (-25.0, 25.0),
}
COLUMNS = 8
LABEL_H = 22


def sheet_frames() -> list[tuple[str, dict[str, float]]]:
    """(label, channel values) of every tile, neutral first."""
    tiles: list[tuple[str, dict[str, float]]] = [("neutral", {})]
    for name in STANDARD_CHANNELS:
        for value in EXTREMES.get(name, (1.0,)):
            if value == NEUTRAL.get(name, 0.0):
                continue
            if name == "mouthClose":  # closes the lips over an open jaw; alone it is rest
                tiles.append(("mouthClose+1 jaw.6", {name: value, "jawOpen": 0.6}))
                continue
            tiles.append((f"{name} {value:+g}", {name: value}))
    return tiles


def contact_sheet(
    image: np.ndarray,
    face: SourceFace,
    renderer: Renderer,
    tile: int = 192,
    columns: int = COLUMNS,
) -> np.ndarray:
    """The grid as an RGB uint8 image, each tile framed on the head of ``face``."""
    d = FaceFrame.of(face)
    half = 1.45 * max(d.fw, d.fh * 0.9)
    cx, cy = d.centre
    h, w = image.shape[:2]
    x0, x1 = int(max(0, cx - half)), int(min(w, cx + half))
    y0, y1 = int(max(0, cy - half * 1.05)), int(min(h, cy + half * 0.95))
    frames = sheet_frames()
    rows = -(-len(frames) // columns)
    scale = tile / max(x1 - x0, y1 - y0)
    tw, th = int(round((x1 - x0) * scale)), int(round((y1 - y0) * scale))
    sheet = np.full((rows * (th + LABEL_H), columns * tw, 3), 255, np.uint8)
    for k, (label, channels) in enumerate(frames):
        r, c = divmod(k, columns)
        crop = renderer.render(channels)[y0:y1, x0:x1]
        small = cv2.resize(crop, (tw, th), interpolation=cv2.INTER_AREA)
        oy, ox = r * (th + LABEL_H), c * tw
        sheet[oy : oy + th, ox : ox + tw] = small
        cv2.putText(
            sheet,
            label,
            (ox + 4, oy + th + 15),
            cv2.FONT_HERSHEY_SIMPLEX,
            min(0.4, 0.36 * tile / 144),
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
    return sheet


def write_contact_sheet(
    image_path: str | Path, out: str | Path, tile: int = 192, pack: str | Path | None = None
) -> Path:
    """Render the sheet for a portrait file with ``pack``'s stages and write it as PNG."""
    image = load_image(image_path)
    stages = open_stages(pack)
    face = stages.face.analyze(image, Path(image_path).name)
    sheet = contact_sheet(image, face, stages.renderer(image, face), tile)
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        ok, data = cv2.imencode(
            ".png", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9]
        )
        out.write_bytes(data.tobytes())
    except OSError as exc:
        raise output_error(out, exc) from exc
    return out
