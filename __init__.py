"""Talking Head: a Blender extension that makes a portrait talk from a voice recording.

The engine lives in ``core`` (Blender-free); ``vasa_blender`` holds the Blender glue,
``operators`` and ``ui`` the thin operator and panel classes. The Blender modules are
imported in ``register()``, so importing this package (as pytest does for the repository
root) needs no ``bpy``.
"""


def _modules():
    from . import operators, ui, vasa_blender

    return (vasa_blender, operators, ui)


def register() -> None:
    for module in _modules():
        module.register()


def unregister() -> None:
    for module in reversed(_modules()):
        module.unregister()
