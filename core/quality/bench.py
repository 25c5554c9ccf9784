"""``make bench``: time each stage of a take on a portrait (512x512, 1920x1080, 3840x2160).

Prints per-stage seconds, end-to-end frames per second, the real-time factor (processing
time / audio duration; below 1 is faster than real time), the time until the first frame is
on disk, peak memory, and the two limits of render + write measured alone on the same take
(rendering without writing, writing without rendering: the write floor), so each run says
how close it is to them. With ``--pack`` a neural pack renders (``make bench`` uses a
LivePortrait stand-in pack): its per-frame cost is split into the networks and our own parts
(keypoint maths, paste-back, writing), so the path's overhead shows apart from the weights;
a pack that makes the motion itself (Ditto) has the portrait bound first, as a take does,
and its motion timed too. Benchmarks are reported, never asserted in tests.
"""

from __future__ import annotations

import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from ..marks.cost import bench_line, watermark_cost
from ..stages import PortraitConditioned
from ..take.generate import generate
from ..take.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_IMAGE = ROOT / "samples" / "astronaut.png"
SAMPLE_AUDIO = ROOT / "samples" / "speech.wav"


def make_audio(path: Path, seconds: float) -> Path:
    """The sample speech looped (with short pauses) to ``seconds``."""
    speech, sr = sf.read(SAMPLE_AUDIO, dtype="float32")
    gap = np.zeros(int(0.4 * sr), np.float32)
    unit = np.concatenate([speech, gap])
    reps = int(np.ceil(seconds * sr / len(unit)))
    sf.write(path, np.tile(unit, reps)[: int(seconds * sr)], sr)
    return path


SIZES = {"512": (512, 512), "hd": (1920, 1080), "uhd": (3840, 2160)}


def make_image(path: Path, size: str) -> Path:
    """The bench portrait at ``size`` (SIZES): the sample itself at 512, else the sample
    scaled to the frame's height and its surroundings mirrored out to 16:9."""
    import cv2

    if size == "512":
        return SAMPLE_IMAGE
    width, height = SIZES[size]
    side = height - (height % 1024) if height >= 1024 else height
    image = cv2.imread(str(SAMPLE_IMAGE))
    up = cv2.resize(image, (side, side), interpolation=cv2.INTER_CUBIC)
    top = (height - side) // 2
    left = (width - side) // 2
    frame = cv2.copyMakeBorder(
        up, top, height - side - top, left, width - side - left, cv2.BORDER_REFLECT
    )
    cv2.imwrite(str(path), frame)
    return path


def run_bench(
    seconds: float = 20.0,
    keep: Path | None = None,
    runs: int = 3,
    size: str = "512",
    pack: Path | None = None,
) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        audio = make_audio(Path(tmp) / "bench.wav", seconds)
        image = make_image(Path(tmp) / f"{size}.png", size)
        results = []
        settings = Settings(overwrite=True, pack=str(pack) if pack else None)
        for i in range(runs):
            out = keep if keep and i == runs - 1 else Path(tmp) / f"take{i}"
            results.append(generate(image, audio, out, settings))
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        floors = bench_floors(image, audio, Path(tmp) / "floor", pack=pack)
        # The watermark alone (on by default, so inside the takes' times above too).
        mark_cost = watermark_cost(image)
    totals = [r.timings["total"] for r in results]
    median = results[totals.index(statistics.median_low(totals))]
    n = median.n_frames
    width, height = SIZES[size]
    print(
        f"benchmark: {width}x{height} portrait, {seconds:.0f} s audio, {n} frames at 25 fps, "
        f"median of {runs} runs" + (f", pack {pack}" if pack else "")
    )
    print(f"machine: {platform.machine()}, {_cores()} cores; provider {median.provider}")
    for stage, value in median.timings.items():
        if stage not in ("total", "first_frame"):
            print(f"  {stage:<16}{value * 1000:9.1f} ms")
    total = median.timings["total"]
    render = median.timings["render"]
    e2e = n / total
    print(f"  {'total':<16}{total * 1000:9.1f} ms")
    print(f"render + write:     {n / render:7.1f} frames/s")
    print(f"end to end:         {e2e:7.1f} frames/s")
    print(bench_line(image, total / n, mark_cost))
    print(f"real-time factor:   {total / seconds:7.3f}  (below 1 = faster than real time)")
    print(f"first frame:        {median.timings.get('first_frame', float('nan')):7.2f} s on disk")
    print(f"peak memory:        {peak_mb:7.0f} MB (the process, {runs} takes)")
    print(f"render only:        {floors['render_fps']:7.1f} frames/s (nothing written)")
    print(f"write floor:        {floors['write_fps']:7.1f} frames/s (frames only written)")
    print(
        f"render + write runs at {(n / render) / floors['write_fps']:.2f} of the write floor "
        f"and {(n / render) / floors['render_fps']:.2f} of render only"
    )
    if "neural" in floors:
        print_neural(floors["neural"], 1000.0 / floors["write_fps"])
    if not pack:
        bench_motion(runs)
    elif floors["pack_motion"]:  # the pack makes the motion itself (Ditto): time it too
        bench_motion(runs, seconds, pack)
    return 0


def bench_floors(
    image: Path, audio: Path, out: Path, frames: int = 100, pack: Path | None = None
) -> dict:
    """The two limits of render + write, each alone on the same take: rendering ``frames``
    frames without writing them, and writing rendered frames (the first 20, again and again)
    through the take's own writers without rendering."""
    from ..audio import compute_features, load_audio
    from ..face.portrait import read_portrait
    from ..motion.settings import MotionSettings
    from ..runtime.factory import open_stages
    from ..take import outputs
    from ..take.frames import FrameWriter

    stages = open_stages(pack)
    pixels = read_portrait(image).pixels
    face = stages.face.analyze(pixels, image.name)
    samples = load_audio(audio)
    if isinstance(stages.motion, PortraitConditioned):
        stages.motion.bind_portrait(pixels, face)
    track = stages.motion.generate(compute_features(samples, 25.0), MotionSettings(), samples)
    renderer = stages.renderer(pixels, face)
    count = min(frames, track.n_frames)
    kept: list[np.ndarray] = []
    t0 = time.perf_counter()
    for i in range(count):
        frame = renderer.render_batch(track.data[[i]], track.channels)[0]
        if len(kept) < 20:
            kept.append(frame)
    render_s = time.perf_counter() - t0
    settings = Settings(overwrite=True)
    (out / "frames").mkdir(parents=True, exist_ok=True)
    targets = outputs.open_targets(out, settings, renderer, pixels, None, {"Software": "bench"})
    writer: FrameWriter = targets[0].writer
    t0 = time.perf_counter()
    with writer:
        for i in range(count):
            writer.put(i + 1, kept[i % len(kept)])
    write_s = time.perf_counter() - t0
    out_: dict = {
        "render_fps": count / render_s,
        "write_fps": count / write_s,
        "pack_motion": isinstance(stages.motion, PortraitConditioned),
    }
    from ..render.liveportrait import LivePortraitRenderer

    if isinstance(renderer, LivePortraitRenderer):
        out_["neural"] = neural_stages(renderer, pixels, face, track, count)
    return out_


def neural_stages(renderer, pixels: np.ndarray, face, track, count: int) -> dict[str, float]:
    """The LivePortrait path per frame in ms (medians over ``count`` frames), each part
    timed alone: our keypoint maths (driving motion, expression table, Eqn. 2), the eye and
    lip retargeting networks (when the pack has them), the stitching network, the warp +
    decoder, our paste-back; and once per take the crop and the appearance and motion
    networks."""
    from ..render.liveportrait.crop import lp_crop, network_input

    keys = ("keypoints", "retarget", "stitch", "warp", "paste")
    parts: dict[str, list[float]] = {k: [] for k in keys}
    nets = renderer.networks
    for i in range(count):
        channels = dict(zip(track.channels, map(float, track.data[i]), strict=True))
        t0 = time.perf_counter()
        x_d = renderer.driving(channels).keypoints()
        t1 = time.perf_counter()
        x_d = x_d + renderer.retarget_delta(channels)
        t2 = time.perf_counter()
        x_d = nets.stitch(renderer.x_s, x_d)
        t3 = time.perf_counter()
        out = nets.warp(renderer.feature, renderer.x_s, x_d)
        t4 = time.perf_counter()
        renderer.paste(out)
        t5 = time.perf_counter()
        steps = (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)
        for key, seconds in zip(parts, steps, strict=True):
            parts[key].append(seconds * 1000.0)
    result = {key: statistics.median(values) for key, values in parts.items()}
    t0 = time.perf_counter()
    crop = lp_crop(face)
    net_in = network_input(crop.crop(pixels))
    t1 = time.perf_counter()
    nets.appearance(net_in)
    nets.motion(net_in)
    t2 = time.perf_counter()
    result |= {"crop_once": (t1 - t0) * 1000.0, "source_networks_once": (t2 - t1) * 1000.0}
    return result


def print_neural(parts: dict[str, float], write_ms: float) -> None:
    """The neural path's own cost per frame beside its networks'."""
    ours = parts["keypoints"] + parts["paste"] + write_ms
    networks = parts["retarget"] + parts["stitch"] + parts["warp"]
    print("neural path per frame (median; each part timed alone):")
    print(f"  keypoint maths    {parts['keypoints']:8.2f} ms  (driving motion, table, Eqn. 2)")
    print(f"  eye/lip retarget  {parts['retarget']:8.2f} ms  (0 without those networks)")
    print(f"  stitching network {parts['stitch']:8.2f} ms")
    print(f"  warp + decoder    {parts['warp']:8.2f} ms  (the pack's networks)")
    print(f"  paste-back        {parts['paste']:8.2f} ms")
    print(f"  writing           {write_ms:8.2f} ms  (the take's frame writer, from the floor)")
    print(
        f"  ours, without the networks: {ours:.2f} ms a frame "
        f"({100 * ours / (ours + networks):.0f} % of {ours + networks:.2f} ms)"
    )
    print(
        f"once per take: crop {parts['crop_once']:.1f} ms, appearance + motion networks "
        f"{parts['source_networks_once']:.1f} ms"
    )


def bench_motion(
    runs: int = 3, seconds: float = 60.0, pack: Path | None = None
) -> dict[str, float]:
    """Motion alone for ``seconds`` of speech: acoustic time, phonetic real-time factor.

    With ``pack``, that pack's generator; one whose motion depends on the portrait (Ditto's)
    is bound to the sample portrait first, as a take binds its own, and runs once per run
    (``lipsync_mode`` steers only our own generator)."""
    from ..audio import compute_features, load_audio, phonemes
    from ..face.portrait import read_portrait
    from ..motion.settings import MotionSettings
    from ..runtime.factory import open_stages

    stages = open_stages(pack)
    motion = stages.motion
    modes = {"acoustic": "acoustic"}
    if phonemes.availability() is None:
        modes["phonetic"] = "phonetic"
    if isinstance(motion, PortraitConditioned):
        pixels = read_portrait(SAMPLE_IMAGE).pixels
        motion.bind_portrait(pixels, stages.face.analyze(pixels, SAMPLE_IMAGE.name))
        modes = {type(motion).__name__: "acoustic"}

    with tempfile.TemporaryDirectory() as tmp:
        samples = load_audio(make_audio(Path(tmp) / "motion.wav", seconds))
    t0 = time.perf_counter()
    features = compute_features(samples, 25.0)
    out = {"features": time.perf_counter() - t0}
    print(
        f"motion, {seconds:.0f} s of speech (median of {runs}; audio features took "
        f"{out['features'] * 1000:.1f} ms once, not included):"
    )
    for label, mode in modes.items():
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            motion.generate(features, MotionSettings(lipsync_mode=mode), samples)
            times.append(time.perf_counter() - t0)
        out[label] = took = statistics.median(times)
        print(f"  {label:<16}{took * 1000:9.1f} ms  (real-time factor {took / seconds:.3f})")
    return out


def _cores() -> int | None:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def bench_batch(clips: int = 12, seconds: float = 3.0) -> dict[str, float]:
    """A manifest of ``clips`` short clips (the sample portrait, ``seconds`` of speech each)
    run by one worker: clips per hour, and the start-up cost (models, sessions) that the
    worker pays once instead of once per clip."""
    import csv

    from ..batch.manifest import read_manifest
    from ..batch.run import EngineMaker, run_batch

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        speech, sr = sf.read(SAMPLE_AUDIO, dtype="float32")
        with open(root / "clips.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["image", "audio", "name", "seed"])
            for k in range(clips):
                start = int(k * 0.37 * sr) % max(1, len(speech) - int(seconds * sr))
                sf.write(root / f"v{k}.wav", speech[start : start + int(seconds * sr)], sr)
                writer.writerow([str(SAMPLE_IMAGE), f"v{k}.wav", f"clip{k:03d}", k])
        maker = EngineMaker()
        t0 = time.perf_counter()
        result = run_batch(read_manifest(root / "clips.csv"), root / "out", maker=maker)
        wall = time.perf_counter() - t0
        # One clip in a process of its own, as a farm without batching would run it.
        t1 = time.perf_counter()
        paths = {"--image": SAMPLE_IMAGE, "--audio": root / "v0.wav", "--out": root / "alone"}
        alone = [sys.executable, "-m", "core", "generate", "--quiet"]
        alone += [part for flag, path in paths.items() for part in (flag, str(path))]
        subprocess.run(alone, cwd=ROOT, check=True, capture_output=True)
        alone_s = time.perf_counter() - t1
    done = len(result.names("done"))
    per_clip = (wall - maker.startup_s) / max(done, 1)
    cold = max(0.0, alone_s - per_clip)
    print(f"batch: {done} clips of {seconds:.0f} s (512x512, 25 fps), one worker:")
    print(f"  clips per hour:   {3600 * done / wall:9.0f}")
    print(f"  per clip:         {per_clip:9.2f} s")
    print(f"  start-up, once:   {maker.startup_s:9.2f} s (models and sessions)")
    print(
        f"  a process per clip pays {cold:.2f} s more each time (interpreter, imports, "
        f"models): {3600 / (per_clip + cold):.0f} clips per hour"
    )
    return {
        "clips_per_hour": 3600 * done / wall,
        "per_clip_s": per_clip,
        "startup_s": maker.startup_s,
    }
