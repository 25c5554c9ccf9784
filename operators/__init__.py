"""Operator classes: thin wrappers that validate, start an engine job and report."""

import bpy

from . import capture, character, generate, job_modal, take_tools

CLASSES: tuple[type, ...] = (
    generate.CLASSES + take_tools.CLASSES + character.CLASSES + capture.CLASSES
)

_register_classes, _unregister_classes = bpy.utils.register_classes_factory(CLASSES)


def register() -> None:
    _register_classes()
    job_modal.register()


def unregister() -> None:
    job_modal.unregister()
    _unregister_classes()
