"""Sidebar panels: drawing only."""

import bpy

CLASSES: tuple[type, ...] = ()

register, unregister = bpy.utils.register_classes_factory(CLASSES)
