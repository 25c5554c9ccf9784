"""Sidebar panels: drawing only."""

import bpy

from . import panels

CLASSES: tuple[type, ...] = panels.CLASSES

register, unregister = bpy.utils.register_classes_factory(CLASSES)
