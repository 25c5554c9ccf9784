"""Run one shard of a manifest: resumable, idempotent, one claim per take, a summary at the end.

Per clip of the shard: a take that is complete for the same inputs and settings is skipped;
otherwise the worker claims the take folder (``take.claim``; a clip another live worker holds
is left to it) and makes the take from scratch. A clip that fails is recorded with its
one-sentence error and the others go on; Ctrl-C stops after the current frame, the take says
``cancelled`` and the summary is still written. The stages are opened once per worker and
pack, so models load once, not once per clip.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import VasaError
from ..runtime.factory import Stages, open_stages
from ..runtime.packs import sha256_file
from ..take.claim import Claim, describe
from ..take.frames import output_error, write_json
from ..take.generate import generate, now
from ..take.loop import Cancel, is_cancelled
from ..take.record import RunRecord, TakeFolder
from .manifest import Clip, Shard

Report = Callable[[str], None]


class Maker(Protocol):
    """How a clip's take is made: by the engine (``EngineMaker``) or through Blender."""

    def take_folder(self, out: Path, clip: Clip) -> Path:
        """Where the clip's take (its run.json) is."""
        ...

    def claim_folder(self, out: Path, clip: Clip) -> Path:
        """The folder a worker claims and empties before making the clip again."""
        ...

    def make(self, out: Path, clip: Clip, cancel: Cancel, refresh: Callable[[], None]) -> str:
        """Make the take from scratch; its status ("complete" or "cancelled")."""
        ...


@dataclass
class EngineMaker:
    """Takes made in this process, the stages opened once per (pack, provider, threads)."""

    stages: dict[tuple[str | None, str, int], Stages] = field(default_factory=dict)
    startup_s: float = 0.0  # time spent opening stages (models, sessions)

    def take_folder(self, out: Path, clip: Clip) -> Path:
        return out / clip.name

    claim_folder = take_folder

    def _stages(self, clip: Clip) -> Stages:
        s = clip.settings
        key = (s.pack, s.provider, s.threads)
        if key not in self.stages:
            t0 = time.perf_counter()
            self.stages[key] = open_stages(s.pack, provider=s.provider, threads=s.threads)
            self.startup_s += time.perf_counter() - t0
        return self.stages[key]

    def make(self, out: Path, clip: Clip, cancel: Cancel, refresh: Callable[[], None]) -> str:
        def progress(fraction: float, message: str) -> None:
            refresh()

        result = generate(
            clip.image,
            clip.audio,
            out / clip.name,
            clip.settings,
            progress,
            cancel,
            stages=self._stages(clip),
            claim_folder=False,
        )
        return result.status


@dataclass
class ClipResult:
    name: str
    status: str  # done, skipped, failed, elsewhere (claimed by another worker), cancelled
    error: str | None = None
    seconds: float = 0.0


@dataclass
class BatchResult:
    manifest: str
    out: str
    shard: str
    clips: list[ClipResult]
    started_at: str
    finished_at: str = ""
    seconds: float = 0.0
    startup_s: float = 0.0

    def names(self, status: str) -> list[str]:
        return [c.name for c in self.clips if c.status == status]

    @property
    def failed(self) -> list[ClipResult]:
        return [c for c in self.clips if c.status == "failed"]

    @property
    def cancelled(self) -> bool:
        return any(c.status == "cancelled" for c in self.clips)

    def to_json(self) -> dict[str, Any]:
        made = self.names("done")
        return {
            "manifest": self.manifest,
            "out": self.out,
            "shard": self.shard,
            "done": made,
            "skipped": self.names("skipped"),
            "failed": [{"name": c.name, "error": c.error} for c in self.failed],
            "elsewhere": self.names("elsewhere"),
            "cancelled": self.names("cancelled"),
            "pending": self.names("pending"),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "seconds": round(self.seconds, 3),
            "startup_s": round(self.startup_s, 3),
            "clips_per_hour": round(3600 * len(made) / self.seconds, 1)
            if made and self.seconds > 0
            else 0.0,
            "clips": [asdict(c) for c in self.clips],
        }


def summary_path(out: Path, shard: Shard) -> Path:
    """``batch.json`` for a whole manifest, ``batch-shard-I-of-N.json`` for a shard."""
    if shard.count == 1:
        return out / "batch.json"
    return out / f"batch-shard-{shard.number}-of-{shard.count}.json"


def is_complete(record: RunRecord, clip: Clip) -> bool:
    """The take was made, to the end, from these very inputs and settings."""
    if record.status != "complete":
        return False
    inputs = record.inputs
    try:
        same_inputs = inputs["image"]["sha256"] == sha256_file(clip.image) and inputs["audio"][
            "sha256"
        ] == sha256_file(clip.audio)
    except (KeyError, TypeError, OSError):
        return False
    ours, theirs = record.settings.to_dict(), clip.settings.to_dict()
    for values in (ours, theirs):
        values.pop("overwrite")
    # Blender keeps a rate such as 23.976 as fps / fps_base in float32.
    same_fps = abs(ours.pop("fps") - theirs.pop("fps")) <= 1e-6 * max(1.0, clip.settings.fps)
    return same_inputs and same_fps and ours == theirs


def take_state(maker: Maker, out: Path, clip: Clip) -> tuple[str, str | None]:
    """("done" | "failed" | "pending", error) of a clip's take as it is on disk."""
    folder = TakeFolder(maker.take_folder(out, clip))
    if not folder.run_json.exists():
        return "pending", None
    try:
        record = folder.read_record()
    except VasaError as exc:
        return "pending", str(exc)
    if is_complete(record, clip):
        return "done", None
    if record.status == "failed":
        return "failed", record.error
    return "pending", None


def run_batch(
    clips: list[Clip],
    out: str | Path,
    shard: Shard | None = None,
    manifest: str = "",
    maker: Maker | None = None,
    cancel: Cancel = None,
    report: Report | None = None,
) -> BatchResult:
    """Make the takes of ``shard``'s clips under ``out``; write and return the summary."""
    out = Path(out)
    shard = shard or Shard()
    maker = maker or EngineMaker()
    say = report or (lambda line: None)
    t0 = time.perf_counter()
    result = BatchResult(manifest, str(out), shard.label, [], now())
    mine = [clip for clip in clips if shard.holds(clip)]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VasaError(
            f"The output folder {out} cannot be made ({exc.strerror}); choose another --out."
        ) from exc
    for k, clip in enumerate(mine):
        if result.cancelled or is_cancelled(cancel):
            result.clips.append(ClipResult(clip.name, "pending"))
            continue
        started = time.perf_counter()
        outcome = _one(maker, out, clip, cancel)
        outcome.seconds = round(time.perf_counter() - started, 3)
        result.clips.append(outcome)
        say(
            f"[{k + 1}/{len(mine)}] {clip.name}: {outcome.status}"
            + (f": {outcome.error}" if outcome.error else "")
        )
    result.seconds = time.perf_counter() - t0
    result.startup_s = getattr(maker, "startup_s", 0.0)
    result.finished_at = now()
    write_json(summary_path(out, shard), result.to_json())
    return result


def _one(maker: Maker, out: Path, clip: Clip, cancel: Cancel) -> ClipResult:
    """One clip; whatever goes wrong is this clip's result, never the batch's end."""
    try:
        if take_state(maker, out, clip)[0] == "done":
            return ClipResult(clip.name, "skipped")
        claim = Claim(maker.claim_folder(out, clip))
        if not claim.acquire():
            holder = claim.holder()
            return ClipResult(
                clip.name, "elsewhere", f"claimed by {describe(holder)}" if holder else None
            )
    except KeyboardInterrupt:
        return ClipResult(clip.name, "cancelled")
    except VasaError as exc:
        return ClipResult(clip.name, "failed", str(exc))
    try:
        if take_state(maker, out, clip)[0] == "done":  # finished by another worker meanwhile
            return ClipResult(clip.name, "skipped")
        status = maker.make(out, clip, cancel, claim.refresh)
    except KeyboardInterrupt:
        return ClipResult(clip.name, "cancelled")
    except VasaError as exc:
        return ClipResult(clip.name, "failed", str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug on one clip must not stop the others
        return ClipResult(clip.name, "failed", f"{type(exc).__name__}: {exc}")
    finally:
        claim.release()
    return ClipResult(clip.name, "done" if status == "complete" else "cancelled")


def write_summary(
    clips: list[Clip], out: str | Path, manifest: str = "", maker: Maker | None = None
) -> BatchResult:
    """``batch.json`` from the takes on disk, rendering nothing (a farm's last task)."""
    out = Path(out)
    maker = maker or EngineMaker()
    result = BatchResult(manifest, str(out), "all", [], now(), now())
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(out / "batch.json", exc) from exc
    for clip in clips:
        state, error = take_state(maker, out, clip)
        result.clips.append(ClipResult(clip.name, state, error))
    write_json(out / "batch.json", result.to_json())
    return result
