"""3D characters: ARKit names, channel -> shape key mapping, Live Link Face CSV, motion takes.

Blender-free: the extension (``vasa_blender.character``) and ``scripts/batch.py`` key what
these functions plan.
"""
