"""Self-reenactment as a quality measure: capture a real talking video, render its first
frame with the captured motion, and compare the rendering with the real frames.

``python -m core reenact --video VIDEO --out DIR`` writes ``DIR/capture`` (the captured
take), ``DIR/take`` (the rendering, the clip's sound muxed in when it has one) and
``DIR/reenact.json``: landmark error in face widths, correlation of mouth opening and head
angles (real against rendered, both measured by ``capture.measure``), and PSNR and SSIM of
the face region. Frame 1 is the portrait itself and is left out of the image metrics.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from ..capture.capture import capture_video, write_capture
from ..capture.measure import measure_frames
from ..capture.video import extract_audio, read_frames
from ..errors import OutputError
from ..runtime.factory import landmark_meter
from ..take.frames import read_frame
from ..take.generate import generate
from ..take.record import TakeFolder
from ..take.settings import Settings

Report = Callable[[str], None]
FACE_MARGIN = 0.1  # the face region: the landmarks' box grown by this share on each side


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two uint8 images."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5) of the
    grey levels of two uint8 RGB images."""
    x = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    y = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(z: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(z, (11, 11), 1.5)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s.mean())


def _corr(a: np.ndarray, b: np.ndarray) -> float | None:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.std(a[ok]) < 1e-9 or np.std(b[ok]) < 1e-9:
        return None
    return round(float(np.corrcoef(a[ok], b[ok])[0, 1]), 4)


def face_box(landmarks: np.ndarray, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 of the landmarks' box grown by ``FACE_MARGIN``, inside the image."""
    x0, y0 = landmarks[:, :2].min(0)
    x1, y1 = landmarks[:, :2].max(0)
    mx, my = (x1 - x0) * FACE_MARGIN, (y1 - y0) * FACE_MARGIN
    w, h = size
    return (
        max(0, int(x0 - mx)),
        max(0, int(y0 - my)),
        min(w, int(np.ceil(x1 + mx))),
        min(h, int(np.ceil(y1 + my))),
    )


def reenact_video(video: str | Path, out_dir: str | Path, report: Report | None = None) -> dict:
    """Capture, render, compare; returns what ``reenact.json`` holds."""
    say = report or (lambda line: None)
    out = Path(out_dir)
    if (out / "reenact.json").exists() or (out / "take").exists():
        raise OutputError(f"{out} already holds a reenactment; choose a new --out folder.")
    analyzer = landmark_meter()
    say(f"capturing {video}")
    captured = capture_video(video, analyzer=analyzer, keep_landmarks=True)
    info, real = captured.video, captured.measurements
    assert real is not None and real.reference is not None
    write_capture(captured, out / "capture")
    first = next(read_frames(info))
    portrait = out / "first_frame.png"
    cv2.imwrite(str(portrait), cv2.cvtColor(first, cv2.COLOR_RGB2BGR))
    audio = extract_audio(info, out / "audio.wav") if info.has_audio else None
    say("rendering the first frame with the captured motion")
    take = generate(
        portrait, audio, out / "take", Settings(), motion=out / "capture" / "motion.npz"
    )
    folder = TakeFolder(take.out_dir)
    fmt = folder.read_record().frames.format
    paths = [folder.frame_path(i + 1, fmt) for i in range(take.n_frames)]
    say("measuring the rendering")
    made = measure_frames(
        (read_frame(p, fmt) for p in paths), analyzer, info.fps, real.reference, True
    )
    fw = float(np.ptp(real.reference.landmarks[:, 0]))
    box = face_box(real.reference.landmarks, (info.width, info.height))
    errors, psnrs, ssims = [], [], []
    for i, frame in enumerate(read_frames(info)):
        if i >= len(paths):
            break
        a, b = real.landmarks[i], made.landmarks[i]
        if a is not None and b is not None:
            errors.append(float(np.linalg.norm(a[:, :2] - b[:, :2], axis=1).mean()) / fw)
        if i == 0:
            continue
        x0, y0, x1, y1 = box
        rendered = read_frame(paths[i], fmt)
        psnrs.append(psnr(frame[y0:y1, x0:x1], rendered[y0:y1, x0:x1]))
        ssims.append(ssim(frame[y0:y1, x0:x1], rendered[y0:y1, x0:x1]))
    result = {
        "video": str(info.path.resolve()),
        "fps": info.fps,
        "frames": len(paths),
        "frames_without_face": {
            "real": int((~real.found).sum()),
            "rendered": int((~made.found).sum()),
        },
        "landmark_error_face_widths": round(float(np.mean(errors)), 5) if errors else None,
        "correlation": {
            key: _corr(real[key][: len(paths)], made[key])
            for key in ("mouth", "yaw", "pitch", "roll", "eye_right", "eye_left")
        },
        "face_region": {
            "box": list(box),
            "psnr_db": round(float(np.mean(psnrs)), 3) if psnrs else None,
            "ssim": round(float(np.mean(ssims)), 4) if ssims else None,
        },
    }
    (out / "reenact.json").write_text(json.dumps(result, indent=1) + "\n")
    say(json.dumps({k: result[k] for k in list(result)[3:]}, indent=1))
    return result
