"""Small operators on an existing take: select its controller, switch the plane's texture."""

from __future__ import annotations

import bpy

from ..vasa_blender import plane, takes


class TALKING_HEAD_OT_select_controller(bpy.types.Operator):
    """Select the take's controller so its curves show in the Graph Editor"""

    bl_idname = "talking_head.select_controller"
    bl_label = "Select Controller"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        take = takes.active_take(context)
        return take is not None and take.controller is not None

    def execute(self, context):
        controller = takes.active_take(context).controller
        if controller.name not in context.view_layer.objects:
            self.report(
                {"ERROR"},
                f"{controller.name} is not in this view layer; link it to a visible collection.",
            )
            return {"CANCELLED"}
        for obj in context.view_layer.objects:
            obj.select_set(False)
        controller.hide_set(False)
        controller.select_set(True)
        context.view_layer.objects.active = controller
        return {"FINISHED"}


class TALKING_HEAD_OT_show_on_plane(bpy.types.Operator):
    """Switch the image plane between the take's frames and the original photo"""

    bl_idname = "talking_head.show_on_plane"
    bl_label = "Show on Plane"
    bl_options = {"REGISTER", "UNDO"}

    show: bpy.props.EnumProperty(
        items=[
            ("TAKE", "Take", "Play the take's frames"),
            ("PHOTO", "Photo", "Show the original photo"),
        ]
    )

    @classmethod
    def poll(cls, context):
        take = takes.active_take(context)
        return take is not None and take.plane is not None and take.take_image is not None

    def execute(self, context):
        from ..vasa_blender.sources import image_texture_node

        take = takes.active_take(context)
        node = image_texture_node(take.plane)
        if node is None:
            self.report({"ERROR"}, f"'{take.plane.name}' has no image texture any more.")
            return {"CANCELLED"}
        if self.show == "TAKE":
            plane.play_take(node, take.take_image, take.frame_start, take.n_frames)
        else:
            plane.show_photo(node, take.original_image)
        return {"FINISHED"}


CLASSES = (TALKING_HEAD_OT_select_controller, TALKING_HEAD_OT_show_on_plane)
