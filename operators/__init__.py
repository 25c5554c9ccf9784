"""Operator classes: thin wrappers that validate, start an engine job and report."""

import bpy

from . import generate, take_tools

CLASSES: tuple[type, ...] = generate.CLASSES + take_tools.CLASSES

register, unregister = bpy.utils.register_classes_factory(CLASSES)
