"""User-facing errors: each carries one sentence that says what is wrong and what to do.

Callers (CLI, Blender operators) show ``str(error)`` as it is; anything that is not a
``VasaError`` is a bug and is reported with its traceback.
"""

from __future__ import annotations


class VasaError(Exception):
    """Base class for problems the user can fix (bad input, full disk, wrong model file)."""


class AudioError(VasaError):
    """The audio input is missing, unreadable, silent or too long."""


class ImageError(VasaError):
    """The portrait is missing, unreadable, or has no usable face."""


class ModelPackError(VasaError):
    """A model pack folder or one of its files is missing, damaged or of the wrong kind."""


class OutputError(VasaError):
    """The output folder cannot be written (read-only, full disk, holds another take)."""


class CancelledError(VasaError):
    """The job was cancelled by the user; complete frames stay on disk."""


class MarkError(VasaError):
    """Content Credentials or a watermark cannot be made or read (bad key, not an image)."""
