"""Tests for core.audio: loading any common file as 16 kHz mono, and per-frame features."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.audio import (
    MAX_DURATION_S,
    SAMPLE_RATE,
    AudioFeatures,
    compute_features,
    load_audio,
    n_video_frames,
    probe_audio,
)
from core.audio import features as audio_features
from core.audio import load as audio_load
from core.errors import AudioError, VasaError

FORMATS = {
    # id: (soundfile format, subtype, extension, lossy)
    "wav16": ("WAV", "PCM_16", "wav", False),
    "wavfloat": ("WAV", "FLOAT", "wav", False),
    "flac": ("FLAC", None, "flac", False),
    "ogg": ("OGG", "VORBIS", "ogg", True),
    "mp3": ("MP3", None, "mp3", True),
}
RATES = [8000, 16000, 22050, 44100, 48000]
CHANNELS = [1, 2, 6]


def tone(freq: float, duration: float, sr: int = SAMPLE_RATE, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(duration * sr))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def harmonic(f0: float, duration: float, sr: int = SAMPLE_RATE) -> np.ndarray:
    """A voiced-like tone: f0 with harmonics falling at 1/k up to 7 kHz."""
    t = np.arange(int(round(duration * sr))) / sr
    x = sum(np.sin(2 * np.pi * f0 * k * t + k) / k for k in range(1, int(7000 // f0) + 1))
    return (0.3 * x / np.max(np.abs(x))).astype(np.float32)


def noise(duration: float, sr: int = SAMPLE_RATE, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal(int(round(duration * sr)))).astype(np.float32)


def write(path: Path, data: np.ndarray, sr: int, fmt: str = "WAV", subtype=None) -> Path:
    sf.write(str(path), data, sr, format=fmt, subtype=subtype)
    return path


def peak_frequency(x: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    n_fft = 1 << 18  # zero-padded for sub-Hz resolution
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)), n_fft))
    return float(np.argmax(spec) * sr / n_fft)


def assert_one_sentence(err: pytest.ExceptionInfo, *fragments: str) -> None:
    msg = str(err.value)
    assert isinstance(err.value, VasaError)
    assert msg.endswith("."), msg
    assert "\n" not in msg
    for fragment in fragments:
        assert fragment in msg, msg


# --------------------------------------------------------------------------- loading


@pytest.mark.parametrize("channels", CHANNELS)
@pytest.mark.parametrize("sr", RATES)
@pytest.mark.parametrize("fmt_id", list(FORMATS))
def test_load_formats_rates_channels(tmp_path, fmt_id, sr, channels):
    fmt, subtype, ext, lossy = FORMATS[fmt_id]
    duration = 0.73  # not a whole number of codec frames or video frames
    mono = tone(440.0, duration, sr)
    data = np.stack([mono * (0.6 + 0.1 * c) for c in range(channels)], axis=1)
    path = tmp_path / f"tone_{sr}_{channels}.{ext}"
    if fmt == "MP3" and channels > 2:
        pytest.skip("MP3 holds at most two channels")
    try:
        write(path, data, sr, fmt, subtype)
    except sf.LibsndfileError as exc:
        if fmt == "MP3":
            pytest.skip(f"this libsndfile cannot write {channels}-channel MP3 at {sr} Hz: {exc}")
        raise

    y = load_audio(path)

    assert y.dtype == np.float32 and y.ndim == 1
    expected = duration * SAMPLE_RATE
    allowance = 0.01 * expected + (0.05 * SAMPLE_RATE if lossy else 0)
    assert abs(len(y) - expected) <= allowance
    assert abs(peak_frequency(y) - 440.0) < 440.0 * 0.005

    def mid_rms(x: np.ndarray) -> float:
        return float(np.sqrt(np.mean(np.square(x[len(x) // 4 : -len(x) // 4]))))

    if lossy:  # codecs change levels (Vorbis low-passes a 6th, LFE, channel): mix as decoded
        expected_rms = mid_rms(sf.read(str(path), always_2d=True)[0].mean(axis=1))
    else:
        expected_rms = 0.5 * np.mean([0.6 + 0.1 * c for c in range(channels)]) / np.sqrt(2)
    assert mid_rms(y) == pytest.approx(expected_rms, rel=0.02)


def test_load_mixes_channels_by_mean(tmp_path):
    left = tone(300.0, 0.5, amp=0.4)
    right = np.zeros_like(left)
    y = load_audio(
        write(tmp_path / "lr.wav", np.stack([left, right], 1), SAMPLE_RATE, "WAV", "FLOAT")
    )
    np.testing.assert_allclose(y, left / 2, atol=1e-6)


def test_probe_audio_reads_header(tmp_path):
    path = write(tmp_path / "p.flac", np.zeros((22050 * 2, 2), np.float32), 22050, "FLAC")
    info = probe_audio(path)
    assert (info.frames, info.samplerate, info.channels, info.format) == (44100, 22050, 2, "FLAC")
    assert info.duration_s == pytest.approx(2.0)
    assert MAX_DURATION_S == 3600.0


def test_missing_file(tmp_path):
    with pytest.raises(AudioError) as err:
        load_audio(tmp_path / "nowhere.wav")
    assert_one_sentence(err, "not found", "nowhere.wav")


def test_directory_is_not_a_file(tmp_path):
    (tmp_path / "folder.wav").mkdir()
    with pytest.raises(AudioError) as err:
        load_audio(tmp_path / "folder.wav")
    assert_one_sentence(err, "not found", "folder.wav")


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    for func in (load_audio, probe_audio):
        with pytest.raises(AudioError) as err:
            func(tmp_path / "empty.wav")
        assert_one_sentence(err, "is empty", "empty.wav")


def _valid_wav_bytes(tmp_path: Path) -> bytes:
    return write(tmp_path / "ok.wav", tone(440.0, 0.2), SAMPLE_RATE, "WAV", "PCM_16").read_bytes()


@pytest.mark.parametrize("kind", ["random", "truncated_header", "garbage_after_riff", "fake_mp3"])
def test_corrupt_file(tmp_path, kind):
    rng = np.random.default_rng(1)
    garbage = rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()
    if kind == "random":
        name, content = "noise.wav", garbage
    elif kind == "truncated_header":
        name, content = "cut.wav", _valid_wav_bytes(tmp_path)[:20]
    elif kind == "garbage_after_riff":
        name, content = "riff.wav", b"RIFF\x10\x00\x00\x00WAVEfmt " + garbage
    else:
        name, content = "fake.mp3", b"this is a text file, not audio\n" * 10
    (tmp_path / name).write_bytes(content)
    for func in (load_audio, probe_audio):
        with pytest.raises(AudioError) as err:
            func(tmp_path / name)
        assert_one_sentence(err, "could not be decoded", name, "WAV, FLAC, OGG or MP3")


def test_nan_samples_are_corrupt(tmp_path):
    data = tone(440.0, 0.3)
    data[100] = np.nan
    path = write(tmp_path / "nan.wav", data, SAMPLE_RATE, "WAV", "FLOAT")
    with pytest.raises(AudioError) as err:
        load_audio(path)
    assert_one_sentence(err, "could not be decoded", "nan.wav")


def test_zero_frames(tmp_path):
    path = write(tmp_path / "noframes.wav", np.zeros((0, 1), np.float32), SAMPLE_RATE)
    with pytest.raises(AudioError) as err:
        load_audio(path)
    assert_one_sentence(err, "contains no samples", "noframes.wav")


def test_silence_refused_unless_allowed(tmp_path):
    path = write(tmp_path / "quiet.wav", np.zeros(8000, np.float32), 8000, "WAV", "PCM_16")
    with pytest.raises(AudioError) as err:
        load_audio(path)
    assert_one_sentence(err, "contains only silence", "-60 dBFS", "quiet.wav")

    y = load_audio(path, allow_silent=True)
    assert y.dtype == np.float32 and len(y) == SAMPLE_RATE and not np.any(y)


def test_quiet_but_not_silent_is_accepted(tmp_path):
    quiet = tone(440.0, 0.3, amp=10 ** (-55 / 20))  # peak at -55 dBFS
    y = load_audio(write(tmp_path / "soft.wav", quiet, SAMPLE_RATE, "WAV", "FLOAT"))
    assert len(y) == len(quiet)


def test_too_long_refused_from_header(tmp_path, monkeypatch):
    path = write(tmp_path / "long.flac", tone(440.0, 2.0), SAMPLE_RATE, "FLAC")

    def must_not_decode(*args, **kwargs):
        raise AssertionError("samples were decoded before the duration check")

    monkeypatch.setattr(audio_load, "_read_mono", must_not_decode)
    with pytest.raises(AudioError) as err:
        load_audio(path, max_duration_s=1.5)
    assert_one_sentence(err, "too long", "long.flac", "2.0 s", "limit is 1.5 s", "split")


def test_duration_at_limit_is_accepted(tmp_path):
    path = write(tmp_path / "ok.wav", tone(440.0, 1.0), SAMPLE_RATE)
    assert len(load_audio(path, max_duration_s=1.0)) == SAMPLE_RATE


# --------------------------------------------------------------------------- features


@pytest.mark.parametrize("fps", [23.976, 24, 25, 29.97, 30, 50, 59.94, 60])
@pytest.mark.parametrize("n_samples", [0, 1, 639, 16000, 16001, 33333, 160000, 1234567])
def test_n_video_frames_is_ceil_of_duration(fps, n_samples):
    exact = math.ceil(Fraction(n_samples) * Fraction(fps) / SAMPLE_RATE)
    assert n_video_frames(n_samples, fps) == max(1, exact)


@pytest.mark.parametrize("fps", [23.976, 25, 29.97, 60])
@pytest.mark.parametrize("duration", [0.5, 1.234, 2.0])
def test_feature_shapes(fps, duration):
    x = harmonic(150.0, duration)
    feats = compute_features(x, fps)
    n = math.ceil(round(duration * SAMPLE_RATE) * fps / SAMPLE_RATE - 1e-9)
    assert feats.n_frames == n
    assert feats.fps == fps
    for arr in (feats.loudness_db, feats.loudness, feats.voicing, feats.pitch_hz):
        assert arr.shape == (n,) and arr.dtype == np.float32
    assert feats.mel.shape == (n, 40) and feats.mel.dtype == np.float32
    np.testing.assert_allclose(feats.times, np.arange(n) / fps)
    assert np.all(np.isfinite(feats.mel))
    assert np.all((feats.loudness >= 0) & (feats.loudness <= 1))
    assert np.all((feats.voicing >= 0) & (feats.voicing <= 1))
    assert np.all(feats.loudness_db >= -100)


def test_features_are_read_only():
    feats = compute_features(harmonic(150.0, 0.5), 25)
    assert isinstance(feats, AudioFeatures)
    with pytest.raises(ValueError):
        feats.loudness[0] = 0.5
    with pytest.raises(AttributeError):
        feats.fps = 30  # type: ignore[misc]


@pytest.mark.parametrize("fps", [0, -25, float("nan"), float("inf"), "25", None])
def test_bad_fps(fps):
    with pytest.raises(ValueError):
        compute_features(harmonic(150.0, 0.5), fps)
    with pytest.raises(ValueError):
        n_video_frames(16000, fps)


def test_samples_must_be_mono():
    with pytest.raises(ValueError):
        compute_features(np.zeros((1000, 2), np.float32), 25)


def test_fraction_fps():
    ntsc = compute_features(harmonic(150.0, 1.0), Fraction(30000, 1001))
    assert ntsc.n_frames == 30 and ntsc.fps == pytest.approx(29.97, abs=1e-3)


def test_tiny_and_empty_input():
    assert compute_features(np.zeros(0, np.float32), 25).n_frames == 1
    feats = compute_features(np.ones(10, np.float32) * 0.1, 30)
    assert feats.n_frames == 1 and np.isfinite(feats.loudness_db).all()


@pytest.mark.parametrize("fps", [24, 29.97, 60])
def test_loudness_tone_vs_silence(fps):
    x = np.concatenate([harmonic(150.0, 1.0), np.zeros(SAMPLE_RATE, np.float32)])
    feats = compute_features(x, fps)
    t = feats.times
    in_tone = (t > 0.1) & (t < 0.9)
    in_silence = t > 1.1
    assert np.all(feats.loudness[in_tone] > 0.9)
    assert np.all(feats.loudness[in_silence] < 0.05)
    assert np.all(feats.loudness_db[in_silence] == -100)
    assert np.all(feats.voicing[in_silence] == 0) and np.all(feats.pitch_hz[in_silence] == 0)


@pytest.mark.parametrize("fps", [23.976, 25, 29.97, 60])
def test_voicing_and_pitch(fps):
    voiced = compute_features(harmonic(150.0, 1.5), fps)
    inner = slice(2, -2)  # away from the zero-padded ends
    assert voiced.voicing[inner].min() > 0.6
    np.testing.assert_allclose(voiced.pitch_hz[inner], 150.0, rtol=0.03)

    unvoiced = compute_features(noise(1.5), fps)
    assert unvoiced.voicing.mean() < 0.3
    assert np.mean(unvoiced.pitch_hz > 0) < 0.05


@pytest.mark.parametrize("f0", [70.0, 110.0, 220.0, 350.0])
def test_pitch_over_the_voice_range(f0):
    feats = compute_features(harmonic(f0, 1.0), 30)
    np.testing.assert_allclose(feats.pitch_hz[2:-2], f0, rtol=0.03)


def test_mel_follows_frequency():
    low = compute_features(tone(200.0, 0.5), 25).mel[2:-2].mean(axis=0)
    high = compute_features(tone(3000.0, 0.5), 25).mel[2:-2].mean(axis=0)
    assert low[:10].mean() > high[:10].mean() + 2  # log10 power: > 100x
    assert high[-15:].mean() > low[-15:].mean()
    assert int(np.argmax(low)) < int(np.argmax(high))


def test_blocks_do_not_change_results(monkeypatch):
    x = np.concatenate([harmonic(150.0, 1.0), noise(1.0), np.zeros(4000, np.float32)])
    whole = compute_features(x, 29.97)
    monkeypatch.setattr(audio_features, "_BLOCK_FRAMES", 7)
    blocked = compute_features(x, 29.97)
    for name in ("loudness_db", "loudness", "voicing", "pitch_hz", "mel"):
        # Batched FFT/BLAS may round differently per batch size; results must agree closely.
        np.testing.assert_allclose(getattr(whole, name), getattr(blocked, name), atol=1e-4)


# --------------------------------------------------------------------------- real speech
# espeak_pauses: the fixture in conftest.py (tests/data/audio/espeak_pauses.wav)


@pytest.mark.parametrize("fps", [25, 29.97, 60])
def test_real_speech_pause(espeak_pauses, fps):
    x = load_audio(espeak_pauses)
    assert len(x) / SAMPLE_RATE == pytest.approx(9.6, abs=0.1)

    feats = compute_features(x, fps)
    quiet = feats.loudness_db < feats.loudness_db.max() - 35
    best_len, best_start, run = 0, 0, 0
    for i, q in enumerate(quiet):
        run = run + 1 if q else 0
        if run > best_len:
            best_len, best_start = run, i - run + 1
    pause_s = best_len / fps
    assert 1.0 <= pause_s <= 1.4
    pause = slice(best_start, best_start + best_len)
    speech = feats.loudness > 0.5
    assert speech.sum() > 2 * fps  # several seconds of speech
    assert feats.loudness[pause].max() < feats.loudness[speech].mean() - 0.5
    assert feats.voicing[pause].mean() < 0.1 and not np.any(feats.pitch_hz[pause])
    assert feats.voicing[speech].mean() > 0.5
    assert 70 < np.median(feats.pitch_hz[feats.pitch_hz > 0]) < 200  # espeak-ng's male voice
