"""Extension preferences: model pack folders, execution provider, threads, frame format."""

from __future__ import annotations

import bpy
from bpy.props import CollectionProperty, EnumProperty, IntProperty, StringProperty

from ..core.runtime.sessions import PROVIDERS, SHORT_NAMES
from ..core.take.frames import FRAME_FORMATS as ENGINE_FRAME_FORMATS

# The extension's package name (``bl_ext.<repo>.talking_head`` when installed).
PACKAGE = __package__.rsplit(".", 1)[0]

# Enum items from the engine's own tables, so a new format or provider shows up here too.
FRAME_FORMATS = [(key, f.label, f.description) for key, f in ENGINE_FRAME_FORMATS.items()]
_PROVIDER_LABELS = {"auto": "Auto"} | {name.lower(): name for name in SHORT_NAMES.values()}
PROVIDER_ITEMS = [(key, _PROVIDER_LABELS.get(key, key), text) for key, text in PROVIDERS.items()]


class PackFolder(bpy.types.PropertyGroup):
    path: StringProperty(
        name="Folder", subtype="DIR_PATH", description="Folder with a pack.toml and its ONNX files"
    )


class TALKING_HEAD_UL_packs(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_prop, index=0):
        layout.prop(item, "path", text="", emboss=False)


class TalkingHeadPreferences(bpy.types.AddonPreferences):
    bl_idname = PACKAGE

    packs: CollectionProperty(type=PackFolder)
    active_pack: IntProperty(name="Selected Pack Folder", default=-1)
    provider: EnumProperty(
        name="Execution Provider",
        items=PROVIDER_ITEMS,
        default="auto",
    )
    threads: IntProperty(
        name="CPU Threads", description="0 picks a count from the cores", min=0, max=64, default=0
    )
    frame_format: EnumProperty(name="Frame Format", items=FRAME_FORMATS, default="png")

    def draw(self, context):
        from .generation import expected_provider
        from .packs import pack_info

        layout = self.layout
        layout.label(text="Model pack folders (each scene picks one, or the built-in pack)")
        row = layout.row()
        row.template_list("TALKING_HEAD_UL_packs", "", self, "packs", self, "active_pack", rows=2)
        col = row.column(align=True)
        col.operator("talking_head.pack_add", icon="ADD", text="")
        col.operator("talking_head.pack_remove", icon="REMOVE", text="")
        if 0 <= self.active_pack < len(self.packs):
            info = pack_info(bpy.path.abspath(self.packs[self.active_pack].path))
            if info is not None:
                layout.label(text=f"'{info.profile}' pack, license: {info.license}", icon="INFO")
        layout.prop(self, "provider")
        draw_provider(layout, expected_provider(self.provider))
        layout.prop(self, "threads")
        layout.prop(self, "frame_format")


def draw_provider(layout, provider: str) -> None:
    """What runs the models, and how to get CUDA where it is the CPU build that runs them
    (the extension ships the CPU onnxruntime wheels)."""
    layout.label(text=f"Runs on: {provider}", icon="SETTINGS")
    if "not installed" in provider:
        layout.label(text=GPU_NOTE, icon="INFO")


GPU_NOTE = (
    "NVIDIA GPU: the extension ships the CPU ONNX Runtime; render on CUDA from the command "
    "line after `make setup-gpu` (README, GPU)"
)


class _Defaults:
    """What the preferences hold before the extension is enabled through the add-on system
    (for example when a script registers it directly)."""

    provider, threads, frame_format, packs = "auto", 0, "png", ()


def preferences(context: bpy.types.Context):
    addon = context.preferences.addons.get(PACKAGE)
    return addon.preferences if addon is not None and addon.preferences else _Defaults()


class TALKING_HEAD_OT_pack_add(bpy.types.Operator):
    """Add a folder of model files: it is checked as `python -m core pack init` and opening a
    pack check it (its pack.toml is written when it has none), then listed here"""

    bl_idname = "talking_head.pack_add"
    bl_label = "Add Model Pack Folder"
    bl_options = {"INTERNAL"}

    directory: StringProperty(subtype="DIR_PATH")

    def invoke(self, context, event):
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        from .packs import check_folder

        folder = bpy.path.abspath(self.directory).rstrip("/\\") or self.directory
        window = context.window  # None in background mode
        if window is not None:
            window.cursor_set("WAIT")
        try:
            check = check_folder(folder)
        finally:
            if window is not None:
                window.cursor_set("DEFAULT")
        for note in check.notes:
            self.report({"INFO"}, note)
        if not check.ok:
            for error in check.errors:  # one sentence per missing or wrong file
                self.report({"ERROR"}, error)
            return {"CANCELLED"}
        prefs = preferences(context)
        paths = [bpy.path.abspath(e.path).rstrip("/\\") for e in prefs.packs]
        if folder in paths:
            prefs.active_pack = paths.index(folder)
        else:
            entry = prefs.packs.add()
            entry.path = folder
            prefs.active_pack = len(prefs.packs) - 1
        made = " (pack.toml written)" if check.wrote_toml else ""
        license = check.license or "none given"
        self.report({"INFO"}, f"'{check.profile}' pack added{made}; license: {license}")
        return {"FINISHED"}


class TALKING_HEAD_OT_pack_remove(bpy.types.Operator):
    """Remove the selected model pack folder from the list (the folder stays on disk)"""

    bl_idname = "talking_head.pack_remove"
    bl_label = "Remove Model Pack"
    bl_options = {"INTERNAL"}

    def execute(self, context):
        prefs = preferences(context)
        if 0 <= prefs.active_pack < len(prefs.packs):
            prefs.packs.remove(prefs.active_pack)
            prefs.active_pack = min(prefs.active_pack, len(prefs.packs) - 1)
        return {"FINISHED"}


CLASSES = (
    PackFolder,
    TALKING_HEAD_UL_packs,
    TalkingHeadPreferences,
    TALKING_HEAD_OT_pack_add,
    TALKING_HEAD_OT_pack_remove,
)

register, unregister = bpy.utils.register_classes_factory(CLASSES)
