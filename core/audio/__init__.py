"""Stage 1, the voice: audio files in, 16 kHz mono samples and per-video-frame features out.

``load`` reads and checks any common file (WAV, FLAC, OGG, MP3) or a pipe, and notes a
truncated one; ``features`` describes it once per video frame (loudness, voicing, pitch,
log-mel); ``phonemes`` recognises English phones with PocketSphinx for the phonetic lip sync.
This package's public names are re-exported here, so
``from core.audio import load_audio, compute_features`` is the way in.
"""

from .features import (
    LOUDNESS_FLOOR_DB,
    LOUDNESS_RANGE_DB,
    MEL_FMAX_HZ,
    MEL_FMIN_HZ,
    N_MELS,
    PITCH_MAX_HZ,
    PITCH_MIN_HZ,
    VOICING_THRESHOLD,
    AudioFeatures,
    compute_features,
    n_video_frames,
)
from .load import (
    MAX_DURATION_S,
    SAMPLE_RATE,
    SILENCE_PEAK_DBFS,
    TRUNCATED_MIN_S,
    AudioInfo,
    LoadedAudio,
    load_audio,
    probe_audio,
    read_audio,
)

__all__ = [
    "LOUDNESS_FLOOR_DB",
    "LOUDNESS_RANGE_DB",
    "MAX_DURATION_S",
    "MEL_FMAX_HZ",
    "MEL_FMIN_HZ",
    "N_MELS",
    "PITCH_MAX_HZ",
    "PITCH_MIN_HZ",
    "SAMPLE_RATE",
    "SILENCE_PEAK_DBFS",
    "TRUNCATED_MIN_S",
    "VOICING_THRESHOLD",
    "AudioFeatures",
    "AudioInfo",
    "LoadedAudio",
    "compute_features",
    "load_audio",
    "n_video_frames",
    "probe_audio",
    "read_audio",
]
