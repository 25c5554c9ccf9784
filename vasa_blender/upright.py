"""A photo stored turned (EXIF orientation 2 to 8, as phones save portraits) on an image
plane.

Blender ignores the EXIF orientation: ``bpy.data.images.load`` gives the stored pixels, so
the plane shows such a photo sideways, upside down or mirrored, and a plane made to the
image's size (Import Images as Planes, ``scripts/batch.py``) has the stored proportions.
The engine turns the photo upright (``core.face.exif``), so a take's frames are upright and
have the upright proportions.

What the extension does about it, once a take of such a photo is made for a plane:

- the plane plays the take upright;
- *Show Photo* shows an upright copy of the photo (``<name> (upright)``, packed into the
  .blend and holding the photo it turns), not the stored pixels;
- a plane whose proportions are the stored photo's (and not also the upright one's) is
  reshaped to the upright proportions: its width along the texture's horizontal changes,
  its height stays; a plane of other proportions (a square one, say) keeps its shape;
- the photo datablock itself is left as it is, and the next Generate reads the photo's file
  again (the copy and the take images lead back to it).

Before the first take the extension has changed nothing, so the plane shows what Blender
loaded.
"""

from __future__ import annotations

from pathlib import Path

import bpy
import numpy as np

from ..core.face import exif

UPRIGHT_KEY = "talking_head_upright_of"  # on an upright copy: its photo (an ID, so a user)
TURN_KEY = "talking_head_orientation"  # on an upright copy: the orientation it undid


def orientation(path: Path | None, data: bytes | None) -> int:
    """The EXIF orientation of the photo in a file or in packed bytes (1: upright)."""
    try:
        raw = path.read_bytes() if path is not None else data or b""
    except OSError:
        return 1
    return exif.orientation(raw)


def upright_copy(photo: bpy.types.Image, turn: int) -> tuple[bpy.types.Image, bool]:
    """The packed upright copy of ``photo`` (made now unless one exists), and whether it is
    new."""
    for image in bpy.data.images:
        if image.get(UPRIGHT_KEY) == photo and image.get(TURN_KEY) == turn:
            return image, False
    width, height = photo.size
    pixels = np.empty(width * height * 4, np.float32)
    photo.pixels.foreach_get(pixels)
    # Blender's rows run bottom to top; EXIF's from the top.
    turned = exif.upright(pixels.reshape(height, width, 4)[::-1], turn)[::-1]
    copy = bpy.data.images.new(
        f"{photo.name} (upright)",
        turned.shape[1],
        turned.shape[0],
        alpha=True,
        float_buffer=photo.is_float,
    )
    copy.colorspace_settings.name = photo.colorspace_settings.name
    copy.alpha_mode = photo.alpha_mode
    copy.pixels.foreach_set(np.ascontiguousarray(turned).ravel())
    copy.pack()
    # A reference, not a name: once the plane plays the take and the take record points to
    # the copy, this keeps the photo in the .blend for the next Generate.
    copy[UPRIGHT_KEY] = photo
    copy[TURN_KEY] = turn
    return copy, True


def _uv_axes(mesh: bpy.types.Mesh) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Origin and the directions of the texture's u and v on a flat plane whose UV map is an
    affine map of its vertices (the vectors from UV (0, 0) to (1, 0) and to (0, 1)); None
    for any other mesh."""
    layers = [layer for layer in mesh.uv_layers if layer.active_render] or list(mesh.uv_layers)
    if not layers or not mesh.loops:
        return None
    n = len(mesh.loops)
    uv = np.empty(n * 2, np.float32)
    layers[0].data.foreach_get("uv", uv)
    index = np.empty(n, np.int32)
    mesh.loops.foreach_get("vertex_index", index)
    co = np.empty(len(mesh.vertices) * 3, np.float32)
    mesh.vertices.foreach_get("co", co)
    points = co.reshape(-1, 3)[index].astype(np.float64)
    design = np.column_stack([uv.reshape(-1, 2), np.ones(n)]).astype(np.float64)
    if np.linalg.matrix_rank(design) < 3:
        return None
    solution = np.linalg.lstsq(design, points, rcond=None)[0]
    du, dv, origin = solution
    size = max(np.linalg.norm(du), np.linalg.norm(dv))
    if size == 0 or np.abs(design @ solution - points).max() > 1e-4 * size:
        return None
    return origin, du, dv


def fit_plane(obj: bpy.types.Object | None, stored: tuple[int, int], turn: int) -> list | None:
    """Reshape a plane made to the stored photo's proportions to the upright ones (turns 5
    to 8 swap width and height). Returns the old vertex coordinates (to undo it), or None
    when the plane was left as it is."""
    if turn < 5 or obj is None or obj.type != "MESH" or min(stored) <= 0:
        return None
    mesh = obj.data
    if mesh.users > 1 or mesh.shape_keys is not None:
        return None  # shared or shape-keyed meshes are the user's to change
    axes = _uv_axes(mesh)
    if axes is None:
        return None
    origin, du, dv = axes
    shown = np.linalg.norm(du) / np.linalg.norm(dv)
    stored_aspect = stored[0] / stored[1]
    upright_aspect = 1.0 / stored_aspect

    def near(a: float, b: float) -> bool:
        return abs(a - b) <= 0.02 * b

    if not near(shown, stored_aspect) or near(shown, upright_aspect):
        return None
    old = np.empty(len(mesh.vertices) * 3, np.float32)
    mesh.vertices.foreach_get("co", old)
    centre = origin + 0.5 * du + 0.5 * dv
    across = du / np.linalg.norm(du)
    points = old.reshape(-1, 3).astype(np.float64)
    along = (points - centre) @ across
    points += np.outer(along * (upright_aspect / shown - 1.0), across)
    mesh.vertices.foreach_set("co", points.astype(np.float32).ravel())
    mesh.update()
    return old.tolist()


def restore_plane(mesh: bpy.types.Mesh, old: list) -> None:
    mesh.vertices.foreach_set("co", np.asarray(old, np.float32))
    mesh.update()
