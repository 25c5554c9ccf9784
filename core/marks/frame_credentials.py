"""Content Credentials in a take's frame files.

PNG and JPEG frames are signed by default (``Settings.credentials``), each as its writer
writes it: ``frame_signer`` gives each frame writer a ``frame_signing.FrameSigner`` with
the take's facts, the same as its MP4's manifest names (``credentials.take_facts`` of the
run.json object as it stands before the first frame: inputs, settings, seed, start time,
pack and watermark payload are all known by then). On the writer thread that costs about
1.4 ms a 512x512 PNG frame and 3.6 ms a 1080p one (the file's hash, most of it), 1.6 ms a
1080p JPEG; end to end on the quiet 2-core machine 1080p stays at a real-time factor of
0.67 (0.65 unsigned; README "Benchmark"). ``--no-credentials`` turns it off. OpenEXR
frames cannot carry a manifest and are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .credentials import take_facts
from .keys import signing_key

# Frame formats that carry a manifest, and the manifest's format for each.
SIGNED_FORMATS = {"png": "image/png", "jpeg": "image/jpeg"}
_EXTENSIONS = {"png": "png", "jpeg": "jpg"}


def frame_signer(
    run: dict[str, Any], fmt: str, credentials: bool, key_folder: str | Path | None = None
) -> Callable[[], Callable[[bytes | list[bytes]], bytes | list[bytes]]] | None:
    """A factory of frame signers for a take's ``fmt`` frames (``run``: its run.json object
    so far; ``key_folder``: where the local key lives, Blender's extension user folder, by
    default ``keys.default_folder``): each call makes one writer's ``FrameSigner.sign``.
    None when the take is not signed (``credentials`` off, or a format that cannot carry a
    manifest). The key is read (or made) now."""
    if not credentials or fmt not in SIGNED_FORMATS:
        return None
    from .frame_signing import FrameSigner

    key, facts = signing_key(Path(key_folder) if key_folder else None), take_facts(run)
    title = f"frame_%06d.{_EXTENSIONS[fmt]}"
    return lambda: FrameSigner(key, facts, title, SIGNED_FORMATS[fmt]).sign
