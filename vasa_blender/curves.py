"""MotionTrack <-> animation curves on a controller Empty.

Every channel becomes a keyframed custom property on the controller (ARKit names, degrees
for angles; a Ditto take's signed ``lp_exp_*`` keypoint offsets too, in a group of their
own), one key per video frame, written in bulk with ``foreach_set``. The head pose is
also keyed on the Empty's rotation so it can be posed with the rotate gizmo:
X = -pitch, Y = roll, Z = yaw (viewed from the front, as the plane is seen), in radians.

*Re-render* reads the curves back by evaluating them at each frame of the take. A head
angle exists twice (custom property and rotation); the one the animator changed wins and is
copied over the other, so the two never disagree afterwards.
"""

from __future__ import annotations

import math

import bpy
import numpy as np

from ..core.motion.track import NEUTRAL, MotionTrack
from . import compat

CONTROLLER_KEY = "talking_head_controller"  # custom property: the take's name
# rotation_euler index and sign for each head angle (degrees in the track, radians on the Empty)
ROTATION = {"head_pitch": (0, -1.0), "head_roll": (1, 1.0), "head_yaw": (2, 1.0)}
GROUPS = (
    ("head_", "Head"),
    ("gaze_", "Gaze"),
    ("eye", "Eyes"),
    ("brow", "Brows"),
    ("jaw", "Mouth"),
    ("mouth", "Mouth"),
    ("lp_", "LivePortrait"),
)
# Ditto's lp_exp_KK_A channels: signed keypoint offsets from the photo's expression, about
# +-0.05. Their sliders span that; the hard range is wide (+-10 keypoint units, far past any
# face), so neither a generated nor an edited value is clamped when the curves play.
LP_PREFIX = "lp_"
TOLERANCE = 1e-4


def prop_path(name: str) -> str:
    return f'["{name}"]'


def group_of(name: str) -> str:
    for prefix, group in GROUPS:
        if name.startswith(prefix):
            return group
    return "Other"


def _ui_range(name: str) -> dict:
    if name in ("head_yaw", "head_pitch", "head_roll", "gaze_yaw", "gaze_pitch"):
        return {"soft_min": -30.0, "soft_max": 30.0, "description": f"{name} in degrees"}
    if name in ("head_x", "head_y"):
        return {"soft_min": -0.5, "soft_max": 0.5, "description": f"{name} in face widths"}
    if name == "head_scale":
        return {"soft_min": 0.5, "soft_max": 1.5, "description": "head distance, 1 = photo"}
    if name.startswith(LP_PREFIX):
        return {
            "min": -10.0,
            "max": 10.0,
            "soft_min": -0.05,
            "soft_max": 0.05,
            "description": f"{name}: keypoint offset from the photo's expression (LivePortrait)",
        }
    return {"min": 0.0, "max": 1.0, "description": f"ARKit {name}, 0..1"}


def create_controller(
    name: str, beside: bpy.types.Object | None, collection: bpy.types.Collection
) -> bpy.types.Object:
    """An Empty placed to the right of the image plane (or at the origin)."""
    empty = bpy.data.objects.new(name, None)
    empty.empty_display_type = "ARROWS"
    empty.rotation_mode = "XYZ"
    if beside is not None:
        half_width = max(beside.dimensions.x, beside.dimensions.y, 0.2) / 2
        empty.location = beside.matrix_world.translation.copy()
        empty.location.x += half_width + 0.3
        empty.empty_display_size = max(half_width * 0.4, 0.1)
    collection.objects.link(empty)
    return empty


def set_keys(curve: bpy.types.FCurve, frames: np.ndarray, values: np.ndarray) -> None:
    """Replace the curve's keys with one per frame (in one foreach_set, not key by key)."""
    points = curve.keyframe_points
    points.clear()
    points.add(len(frames))
    co = np.empty(2 * len(frames), np.float32)
    co[0::2], co[1::2] = frames, values
    points.foreach_set("co", co)
    curve.update()


def write_track(obj: bpy.types.Object, track: MotionTrack, frame_start: int) -> None:
    """Key every channel of ``track`` on ``obj``, frame ``i`` at scene frame start + i."""
    frames = frame_start + np.arange(track.n_frames, dtype=np.float32)
    for name in track.channels:
        values = track[name]
        obj[name] = float(values[0]) if len(values) else NEUTRAL.get(name, 0.0)
        obj.id_properties_ui(name).update(default=NEUTRAL.get(name, 0.0), **_ui_range(name))
        curve = compat.ensure_fcurve(obj, prop_path(name), 0, group_of(name))
        set_keys(curve, frames, values)
        if name in ROTATION:
            index, sign = ROTATION[name]
            obj.rotation_euler[index] = sign * math.radians(float(values[0]))
            curve = compat.ensure_fcurve(obj, "rotation_euler", index, "Head")
            set_keys(curve, frames, sign * np.radians(values))


def _evaluate(curve: bpy.types.FCurve | None, frames: np.ndarray, fallback: float) -> np.ndarray:
    if curve is None:
        return np.full(len(frames), fallback, np.float32)
    return np.array([curve.evaluate(float(f)) for f in frames], np.float32)


def _copy_curve(src: bpy.types.FCurve, dst: bpy.types.FCurve, scale: float) -> None:
    """Make ``dst`` the same keys as ``src`` with values times ``scale`` (handles too)."""
    n = len(src.keyframe_points)
    points = dst.keyframe_points
    points.clear()
    points.add(n)
    for attr in ("co", "handle_left", "handle_right"):
        values = np.empty(2 * n, np.float32)
        src.keyframe_points.foreach_get(attr, values)
        values[1::2] *= scale
        points.foreach_set(attr, values)
    for attr in ("interpolation", "handle_left_type", "handle_right_type", "easing"):
        values = np.empty(n, np.int32)
        src.keyframe_points.foreach_get(attr, values)
        points.foreach_set(attr, values)
    dst.update()


def read_track(
    obj: bpy.types.Object, stored: MotionTrack, frame_start: int
) -> tuple[MotionTrack, list[str]]:
    """The MotionTrack the controller's curves give at each frame of the take.

    Returns the track and notes (for example when both forms of a head angle were edited).
    """
    frames = frame_start + np.arange(stored.n_frames, dtype=np.float64)
    data = stored.data.copy()
    notes = []
    for j, name in enumerate(stored.channels):
        fallback = float(obj.get(name, NEUTRAL.get(name, 0.0)))
        prop_curve = compat.find_fcurve(obj, prop_path(name))
        values = _evaluate(prop_curve, frames, fallback)
        if name in ROTATION:
            index, sign = ROTATION[name]
            rot_curve = compat.find_fcurve(obj, "rotation_euler", index)
            rot = np.degrees(_evaluate(rot_curve, frames, obj.rotation_euler[index])) * sign
            prop_edited = np.abs(values - stored.data[:, j]).max(initial=0) > TOLERANCE
            rot_edited = np.abs(rot - stored.data[:, j]).max(initial=0) > 1e-3
            if rot_edited:
                if prop_edited and np.abs(rot - values).max(initial=0) > 1e-3:
                    notes.append(
                        f"{name} was edited both as a property and as the rotation; "
                        "the rotation was used."
                    )
                values = rot.astype(np.float32)
                if prop_curve is not None and rot_curve is not None:
                    _copy_curve(rot_curve, prop_curve, sign * 180.0 / math.pi)
            elif prop_edited and rot_curve is not None and prop_curve is not None:
                _copy_curve(prop_curve, rot_curve, sign * math.pi / 180.0)
        data[:, j] = values
    return MotionTrack(stored.fps, stored.channels, data, dict(stored.meta)), notes
