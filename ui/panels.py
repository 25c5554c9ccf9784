"""Sidebar panels (VSE and 3D Viewport, tab "Talking Head"): drawing only."""

from __future__ import annotations

import bpy

from ..vasa_blender import compat, generation, sources, takes
from ..vasa_blender.jobs import running_job
from ..vasa_blender.packs import pack_info
from ..vasa_blender.preferences import draw_provider, preferences
from ..vasa_blender.props import CONTROL_FIELDS


class TALKING_HEAD_UL_takes(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_prop, index=0):
        row = layout.row(align=True)
        row.label(text=item.name, icon="SEQUENCE")
        row.label(text=f"{item.n_frames} fr, seed {item.seed}")


def draw_inputs(layout, context) -> None:
    scene = context.scene
    state = scene.talking_head
    col = layout.column()
    col.prop(state, "source_kind")
    if state.source_kind == "PLANE":
        col.prop(state, "source_object")
    elif state.source_kind == "IMAGE":
        col.template_ID(state, "source_image", open="image.open")
    elif scene.sequence_editor is not None:
        col.prop_search(
            state, "source_strip", scene.sequence_editor, _strips_attr(scene), text="Image Strip"
        )
    if scene.sequence_editor is not None:
        col.prop_search(
            state,
            "sound_strip",
            scene.sequence_editor,
            _strips_attr(scene),
            text="Sound Strip",
            icon="SOUND",
        )
    else:
        col.label(text="Add a sound strip in the Video Sequencer", icon="INFO")
    col.prop(state, "motion_file")
    col.prop(state, "pack")
    info = pack_info(bpy.path.abspath(state.pack_path) if state.pack_path else None)
    if info is not None:  # the files' own license, as their makers publish it
        col.label(text=f"License: {info.license}", icon="INFO")
    col.prop(state, "takes_folder")


def _strips_attr(scene) -> str:
    return "strips_all" if hasattr(scene.sequence_editor, "strips_all") else "sequences_all"


def draw_controls(layout, context) -> None:
    state = context.scene.talking_head
    col = layout.column(align=True)
    for name in CONTROL_FIELDS:
        col.prop(state, name)


def draw_run(layout, context) -> None:
    state = context.scene.talking_head
    job = running_job()
    if job is not None:  # the job itself, not scene properties that undo or a file restore
        text = "Cancelling..." if job.cancelled else job.message
        layout.progress(factor=job.progress, type="BAR", text=f"{job.label}: {text}")
        layout.operator("talking_head.cancel", icon="CANCEL")
        return
    draw_marks(layout, state)
    reason = sources.why_not(context)
    row = layout.row()
    row.scale_y = 1.4
    row.enabled = not reason
    row.operator("talking_head.generate", icon="PLAY")
    if reason:
        layout.label(text=reason, icon="ERROR")
    if state.status:
        layout.label(text=state.status, icon="INFO")
    provider = state.provider or generation.expected_provider(preferences(context).provider)
    draw_provider(layout, provider)


def draw_marks(layout, state) -> None:
    """The marks new takes carry (README "Responsible use")."""
    col = layout.column(heading="Marks", align=True)
    col.prop(state, "credentials")
    col.prop(state, "watermark")
    col.prop(state, "label")
    if not state.watermark:
        col.label(text="Frames will not say they are AI-generated once re-encoded", icon="ERROR")


def draw_verification(layout, take) -> None:
    row = layout.row(align=True)
    row.enabled = running_job() is None
    row.operator("talking_head.verify_take", icon="CHECKMARK")
    if take.verification:
        box = layout.box().column(align=True)
        for line in take.verification.splitlines():
            warn = "CHANGED" in line or "DISAGREE" in line or "NOT " in line
            box.label(text=line, icon="ERROR" if warn else "NONE")


def draw_takes(layout, context) -> None:
    state = context.scene.talking_head
    layout.template_list("TALKING_HEAD_UL_takes", "", state, "takes", state, "active_take", rows=3)
    take = takes.active_take(context)
    if take is None:
        return
    strip = compat.find_strip(context.scene, take.strip)
    col = layout.column(align=True)
    col.label(
        text=f"{take.name}: strip '{take.strip}'"
        if strip
        else f"{take.name}: its strip was removed",
        icon="SEQUENCE",
    )
    col.operator("talking_head.select_controller", icon="EMPTY_AXIS")
    row = col.row(align=True)
    row.enabled = running_job() is None
    row.operator("talking_head.rerender", icon="FILE_REFRESH")
    if take.plane is not None and take.take_image is not None:
        row = col.row(align=True)
        row.operator("talking_head.show_on_plane", text="Show Take").show = "TAKE"
        row.operator("talking_head.show_on_plane", text="Show Photo").show = "PHOTO"
    draw_verification(layout, take)


class TALKING_HEAD_UL_mapping(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_prop, index=0):
        row = layout.row(align=True)
        row.prop(item, "channel", text="", emboss=False)
        row.prop(item, "shape_key", text="", icon="SHAPEKEY_DATA")


def draw_character(layout, context) -> None:
    """Animate Character: the character, its optional head and eye targets, the mapping."""
    from ..vasa_blender import character

    state = context.scene.talking_head.character
    col = layout.column()
    col.prop(state, "target")
    for target, bone in (
        ("head_target", "head_bone"),
        ("eye_left_target", "eye_left_bone"),
        ("eye_right_target", "eye_right_bone"),
    ):
        row = col.row(align=True)
        row.prop(state, target)
        obj = getattr(state, target)
        if obj is not None and obj.type == "ARMATURE":
            row.prop_search(state, bone, obj.pose, "bones", text="")
    col.prop(state, "motion_file")
    col.label(text="Shape keys with other names:")
    row = col.row()
    row.template_list(
        "TALKING_HEAD_UL_mapping", "", state, "mapping", state, "mapping_index", rows=2
    )
    buttons = row.column(align=True)
    buttons.operator("talking_head.mapping_add", text="", icon="ADD")
    buttons.operator("talking_head.mapping_remove", text="", icon="REMOVE")
    reason = "A job is running." if running_job() is not None else character.why_not(context)
    row = layout.row()
    row.scale_y = 1.4
    row.enabled = not reason
    row.operator("talking_head.animate_character", icon="SHAPEKEY_DATA")
    if reason and state.target is not None:  # with none chosen, the empty field says it
        layout.label(text=reason, icon="ERROR")


def draw_capture(layout, context) -> None:
    """Capture: a movie strip or a video file -> a take's motion.npz, used by Generate and
    Animate Character as their Motion File."""
    from ..vasa_blender import capturing

    scene = context.scene
    state = scene.talking_head.capture
    col = layout.column()
    col.prop(state, "kind")
    if state.kind == "FILE":
        col.prop(state, "file")
    elif scene.sequence_editor is not None:
        col.prop_search(
            state, "strip", scene.sequence_editor, _strips_attr(scene), text="Movie Strip"
        )
    reason = "A job is running." if running_job() is not None else capturing.why_not(context)
    row = layout.row()
    row.scale_y = 1.4
    row.enabled = not reason
    row.operator("talking_head.capture", icon="TRACKER")
    if reason:
        layout.label(text=reason, icon="ERROR")


class _Panel:
    bl_region_type = "UI"
    bl_category = "Talking Head"


def _panels(space: str, prefix: str) -> tuple[type, ...]:
    """The same panels for one editor's sidebar."""
    main_id = f"TALKING_HEAD_PT_{prefix}_main"

    def make(suffix, label, draw, parent=None, closed=False):
        attrs = {
            "bl_space_type": space,
            "bl_label": label,
            "bl_idname": f"TALKING_HEAD_PT_{prefix}_{suffix}",
            "draw": lambda self, context: draw(self.layout, context),
        }
        if parent:
            attrs["bl_parent_id"] = parent
        if closed:
            attrs["bl_options"] = {"DEFAULT_CLOSED"}
        return type(attrs["bl_idname"], (_Panel, bpy.types.Panel), attrs)

    return (
        make("main", "Talking Head", draw_inputs),
        make("controls", "Controls", draw_controls, main_id),
        make("run", "Generate", draw_run, main_id),
        make("takes", "Takes", draw_takes, main_id),
        make("character", "Animate Character", draw_character, main_id, closed=True),
        make("capture", "Capture", draw_capture, main_id, closed=True),
    )


CLASSES = (
    TALKING_HEAD_UL_takes,
    TALKING_HEAD_UL_mapping,
    *_panels("SEQUENCE_EDITOR", "vse"),
    *_panels("VIEW_3D", "view3d"),
)
