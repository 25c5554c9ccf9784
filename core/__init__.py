"""Blender-free talking-head engine: portrait + voice in, frames and a MotionTrack out.

Nothing in this package imports ``bpy``; it backs the Blender extension, the command line
(``python -m core``) and the batch script alike.
"""

__version__ = "0.1.0"
ENGINE_NAME = "vasa-blender"
