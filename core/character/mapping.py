"""Which shape key and which rotation axis each MotionTrack channel drives on a character.

Plain functions over names and arrays, so the plan is tested without Blender; the extension
only keys what :func:`plan_shape_keys` and :func:`rotation_curves` return.

Rotation axes follow the image plane's controller (``vasa_blender.curves``): a character
faces -Y with Z up, so yaw turns about Z, pitch about -X (positive pitch looks up) and roll
about Y. A bone's own axes differ: its Y runs along the bone (up the neck), X to the
character's left as seen from the front, Z towards the viewer, so yaw is about the bone's Y
and roll about its -Z.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..motion.track import GAZE_CHANNELS, HEAD_CHANNELS, MotionTrack
from .arkit import find_name

ROTATION_CHANNELS = ("head_yaw", "head_pitch", "head_roll", "gaze_yaw", "gaze_pitch")
# channel kind -> (rotation_euler index, sign), for an object and for a bone
OBJECT_AXES = {"pitch": (0, -1.0), "roll": (1, 1.0), "yaw": (2, 1.0)}
BONE_AXES = {"pitch": (0, -1.0), "yaw": (1, 1.0), "roll": (2, -1.0)}


def shape_channels(channels: Iterable[str]) -> list[str]:
    """The channels that are shape weights (not head pose or gaze)."""
    return [c for c in channels if c not in HEAD_CHANNELS and c not in GAZE_CHANNELS]


@dataclass
class KeyPlan:
    """``keys``: (channel, mesh, shape key) to key; ``missing``: shape channels no mesh has;
    ``bad_mapping``: mapping rows whose shape key no mesh has."""

    keys: list[tuple[str, str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    bad_mapping: list[str] = field(default_factory=list)


def plan_shape_keys(
    channels: Iterable[str],
    meshes: Mapping[str, Iterable[str]],
    mapping: Mapping[str, str] | None = None,
) -> KeyPlan:
    """Match every shape channel to a shape key on each mesh (``meshes``: mesh name -> its
    shape key names, the basis first). On each mesh a ``mapping`` row (channel -> shape key
    name) is tried first, then the channel's own name; both match ignoring case and
    separators. The basis key is never driven."""
    mapping = {c: k for c, k in (mapping or {}).items() if c and k}
    keys_of = {mesh: list(names)[1:] for mesh, names in meshes.items()}
    plan = KeyPlan()
    mapped_found: set[str] = set()
    for channel in shape_channels(channels):
        found = False
        for mesh, names in keys_of.items():
            key = find_name(mapping[channel], names) if channel in mapping else None
            if key is not None:
                mapped_found.add(channel)
            else:
                key = find_name(channel, names)
            if key is not None:
                plan.keys.append((channel, mesh, key))
                found = True
        if not found:
            plan.missing.append(channel)
    plan.bad_mapping = [f"{c} -> {k}" for c, k in mapping.items() if c not in mapped_found]
    return plan


def rotation_curves(
    track: MotionTrack, prefix: str, bone: bool, rest: tuple[float, float, float]
) -> dict[int, np.ndarray]:
    """Euler angles (radians) per ``rotation_euler`` index for the ``prefix`` channels
    (``head`` or ``gaze``), added to the target's ``rest`` rotation; only the axes a channel
    of the track drives."""
    axes = BONE_AXES if bone else OBJECT_AXES
    curves: dict[int, np.ndarray] = {}
    for kind, (index, sign) in axes.items():
        name = f"{prefix}_{kind}"
        if name in track.channels:
            curves[index] = rest[index] + sign * np.radians(track[name].astype(np.float64))
    return curves
