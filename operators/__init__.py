"""Operator classes: thin wrappers that validate, start an engine job and report."""

import bpy

CLASSES: tuple[type, ...] = ()

register, unregister = bpy.utils.register_classes_factory(CLASSES)
