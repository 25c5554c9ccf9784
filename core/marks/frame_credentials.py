"""Content Credentials in a take's frame files.

PNG frames (the default format) are signed by default (``Settings.credentials``), each as
its writer writes it: ``png_signer`` gives each frame writer a ``frame_signing.FrameSigner``
with the take's facts, the same as its MP4's manifest names (``credentials.take_facts`` of
the run.json object as it stands before the first frame: inputs, settings, seed, start
time, pack and watermark payload are all known by then). That costs about 1.35 ms a
512x512 frame and 3.6 ms a 1080p one on the writer thread; end to end (``core bench``,
alternated runs on 2 shared cores) -1 to -8 % at 512x512 and -16 % at 1080p, real-time
factor 0.80 there in the quieter pair (README "Responsible use"). ``--no-credentials``
turns it off.

JPEG frames are signed only with ``sign_frames`` (``--sign-frames``), through c2pa-python's
``Builder.sign`` once the take is complete (a cancelled take's frames are not): that costs
about 2.6 ms plus 10 ms per MB for each file. OpenEXR frames cannot carry a manifest and
are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .credentials import MIME, Signer, take_facts
from .keys import signing_key


def png_signer(
    run: dict[str, Any], key_folder: Path | None = None
) -> Callable[[], Callable[[bytes | list[bytes]], bytes | list[bytes]]]:
    """A factory of frame signers for a take (``run``: its run.json object so far): each
    call makes one writer's ``FrameSigner.sign_png``. The key is read (or made) now."""
    from .frame_signing import FrameSigner

    key, facts = signing_key(key_folder), take_facts(run)
    return lambda: FrameSigner(key, facts, "frame_%06d.png").sign_png


def sign_frames(
    folders: Iterable[Path], run: dict[str, Any], key_folder: Path | None = None
) -> int:
    """Sign every JPEG frame in ``folders`` with the take's facts (``run``: its run.json
    object); how many were signed. ``key_folder``: where the local key lives (Blender: the
    extension's user folder; default ``keys.default_folder``). PNG frames were signed as
    they were written (``png_signer``)."""
    signer = Signer(signing_key(key_folder), take_facts(run))
    count = 0
    for folder in folders:
        for path in sorted(folder.glob("frame_*")):
            if MIME.get(path.suffix.lower()) == "image/jpeg":
                signer.sign_file(path)
                count += 1
    return count
