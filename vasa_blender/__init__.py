"""Blender glue: preferences now; properties, takes, scene I/O and the job runner to come."""

from . import preferences


def register() -> None:
    preferences.register()


def unregister() -> None:
    preferences.unregister()
