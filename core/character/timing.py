"""Frame-rate changes of a MotionTrack (a capture or a CSV at 60 fps keyed in a 24 fps scene)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..motion.track import MotionTrack


def resample(track: MotionTrack, fps: float) -> MotionTrack:
    """``track`` at ``fps``: linear interpolation over the same duration (the same track
    when the rate already matches)."""
    if abs(track.fps - fps) < 1e-6 or track.n_frames < 2:
        return MotionTrack(fps, track.channels, track.data.copy(), dict(track.meta))
    duration = (track.n_frames - 1) / track.fps
    n = int(np.floor(duration * fps + 1e-6)) + 1
    old = np.arange(track.n_frames) / track.fps
    new = np.arange(n) / fps
    data = np.stack([np.interp(new, old, track.data[:, j]) for j in range(len(track.channels))], 1)
    return MotionTrack(fps, track.channels, data, dict(track.meta))


def motion_at_rate(path: str | Path, fps: float, folder: str | Path) -> Path:
    """``path``'s motion at ``fps``: ``path`` itself when its rate matches, else a resampled
    copy written into ``folder`` (a take's ``inputs/``) with a note saying so. A file that
    is not a motion.npz is one sentence (``VasaError``)."""
    from ..take.generate import load_motion

    track = load_motion(path)
    if abs(track.fps - fps) < 1e-6:
        return Path(path)
    out = resample(track, fps)
    note = f"the motion was resampled from {track.fps:g} to {fps:g} fps"
    out.meta["notes"] = [*(out.meta.get("notes") or []), note]
    target = Path(folder) / f"motion_{fps:g}fps.npz"
    target.parent.mkdir(parents=True, exist_ok=True)
    out.save(target)
    return target
