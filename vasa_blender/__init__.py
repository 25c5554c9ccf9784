"""Blender glue: preferences, scene properties, takes, scene I/O (strips, curves, the
plane's texture) and the job runner. Blender-free logic stays in ``core``."""

from . import preferences, props


def register() -> None:
    preferences.register()
    props.register()


def unregister() -> None:
    props.unregister()
    preferences.unregister()
