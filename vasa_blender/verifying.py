"""Verify Take: read a take's Content Credentials and watermark back, as ``verify`` does.

The frame to read is chosen on the main thread (the take's frame under the playhead, else
its middle frame); the worker only calls the engine (``core.marks.verify``: reading the
watermark detects the face and searches its grid, about a second the first time) and never
touches ``bpy``. ``finish`` stores what was found on the take's record
(``TakeRecord.verification``, one fact a line) for the Takes panel to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bpy

from ..core.marks.verify import Verification, verify_take
from . import takes
from .jobs import Job
from .sources import InputMissing


@dataclass
class VerifyPlan:
    take: str
    folder: Path
    frame: int | None  # 1-based frame of the take; None: its middle frame


def plan(scene: bpy.types.Scene, take) -> VerifyPlan:
    """The take and the frame to read; InputMissing when its folder is gone."""
    folder = takes.absolute(take.folder)
    if not (folder / "frames").is_dir():
        raise InputMissing(f"The frames of {take.name} are gone from {folder}; nothing to verify.")
    frame = scene.frame_current - take.frame_start + 1
    return VerifyPlan(take.name, folder, frame if 1 <= frame <= take.n_frames else None)


def make_job(p: VerifyPlan) -> Job:
    return Job(f"Verifying {p.take}", lambda progress, cancel: verify_take(p.folder, p.frame))


def summary(result: Verification) -> list[str]:
    """The lines the panel shows: who signed, when, with what, whether the file changed,
    the watermark and whether it agrees with the credentials and run.json."""
    cred = result.credentials
    lines = [f"Frame: {result.path.name}"]
    if cred.state == "none":
        lines.append("Content Credentials: none in this frame (the take's MP4 carries them)")
    else:
        signer = cred.signer + (" (unverified signer)" if cred.unverified_signer else "")
        pack = (cred.take.get("model_pack") or {}) if cred.take else {}
        lines += [
            f"Signed by: {signer}",
            f"Made: {cred.signed_at or 'unknown'}",
            f"Engine: {cred.generator or 'unknown'}",
            f"Pack: {pack.get('name', '?')} ({pack.get('profile', '?')})",
            f"Content: {result.verdict}",
        ]
    lines.append(result.watermark_line().replace("watermark:", "Watermark:", 1))
    agreement = result.agreement_line() if cred.state != "none" else ""
    if agreement:
        lines.append(agreement[0].upper() + agreement[1:])
    if result.recorded is not None:
        same = result.recorded == result.watermark
        lines.append(
            f"run.json payload {result.recorded}: "
            + ("matches the picture" if same else "NOT what the picture carries")
        )
    elif not result.extra.get("watermark_on"):
        lines.append("This take was made with the watermark off")
    return lines


def finish(scene: bpy.types.Scene, p: VerifyPlan, job: Job) -> tuple[str, str]:
    if job.error:
        return "ERROR", job.error
    result: Verification | None = job.result
    if result is None:
        return "WARNING", f"Verification of {p.take} stopped."
    lines = summary(result)
    take = scene.talking_head.takes.get(p.take)
    if take is not None:
        take.verification = "\n".join(lines)
    level = "WARNING" if result.code == 1 else "INFO"
    mark = f"watermark {result.watermark}" if result.watermark else "no watermark"
    return level, f"{p.take}: {result.verdict}; {mark} ({result.path.name})"
