"""Blender version differences, each behind one small helper.

- String properties with "//" paths: ``PATH_SUPPORTS_BLEND_RELATIVE`` from 4.5.
- VSE strips: ``sequence_editor.strips`` from 4.4 (``sequences`` before, removed in 5.0).
- Animation: slotted (layered) actions from 4.4, where F-curves live in a channelbag per
  slot; ``Action.fcurves`` is the legacy path (4.2, 4.3) and is gone in 5.0.
- Materials: from 5.0 every material has its node tree and ``Material.use_nodes`` is
  deprecated (a warning when touched); before, nodes had to be switched on.
- Effect strips: ``new_effect(..., length=)`` from 5.0, ``frame_end=`` before.
- One Action for several IDs (a character's shape key blocks and its rig): slots from 4.4;
  before, an Action belongs to one kind of ID, so each ID gets an Action of its own.
"""

from __future__ import annotations

import bpy

# String properties that hold "//"-relative paths must say so from 4.5 on (else a warning);
# older versions do not know the option.
RELATIVE_PATH_OPTIONS = {"PATH_SUPPORTS_BLEND_RELATIVE"} if bpy.app.version >= (4, 5, 0) else set()


NODES_ALWAYS = bpy.app.version >= (5, 0, 0)


def node_material(name: str) -> bpy.types.Material:
    """A new material with its node tree (Principled BSDF into the output)."""
    material = bpy.data.materials.new(name)
    if not NODES_ALWAYS:
        material.use_nodes = True
    return material


def uses_nodes(material: bpy.types.Material | None) -> bool:
    """Whether the material draws through its node tree."""
    if material is None or material.node_tree is None:
        return False
    return NODES_ALWAYS or bool(material.use_nodes)


def new_effect_strip(
    scene: bpy.types.Scene, name: str, kind: str, channel: int, start: int, end: int
):
    """An effect strip (colour, adjustment...) from ``start`` up to ``end``."""
    if bpy.app.version >= (5, 0, 0):
        return strips(scene).new_effect(name, kind, channel, frame_start=start, length=end - start)
    return strips(scene).new_effect(name, kind, channel, frame_start=start, frame_end=end)


def strips(scene: bpy.types.Scene):
    """The top-level strips collection of the scene's sequencer (created if needed)."""
    editor = scene.sequence_editor or scene.sequence_editor_create()
    return editor.strips if hasattr(editor, "strips") else editor.sequences


def all_strips(scene: bpy.types.Scene) -> list:
    """Every strip, including those inside meta strips; empty without a sequencer."""
    editor = scene.sequence_editor
    if editor is None:
        return []
    return list(editor.strips_all if hasattr(editor, "strips_all") else editor.sequences_all)


def find_strip(scene: bpy.types.Scene, name: str):
    if not name:
        return None
    for strip in all_strips(scene):
        if strip.name == name:
            return strip
    return None


def _action_for(obj: bpy.types.ID, create: bool) -> bpy.types.Action | None:
    anim = obj.animation_data or (obj.animation_data_create() if create else None)
    if anim is None:
        return None
    if anim.action is None and create:
        anim.action = bpy.data.actions.new(f"{obj.name} Talking Head")
    return anim.action


def _is_layered(action: bpy.types.Action) -> bool:
    return hasattr(action, "layers") and hasattr(action, "slots")


def _channelbag(obj: bpy.types.ID, action: bpy.types.Action, create: bool):
    slot = obj.animation_data.action_slot
    if slot is None:
        if not create:
            return None
        slot = action.slots.new(obj.id_type, obj.name)
        obj.animation_data.action_slot = slot
    if not action.layers:
        if not create:
            return None
        action.layers.new("Layer")
    layer = action.layers[0]
    if not layer.strips:
        if not create:
            return None
        layer.strips.new(type="KEYFRAME")
    strip = layer.strips[0]
    bag = strip.channelbag(slot)
    if bag is None and create:
        bag = strip.channelbag(slot, ensure=True)
    return bag


def fcurves(obj: bpy.types.ID) -> list[bpy.types.FCurve]:
    """The F-curves animating ``obj`` (its action's curves for its own slot)."""
    action = _action_for(obj, create=False)
    if action is None:
        return []
    if _is_layered(action):
        bag = _channelbag(obj, action, create=False)
        return list(bag.fcurves) if bag is not None else []
    return list(action.fcurves)


def find_fcurve(obj: bpy.types.ID, data_path: str, index: int = 0) -> bpy.types.FCurve | None:
    for curve in fcurves(obj):
        if curve.data_path == data_path and curve.array_index == index:
            return curve
    return None


def ensure_fcurve(
    obj: bpy.types.ID, data_path: str, index: int = 0, group: str = ""
) -> bpy.types.FCurve:
    """The F-curve for ``data_path[index]`` on ``obj``, created (in ``group``) if missing."""
    curve = find_fcurve(obj, data_path, index)
    if curve is not None:
        return curve
    action = _action_for(obj, create=True)
    if not _is_layered(action):
        return action.fcurves.new(data_path, index=index, action_group=group)
    bag = _channelbag(obj, action, create=True)
    curve = bag.fcurves.new(data_path, index=index)
    if group:
        curve.group = bag.groups.get(group) or bag.groups.new(group)
    return curve


SLOTTED_ACTIONS = bpy.app.version >= (4, 4, 0)


def bind_new_action(datablock: bpy.types.ID, action: bpy.types.Action) -> None:
    """Make ``action`` animate ``datablock`` (in a slot of its own where actions have slots);
    the Action it had before keeps its keys and is not touched."""
    anim = datablock.animation_data or datablock.animation_data_create()
    if _is_layered(action):
        slot = next(
            (
                s
                for s in action.slots
                if s.target_id_type == datablock.id_type and s.name_display == datablock.name
            ),
            None,
        ) or action.slots.new(datablock.id_type, datablock.name)
        anim.action = action
        anim.action_slot = slot
    else:
        anim.action = action
