"""Live Link Face CSV (Epic's iPhone app) <-> MotionTrack.

The format, as the app writes it per take and as public importers read it (for example the
``LIVE_LINK_FACE_HEADER`` of Blender Live Link Face importers built on JimWest's
PyLiveLinkFace, the column list in Epic's *Recording Facial Animation from an iOS Device*
page, and the Unity and Maya CSV importers that quote ``Timecode,BlendShapeCount,...``):

* one header row: ``Timecode``, ``BlendShapeCount``, the 52 ARKit blendshapes in PascalCase
  (``EyeBlinkLeft`` ... ``TongueOut``; note ``JawRight`` before ``JawLeft`` and ``MouthRight``
  before ``MouthLeft``, unlike Apple's enum), then ``HeadYaw, HeadPitch, HeadRoll,
  LeftEyeYaw, LeftEyePitch, LeftEyeRoll, RightEyeYaw, RightEyePitch, RightEyeRoll``;
* one row per captured frame: ``Timecode`` as ``HH:MM:SS:FF.fff`` (``FF`` frames at the
  app's timecode rate, 60 by default, ``.fff`` the sub-frame), ``BlendShapeCount`` (61: the
  52 shapes and the 9 angles), blendshape weights 0..1, angles in radians.

Import reads the columns by name (matched ignoring case, so camelCase files load too), puts
the times on the take's frame grid (linear interpolation; duplicated timecodes keep the last
row) and turns radians into the MotionTrack's degrees; the gaze is the mean of both eyes.
Export writes every frame of a take at its own rate. Signs are passed through as they are.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np

from ..errors import VasaError
from ..motion.track import NEUTRAL, STANDARD_CHANNELS, MotionTrack
from .arkit import ARKIT_NAMES, arkit_name
from .timing import resample

# The app's column order: Apple's, except that JawRight/JawLeft and MouthRight/MouthLeft swap.
_ORDER = list(ARKIT_NAMES)
for _a, _b in (("jawLeft", "jawRight"), ("mouthLeft", "mouthRight")):
    _i, _j = _ORDER.index(_a), _ORDER.index(_b)
    _ORDER[_i], _ORDER[_j] = _ORDER[_j], _ORDER[_i]
BLENDSHAPE_COLUMNS = tuple(n[0].upper() + n[1:] for n in _ORDER)
ANGLE_COLUMNS = (
    "HeadYaw",
    "HeadPitch",
    "HeadRoll",
    "LeftEyeYaw",
    "LeftEyePitch",
    "LeftEyeRoll",
    "RightEyeYaw",
    "RightEyePitch",
    "RightEyeRoll",
)
_ANGLES_LOWER = {a.lower() for a in ANGLE_COLUMNS}
HEADER = ("Timecode", "BlendShapeCount", *BLENDSHAPE_COLUMNS, *ANGLE_COLUMNS)
APP_FPS = 60.0  # the app's default timecode rate, used when a file is too short to tell
# Channels of an imported take: the standard ones (so every renderer reads it) and the rest
# of ARKit's 52.
IMPORT_CHANNELS = STANDARD_CHANNELS + tuple(n for n in ARKIT_NAMES if n not in STANDARD_CHANNELS)
_TIMECODE = re.compile(r"^\s*(\d+):(\d{1,2}):(\d{1,2})[:;](\d+(?:\.\d*)?)\s*$")


class LiveLinkError(VasaError):
    """The CSV is not a Live Link Face take (or cannot be written)."""


def _bad(path: Path, why: str) -> LiveLinkError:
    return LiveLinkError(
        f"{path} is not a Live Link Face CSV ({why}); export it again from the app."
    )


def _timecode(text: str) -> tuple[int, float]:
    """(whole seconds, frames within the second) of ``HH:MM:SS:FF.fff``."""
    match = _TIMECODE.match(text)
    if match is None:
        raise ValueError(text)
    h, m, s, frames = match.groups()
    return int(h) * 3600 + int(m) * 60 + int(s), float(frames)


def read_csv(path: str | Path, fps: float | None = None) -> MotionTrack:
    """The take in a Live Link Face CSV as a MotionTrack at ``fps`` (default: the file's own
    timecode rate). LiveLinkError with one sentence when the file is not such a CSV."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError as exc:
        raise LiveLinkError(f"There is no file {path}; check the path.") from exc
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _bad(path, "it cannot be read as CSV text") from exc
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows or not rows[0] or rows[0][0].strip().lower() != "timecode":
        raise _bad(path, "its first column is not Timecode")
    header = [h.strip() for h in rows[0]]
    named = {i: arkit_name(h) for i, h in enumerate(header)}
    shapes: dict[int, str] = {i: n for i, n in named.items() if n is not None}
    angles = {h.lower(): i for i, h in enumerate(header) if h.lower() in _ANGLES_LOWER}
    if not shapes:
        raise _bad(path, "it has no ARKit blendshape columns")
    body = rows[1:]
    if not body:
        raise _bad(path, "it has a header but no frames")
    seconds, frames, values = [], [], np.zeros((len(body), len(header)), np.float64)
    for r, row in enumerate(body, start=2):
        if len(row) < len(header):
            raise _bad(path, f"row {r} has {len(row)} fields for {len(header)} columns")
        try:
            sec, ff = _timecode(row[0])
        except ValueError:
            raise _bad(path, f"row {r} has the timecode {row[0]!r}, not HH:MM:SS:FF") from None
        seconds.append(sec)
        frames.append(ff)
        for i in (*shapes, *angles.values()):
            try:
                values[r - 2, i] = float(row[i])
            except ValueError:
                raise _bad(path, f"row {r}, column {header[i]} holds {row[i]!r}") from None
    if not np.isfinite(values).all():
        raise _bad(path, "it holds values that are not finite numbers")
    notes = []
    if len(set(seconds)) >= 2:
        rate = float(int(max(frames)) + 1)
    else:
        rate = APP_FPS
        notes.append(f"the file spans under a second: its timecode rate was taken as {APP_FPS:g}")
    times = np.asarray(seconds, np.float64) + np.asarray(frames) / rate
    times -= times[0]
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    keep = np.append(np.diff(times) > 1e-9, True)  # of equal times, the last row
    times, values = times[keep], values[keep]
    track = MotionTrack.neutral(len(times), rate, IMPORT_CHANNELS)
    for i, name in shapes.items():
        track[name] = values[:, i]
    radians = [values[:, angles[a.lower()]] for a in ANGLE_COLUMNS if a.lower() in angles]
    unit = math.pi / 180.0
    if radians and max(float(np.abs(a).max()) for a in radians) > math.pi:
        unit = 1.0  # no head turns past 180 degrees: these are degrees already
        notes.append("its angles exceed pi, so they were read as degrees")

    def angle(*names: str) -> np.ndarray | None:
        got = [values[:, angles[n.lower()]] for n in names if n.lower() in angles]
        return np.mean(got, axis=0) / unit if got else None

    for channel, columns in (
        ("head_yaw", ("HeadYaw",)),
        ("head_pitch", ("HeadPitch",)),
        ("head_roll", ("HeadRoll",)),
        ("gaze_yaw", ("LeftEyeYaw", "RightEyeYaw")),
        ("gaze_pitch", ("LeftEyePitch", "RightEyePitch")),
    ):
        found = angle(*columns)
        if found is not None:
            track[channel] = found
    # Rows at irregular times (dropped frames) onto the regular grid of the file's rate.
    grid = np.arange(int(np.floor(times[-1] * rate + 1e-6)) + 1) / rate
    if len(grid) != len(times) or np.abs(grid - times).max(initial=0) > 1e-6:
        data = np.stack(
            [np.interp(grid, times, track.data[:, j]) for j in range(track.data.shape[1])], 1
        )
        track = MotionTrack(rate, track.channels, data)
    track.meta = {"generator": "livelink_csv", "source": str(path), "notes": notes}
    return resample(track, fps) if fps else track


def _format_timecode(index: int, fps: float) -> str:
    base = max(1, round(fps))
    t = index / fps
    whole = math.floor(t + 1e-9)
    frames = (t - whole) * base
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}:{frames:06.3f}"


def write_csv(track: MotionTrack, path: str | Path) -> list[str]:
    """Write ``track`` as a Live Link Face CSV; returns the channels the format cannot hold
    (head position and scale, non-ARKit channels). Blendshapes the track lacks are 0."""
    path = Path(path)
    have = set(track.channels)
    dropped = [
        c
        for c in track.channels
        if c not in ARKIT_NAMES
        and c not in ("head_yaw", "head_pitch", "head_roll", *("gaze_yaw", "gaze_pitch"))
    ]
    n = track.n_frames
    zeros = np.zeros(n, np.float64)

    def col(name: str) -> np.ndarray:
        return track[name].astype(np.float64) if name in have else zeros + NEUTRAL.get(name, 0.0)

    columns = [col(name) for name in _ORDER]
    head = [np.radians(col(c)) for c in ("head_yaw", "head_pitch", "head_roll")]
    eye = [np.radians(col("gaze_yaw")), np.radians(col("gaze_pitch")), zeros]
    table = np.stack(columns + head + eye + eye, 1) if n else np.zeros((0, 61))
    count = str(len(BLENDSHAPE_COLUMNS) + len(ANGLE_COLUMNS))
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(HEADER)
            for i in range(n):
                cells = [f"{v:.7f}" for v in table[i]]
                writer.writerow([_format_timecode(i, track.fps), count, *cells])
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LiveLinkError(
            f"Could not write {path} ({exc.strerror}); check that its folder exists and is "
            "writable."
        ) from exc
    return dropped


def import_take(
    path: str | Path, out_dir: str | Path, fps: float | None = None, overwrite: bool = False
) -> MotionTrack:
    """Read the CSV and save it as a take (``motion.npz``, ``run.json`` of kind
    ``livelink import``) in ``out_dir``; nothing is written when the CSV is bad."""
    from ..runtime.packs import sha256_file
    from ..take.generate import now
    from ..take.settings import Settings
    from .take import write_motion_take

    started = now()
    track = read_csv(path, fps)
    settings = Settings(fps=track.fps, overwrite=overwrite)
    settings.validate()
    inputs = {"csv": {"path": str(Path(path).resolve()), "sha256": sha256_file(Path(path))}}
    write_motion_take(out_dir, track, "livelink import", inputs, settings, started)
    return track
