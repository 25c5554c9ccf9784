"""Extension preferences: where model packs live and how the engine runs."""

import bpy
from bpy.props import EnumProperty, IntProperty, StringProperty

# The extension's package name (``bl_ext.<repo>.talking_head`` when installed).
PACKAGE = __package__.rsplit(".", 1)[0]


class TalkingHeadPreferences(bpy.types.AddonPreferences):
    bl_idname = PACKAGE

    pack_folder: StringProperty(
        name="Model Pack",
        description="Folder with a pack.toml; empty uses the built-in pack",
        subtype="DIR_PATH",
    )
    provider: EnumProperty(
        name="Execution Provider",
        items=[("auto", "Auto", "CUDA when available, else CPU"),
               ("cuda", "CUDA", "NVIDIA GPU"), ("cpu", "CPU", "Processor only")],
        default="auto",
    )
    threads: IntProperty(name="CPU Threads", description="0 uses one per core", min=0,
                         default=0)

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "pack_folder")
        layout.prop(self, "provider")
        layout.prop(self, "threads")


def register() -> None:
    bpy.utils.register_class(TalkingHeadPreferences)


def unregister() -> None:
    bpy.utils.unregister_class(TalkingHeadPreferences)
