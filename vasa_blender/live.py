"""Watch a take while it renders: the frames already on disk, in the sequencer and on the plane.

While Generate or Re-render runs, the modal operator's timer (main thread) calls ``update``:
frames the engine has finished (each is renamed into place whole, so a file that exists is
complete) are appended to a preview image strip at their place in the timeline (one strip
per run of consecutive frames), and the image plane shows the newest one through a preview
image. Nothing is read on the worker thread and nothing waits. ``close`` removes the preview
before the take's real strip and texture are made (or after a cancel), so what stays is
exactly what a take without a preview would leave.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from pathlib import Path

import bpy

from ..core.take.frames import frame_name
from ..core.take.record import FRAMES_DIR, TakeFolder
from . import compat, vse

PREVIEW_KEY = "talking_head_preview"  # custom property on every preview strip and image
IMAGE_REFRESH_S = 0.25  # the plane's image is re-read at most this often (a PNG decode)


class LivePreview:
    """The preview of one running job. ``indices`` are the 1-based frame files in the order
    the engine writes them (None: 1, 2, 3... as many as come), ``frame_start`` the scene
    frame of file 1."""

    def __init__(
        self,
        scene: bpy.types.Scene,
        label: str,
        frames_dir: Path,
        fmt: str,
        indices: Sequence[int] | None,
        frame_start: int,
        channel_above: int = 1,
        node: bpy.types.ShaderNodeTexImage | None = None,
    ):
        self.scene_name = scene.name
        self.label = label
        self.frames_dir = frames_dir
        self.fmt = fmt
        self.indices = None if indices is None else list(indices)
        self.frame_start = frame_start
        self.channel_above = channel_above
        self.node = node
        self.original = node.image if node is not None else None
        self.image: bpy.types.Image | None = None
        self.strips: list[str] = []
        self.shown = 0  # how many of ``indices`` are in the preview
        self._last_index = -2
        self._image_at = 0.0

    def _scene(self) -> bpy.types.Scene | None:
        return bpy.data.scenes.get(self.scene_name)

    def _ready(self) -> list[int]:
        """Frame files finished since the last call, in order (stops at the first missing)."""
        upcoming = (
            itertools.count(self.shown + 1) if self.indices is None else self.indices[self.shown :]
        )
        ready = []
        for index in upcoming:
            if not (self.frames_dir / frame_name(index, self.fmt)).is_file():
                break
            ready.append(index)
        return ready

    def update(self) -> int:
        """Show the frames finished since the last call; how many frames are shown now."""
        scene = self._scene()
        ready = self._ready()
        if scene is None or not ready:
            return self.shown
        for index in ready:
            path = self.frames_dir / frame_name(index, self.fmt)
            strip = compat.find_strip(scene, self.strips[-1]) if self.strips else None
            if strip is not None and index == self._last_index + 1:
                strip.elements.append(path.name)
            else:  # the first frame, or a gap (re-render): a strip of its own
                start = self.frame_start + index - 1
                channel = vse.free_channel(scene, self.channel_above, start, start + 1)
                strip = compat.strips(scene).new_image(
                    f"{self.label} (rendering)", str(path), channel, start
                )
                strip[PREVIEW_KEY] = True
                strip.color_tag = "COLOR_03"
                self.strips.append(strip.name)
            self._last_index = index
        self.shown += len(ready)
        self._show_on_plane(self.frames_dir / frame_name(ready[-1], self.fmt))
        return self.shown

    def _show_on_plane(self, path: Path) -> None:
        if self.node is None:
            return
        now = time.monotonic()
        if self.image is not None and now - self._image_at < IMAGE_REFRESH_S:
            return
        self._image_at = now
        if self.image is None:
            self.image = bpy.data.images.load(str(path), check_existing=False)
            self.image.name = f"{self.label} (rendering)"
            self.image[PREVIEW_KEY] = True
            if self.original is not None:
                self.image.alpha_mode = self.original.alpha_mode
        else:
            self.image.filepath = str(path)
            self.image.reload()
        try:
            self.node.image = self.image
        except ReferenceError:  # the material was deleted meanwhile: no plane preview
            self.node = None

    def close(self) -> None:
        """Remove the preview strips and image; the plane shows what it showed before."""
        scene = self._scene()
        if scene is not None:
            for name in self.strips:
                strip = compat.find_strip(scene, name)
                if strip is not None:
                    vse.remove_strip(scene, strip)
        self.strips.clear()
        if self.node is not None:
            try:
                if self.node.image == self.image:
                    self.node.image = self.original
            except ReferenceError:
                pass
        if self.image is not None:
            try:
                bpy.data.images.remove(self.image)
            except ReferenceError:
                pass
        self.image = None


def for_generate(scene: bpy.types.Scene, plan) -> LivePreview:
    """The preview of a Generate (``generation.Plan``): the take's frames from its start
    frame, above the sound strip, and on the image plane if it has one."""
    from . import sources

    inputs = plan.inputs
    node = None
    if inputs.plane:
        node = sources.find_texture_node(inputs.plane, inputs.material, inputs.texture_node)
    return LivePreview(
        scene,
        plan.take,
        plan.folder / FRAMES_DIR,
        plan.settings.frame_format,
        None,
        inputs.frame_start,
        inputs.channel,
        node,
    )


def for_rerender(scene: bpy.types.Scene, take, plan) -> LivePreview:
    """The preview of a Re-render (``rerendering.RerenderPlan``): the re-rendered frames,
    still in the staging folder, at their places above the take's strip and on its plane."""
    from . import sources

    folder = TakeFolder(plan.folder)
    strip = compat.find_strip(scene, take.strip)
    node = sources.image_texture_node(take.plane) if take.plane is not None else None
    return LivePreview(
        scene,
        plan.take,
        folder.staging / FRAMES_DIR,
        take.frame_format or "png",
        [i + 1 for i in plan.indices],
        take.frame_start,
        strip.channel if strip is not None else 1,
        node,
    )
