"""``DittoMotion``: a ``ditto`` pack's motion generator (HuBERT + LMDM) behind
``core.stages.MotionGenerator``.

Ditto's motion depends on the portrait (its pose, expression and canonical keypoints
condition every window), so the take binds the portrait first (``bind_portrait``, called by
``core/take/generate.py`` for generators that have it), then asks for the voice's motion.
The steps: HuBERT features at 25 fps (``hubert``), condition rows with our controls
(``conditions``), DDIM windows joined by cross-fades (``sampler``, ``windows``), Ditto's
driving turned into channels (``driving``), and the curves resampled to the take's frame
rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from ...audio import AudioFeatures
from ...errors import ModelPackError, VasaError
from ...face.source import SourceFace
from ...render.liveportrait.networks import DittoNetworks, PackModel
from ...runtime.neural_profiles import DITTO_MODELS
from ..lipsync import speech_mask
from ..procedural import STYLES, blink_frames, plan_blinks
from ..settings import MotionSettings, validate
from ..track import MotionTrack
from . import hubert
from .conditions import Controls, condition_rows, emotion_vector
from .driving import Shaping, track_channels
from .sampler import SAMPLING_STEPS, DdimSampler
from .source import MOTION_DIM, DittoSource, ditto_source
from .windows import SEQ_FRAMES, sample_motion, window_starts

if TYPE_CHECKING:
    from ...runtime.packs import ModelPack

GENERATOR = "ditto"


def resample(curves: dict[str, np.ndarray], n: int, fps: float) -> dict[str, np.ndarray]:
    """Curves at Ditto's 25 fps -> ``n`` frames at ``fps`` (linear; frame i at i / fps)."""
    out = {}
    for name, values in curves.items():
        src_t = np.arange(len(values)) / hubert.FPS
        t = np.arange(n) / fps
        out[name] = np.interp(t, src_t, values) if len(values) else np.zeros(n)
    return out


class DittoMotion:
    """The voice's motion from a ``ditto`` pack's ``hubert`` and ``lmdm`` models."""

    def __init__(self, pack: ModelPack, steps: int = SAMPLING_STEPS) -> None:
        self.pack = pack
        self.steps = steps
        self._hubert: PackModel | None = None
        self._lmdm: PackModel | None = None
        self.source: DittoSource | None = None

    # -- the pack's models, made on first use -------------------------------------------------

    def _models(self) -> tuple[PackModel, PackModel]:
        if self._hubert is None or self._lmdm is None:
            self._hubert = PackModel(self.pack, "hubert", DITTO_MODELS)
            self._lmdm = PackModel(self.pack, "lmdm", DITTO_MODELS)
        return self._hubert, self._lmdm

    def encode(self, window: np.ndarray) -> np.ndarray:
        return self._models()[0]({"input_values": window})[0]

    def denoise(
        self, x: np.ndarray, cond_frame: np.ndarray, cond: np.ndarray, t: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        out = self._models()[1].named(
            {"x": x, "cond_frame": cond_frame, "cond": cond, "time_cond": t}
        )
        return out["pred_noise"], out["x_start"]

    # -- the stage ----------------------------------------------------------------------------

    def bind_portrait(self, image: np.ndarray, face: SourceFace) -> None:
        """Read the portrait the next ``generate`` calls make motion for."""
        self.source = ditto_source(DittoNetworks(self.pack), image, face)

    def motion_rows(
        self,
        samples: np.ndarray,
        settings: MotionSettings,
        progress: Callable[[float], None] | None = None,
    ) -> np.ndarray:
        """[ceil(seconds * 25), 265] Ditto motion rows for a 16 kHz voice."""
        source = self._bound()
        file = self.pack.files["hubert"].name
        audio = hubert.hubert_features(samples, self.encode, file)
        controls = Controls(
            emotion_vector(settings.emotion, settings.emotion_intensity),
            source.eye_open,
            source.eye_ball,
            source.canonical,
        )
        seeds = np.random.SeedSequence(settings.seed).spawn(2)
        sampler = DdimSampler(SEQ_FRAMES, MOTION_DIM, np.random.default_rng(seeds[0]), self.steps)
        return sample_motion(
            sampler, self.denoise, source.row, condition_rows(audio, controls), progress
        )

    def generate(
        self,
        features: AudioFeatures,
        settings: MotionSettings,
        samples: np.ndarray | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> MotionTrack:
        validate(settings)
        if samples is None or np.asarray(samples).size == 0:
            raise VasaError("Ditto makes motion from the voice itself; give the take its audio.")
        source = self._bound()
        rows = self.motion_rows(samples, settings, progress)
        style = STYLES[settings.speaking_style]
        shaping = Shaping(
            head=settings.motion_intensity * style.head,
            lips=settings.lipsync_strength,
            head_scale=settings.head_scale,
            gaze_yaw=settings.gaze_yaw,
            gaze_pitch=settings.gaze_pitch,
        )
        t25 = np.arange(len(rows)) / hubert.FPS
        features25 = (
            np.interp(t25, features.times, features.loudness) if features.n_frames else t25 * 0
        )
        seeds = np.random.SeedSequence(settings.seed).spawn(2)
        rate = settings.blink_rate_per_min * style.blinks
        blinks = plan_blinks(
            speech_mask(features25), hubert.FPS, rate, np.random.default_rng(seeds[1])
        )
        curves = track_channels(rows, source, shaping, blink_frames(*blinks, t25))
        curves = resample(curves, features.n_frames, features.fps)
        names = tuple(curves)
        data = np.stack([curves[c] for c in names], axis=1) if names else np.zeros((0, 0))
        meta: dict[str, Any] = {
            "generator": GENERATOR,
            "settings": asdict(settings),
            "lipsync_mode": None,
            "notes": [],
            "ditto": {"sampling_steps": self.steps, "windows": len(window_starts(len(rows)))},
            "blinks": len(blinks[0]),
        }
        return MotionTrack(features.fps, names, data.astype(np.float32), meta)

    def _bound(self) -> DittoSource:
        if self.source is None:
            raise ModelPackError(
                "Ditto's motion needs the portrait first (bind_portrait); make takes with "
                "generate, which reads it."
            )
        return self.source
