"""Scene properties: the inputs and controls of the next take, the job's progress, and the
record of every take made in this scene (``scene.talking_head``)."""

from __future__ import annotations

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from ..core.motion.settings import CONTROLS, Control
from . import compat
from .capture_props import CLASSES as CAPTURE_CLASSES
from .capture_props import CaptureState
from .character_props import CLASSES as CHARACTER_CLASSES
from .character_props import CharacterState

SOURCE_KINDS = [
    ("PLANE", "Image Plane", "A mesh whose material has an image texture (it will play the take)"),
    ("IMAGE", "Image", "An image datablock"),
    ("STRIP", "Image Strip", "A still-image strip in the sequencer"),
]

# Engine controls shown in the panel: every motion control the engine describes, so the
# panel grows with the engine. Names are core.take.settings.Settings fields.
CONTROL_FIELDS = tuple(CONTROLS)


def control_property(control: Control):
    """The Blender property for one engine control (label, range, default, unit, help)."""
    unit = f" ({control.unit})" if control.unit and control.unit != "x" else ""
    text = {"name": control.label + unit, "description": control.help}
    if control.choices:
        items = [(c, c.replace("_", " ").title(), "") for c in control.choices]
        return EnumProperty(items=items, default=control.default, **text)
    if isinstance(control.default, int):
        return IntProperty(
            default=control.default, min=int(control.minimum), max=int(control.maximum), **text
        )
    return FloatProperty(default=control.default, min=control.minimum, max=control.maximum, **text)


BUILTIN_PACK = "BUILTIN"
_pack_items_cache: list = []  # Blender needs the item strings kept alive


def _pack_items(_self, context):
    from .preferences import preferences

    items = [(BUILTIN_PACK, "Built-in", "Face models bundled with the extension; no download")]
    for entry in preferences(context).packs:
        path = bpy.path.abspath(entry.path)
        if path:
            items.append((path, bpy.path.basename(path.rstrip("/\\")) or path, path))
    if _self is not None and _self.pack_path and all(i[0] != _self.pack_path for i in items):
        # A folder this scene uses but the preferences no longer list: keep showing it.
        items.append(
            (_self.pack_path, bpy.path.basename(_self.pack_path.rstrip("/\\")), _self.pack_path)
        )
    _pack_items_cache[:] = items
    return _pack_items_cache


def _get_pack(self) -> int:
    """The picker shows the stored folder (an enum alone would store a list index, and
    editing the preferences' list would silently switch packs)."""
    items = _pack_items(self, bpy.context)
    for index, item in enumerate(items):
        if item[0] == (self.pack_path or BUILTIN_PACK):
            return index
    return 0


def _set_pack(self, index: int) -> None:
    items = _pack_items(self, bpy.context)
    chosen = items[index][0] if 0 <= index < len(items) else BUILTIN_PACK
    self.pack_path = "" if chosen == BUILTIN_PACK else chosen


def _is_image_plane(_self, obj: bpy.types.Object) -> bool:
    return obj.type == "MESH"


class TakeRecord(bpy.types.PropertyGroup):
    """One generated take: where its frames are and what made them."""

    # ``name`` (from PropertyGroup) is the take's name, e.g. "take_001".
    folder: StringProperty(
        name="Folder",
        subtype="DIR_PATH",
        options=compat.RELATIVE_PATH_OPTIONS,
        description="Folder holding frames/, motion.npz, run.json (// = beside the .blend)",
    )
    source: StringProperty(name="Source", description="What the portrait came from")
    image_path: StringProperty(name="Portrait", subtype="FILE_PATH")
    audio_path: StringProperty(name="Audio", subtype="FILE_PATH")
    sound_strip: StringProperty(name="Sound Strip")
    strip: StringProperty(name="Image Strip")
    plane: PointerProperty(name="Image Plane", type=bpy.types.Object)
    controller: PointerProperty(name="Controller", type=bpy.types.Object)
    original_image: PointerProperty(name="Original Image", type=bpy.types.Image)
    take_image: PointerProperty(name="Take Image", type=bpy.types.Image)
    frame_start: IntProperty(name="First Frame")
    n_frames: IntProperty(name="Frames")
    fps: FloatProperty(name="Frame Rate")
    seed: IntProperty(name="Seed")
    frame_format: StringProperty(name="Frame Format", default="png")
    settings_json: StringProperty(name="Settings", description="Engine settings as JSON")
    provider: StringProperty(name="Execution Provider")
    verification: StringProperty(
        name="Verification", description="What Verify Take found, one fact a line"
    )


class TalkingHeadState(bpy.types.PropertyGroup):
    source_kind: EnumProperty(name="Source", items=SOURCE_KINDS, default="PLANE")
    source_object: PointerProperty(
        name="Image Plane",
        type=bpy.types.Object,
        poll=_is_image_plane,
        description="Mesh with an image texture in its material",
    )
    source_image: PointerProperty(name="Image", type=bpy.types.Image)
    source_strip: StringProperty(name="Image Strip", description="Still-image strip")
    sound_strip: StringProperty(
        name="Sound Strip",
        description="Sound strip with the voice; empty uses the only sound strip of the scene",
    )
    motion_file: StringProperty(
        name="Motion File",
        subtype="FILE_PATH",
        options=compat.RELATIVE_PATH_OPTIONS,
        description=(
            "A take's motion.npz (a capture, an import) to render instead of motion from the "
            "voice; the sound strip is then optional"
        ),
    )
    takes_folder: StringProperty(
        name="Takes Folder",
        subtype="DIR_PATH",
        default="//vasa/",
        options=compat.RELATIVE_PATH_OPTIONS,
        description="Where takes are written; // means beside the .blend file",
    )

    pack_path: StringProperty(
        name="Model Pack Folder",
        subtype="DIR_PATH",
        description="The model pack of new takes; empty = built-in",
    )
    pack: EnumProperty(
        name="Model Pack",
        items=_pack_items,
        get=_get_pack,
        set=_set_pack,
        description="Models for new takes (folders are listed in the extension's preferences)",
    )

    # Marks on new takes (core.take.settings.Settings; recorded in run.json's settings).
    credentials: BoolProperty(
        name="Content Credentials",
        default=True,
        description="Sign the take's PNG and JPEG frames and its videos with a C2PA manifest "
        "(who made it, with what, that it is AI-generated)",
    )
    watermark: BoolProperty(
        name="Watermark",
        default=True,
        description="An invisible watermark in every frame's face that identifies the take and "
        "survives re-encoding, resizing and cropping (Verify Take reads it back)",
    )
    label: BoolProperty(
        name="Visible Label",
        default=False,
        description='A small "AI-generated" label in a corner of every frame, away from the face',
    )

    running: BoolProperty(name="Running", default=False)
    progress: FloatProperty(name="Progress", default=0.0, min=0.0, max=1.0, subtype="FACTOR")
    status: StringProperty(name="Status", default="")
    provider: StringProperty(name="Execution Provider", default="")

    takes: CollectionProperty(type=TakeRecord)
    active_take: IntProperty(name="Active Take", default=-1)
    character: PointerProperty(type=CharacterState)  # Animate Character's inputs
    capture: PointerProperty(type=CaptureState)  # Capture's video


for _name, _control in CONTROLS.items():
    TalkingHeadState.__annotations__[_name] = control_property(_control)

CLASSES = (*CHARACTER_CLASSES, *CAPTURE_CLASSES, TakeRecord, TalkingHeadState)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.talking_head = PointerProperty(type=TalkingHeadState)


def unregister() -> None:
    del bpy.types.Scene.talking_head
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
