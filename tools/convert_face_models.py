"""Build the built-in model pack from the MediaPipe wheel (run by `make models`).

The face detector, face landmark and iris landmark models ship as TFLite files inside the
``mediapipe==0.10.21`` wheel on PyPI (Apache-2.0). This script converts them to ONNX with
tf2onnx, checks that ONNX Runtime reproduces TensorFlow Lite's outputs, and writes:

- ``core/builtin_pack/``: the ONNX files, ``pack.toml`` with sha256 sums, LICENSE and NOTICE;
- ``tests/data/face_model_reference.npz``: model inputs (uint8 crops) with TFLite's outputs;
- ``tests/data/facemesh_reference.npz``: MediaPipe FaceMesh landmarks (pixels) on portraits,
  so the engine's own detector decode, crop and projection can be checked against it.

Only this script needs TensorFlow and mediapipe; the engine and CI use the committed files.
Usage: ``python tools/convert_face_models.py [--portraits DIR]`` inside a venv made from
``tools/requirements-convert.txt``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PACK_DIR = ROOT / "core" / "builtin_pack"
TEST_DATA = ROOT / "tests" / "data"
MEDIAPIPE_VERSION = "0.10.21"
OPSET = 17

# key in pack.toml -> (path inside the mediapipe package, output file name, input range)
MODELS = {
    "face_detector": (
        "modules/face_detection/face_detection_short_range.tflite",
        "face_detection_short_range.onnx",
        (-1.0, 1.0),
    ),
    "face_landmarks": (
        "modules/face_landmark/face_landmark.tflite",
        "face_landmark.onnx",
        (0.0, 1.0),
    ),
    "iris_landmarks": (
        "modules/iris_landmark/iris_landmark.tflite",
        "iris_landmark.onnx",
        (0.0, 1.0),
    ),
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mediapipe_dir() -> Path:
    version = importlib.metadata.version("mediapipe")
    if version != MEDIAPIPE_VERSION:
        sys.exit(f"mediapipe {MEDIAPIPE_VERSION} is required, found {version}")
    import mediapipe

    return Path(mediapipe.__file__).parent


def convert(tflite: Path, onnx_path: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "tf2onnx.convert",
        "--tflite",
        str(tflite),
        "--output",
        str(onnx_path),
        "--opset",
        str(OPSET),
    ]
    subprocess.run(cmd, check=True, capture_output=True)


def to_tensor(crop: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    lo, hi = value_range
    return (crop.astype(np.float32) / 255.0 * (hi - lo) + lo)[None]


def run_tflite(path: Path, x: np.ndarray) -> dict[str, np.ndarray]:
    import tensorflow as tf

    interp = tf.lite.Interpreter(model_path=str(path))
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    return {d["name"]: interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()}


def run_onnx(path: Path, x: np.ndarray) -> dict[str, np.ndarray]:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {sess.get_inputs()[0].name: x}), strict=True))


def facemesh(image_rgb: np.ndarray) -> np.ndarray | None:
    """MediaPipe's own FaceMesh landmarks in pixels ([468, 3], z in pixels too)."""
    import mediapipe as mp

    with mp.solutions.face_mesh.FaceMesh(
        static_image_mode=True, max_num_faces=1, refine_landmarks=False
    ) as mesh:
        result = mesh.process(image_rgb)
    if not result.multi_face_landmarks:
        return None
    h, w = image_rgb.shape[:2]
    pts = result.multi_face_landmarks[0].landmark
    return np.array([[p.x * w, p.y * h, p.z * w] for p in pts], np.float32)


def crop_square(image: np.ndarray, cx: float, cy: float, size: float, out: int) -> np.ndarray:
    """Axis-aligned square crop (replicated border) resized to ``out`` x ``out``."""
    scale = out / size
    m = np.array([[scale, 0, out / 2 - cx * scale], [0, scale, out / 2 - cy * scale]], np.float32)
    return cv2.warpAffine(
        image, m, (out, out), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def reference_inputs(astronaut: np.ndarray, mesh: np.ndarray) -> dict[str, np.ndarray]:
    """Meaningful uint8 inputs for each model, cut from the sample portrait."""
    x0, y0 = mesh[:, :2].min(0)
    x1, y1 = mesh[:, :2].max(0)
    cx, cy, size = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0)
    eye = (mesh[33, :2] + mesh[133, :2]) / 2
    eye_size = np.linalg.norm(mesh[33, :2] - mesh[133, :2]) * 2.3
    return {
        "face_detector": cv2.resize(astronaut, (128, 128), interpolation=cv2.INTER_AREA),
        "face_landmarks": crop_square(astronaut, cx, cy, size * 1.5, 192),
        "iris_landmarks": crop_square(astronaut, eye[0], eye[1], eye_size, 64),
    }


def write_pack_toml(entries: dict[str, tuple[str, str]]) -> None:
    lines = [
        "# Built-in model pack: MediaPipe face models converted to ONNX by",
        "# tools/convert_face_models.py. Do not edit by hand; rerun `make models`.",
        "[pack]",
        'name = "builtin"',
        'profile = "builtin"',
        'license = "Apache-2.0"',
        f'source = "mediapipe=={MEDIAPIPE_VERSION} wheel on PyPI, mediapipe/modules/"',
        "",
    ]
    for key, (file, digest) in entries.items():
        lines += [f"[models.{key}]", f'file = "{file}"', f'sha256 = "{digest}"', ""]
    (PACK_DIR / "pack.toml").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--portraits", type=Path, default=ROOT.parent / "shared" / "data" / "portraits"
    )
    args = parser.parse_args()

    mp_dir = mediapipe_dir()
    PACK_DIR.mkdir(parents=True, exist_ok=True)
    TEST_DATA.mkdir(parents=True, exist_ok=True)
    astronaut = cv2.cvtColor(cv2.imread(str(ROOT / "samples" / "astronaut.png")), cv2.COLOR_BGR2RGB)
    mesh = facemesh(astronaut)
    if mesh is None:
        sys.exit("FaceMesh found no face in samples/astronaut.png")
    inputs = reference_inputs(astronaut, mesh)

    entries: dict[str, tuple[str, str]] = {}
    reference: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for key, (rel, out_name, value_range) in MODELS.items():
            src = Path(tmp) / Path(rel).name
            shutil.copy(mp_dir / rel, src)
            dst = PACK_DIR / out_name
            convert(src, dst)
            x = to_tensor(inputs[key], value_range)
            want, got = run_tflite(src, x), run_onnx(dst, x)
            for name, value in want.items():
                # Relative to the output's magnitude: landmarks come in 192-px crop units.
                err = float(np.abs(value - got[name]).max() / max(1.0, np.abs(value).max()))
                print(f"{key}.{name}: shape {value.shape}, max relative difference {err:.2e}")
                if err > 1e-4:
                    sys.exit(f"{key}: ONNX output {name} differs from TFLite by {err}")
                reference[f"{key}/output/{name}"] = value
            reference[f"{key}/input_uint8"] = inputs[key]
            reference[f"{key}/range"] = np.array(value_range, np.float32)
            entries[key] = (out_name, sha256(dst))
    write_pack_toml(entries)
    license_src = next(mp_dir.parent.glob(f"mediapipe-{MEDIAPIPE_VERSION}.dist-info/LICENSE*"))
    shutil.copy(license_src, PACK_DIR / "LICENSE")
    (PACK_DIR / "NOTICE").write_text(
        "The ONNX files in this folder are converted from the TFLite models in the\n"
        f"mediapipe=={MEDIAPIPE_VERSION} wheel on PyPI (mediapipe/modules/face_detection,\n"
        "face_landmark and iris_landmark), Copyright The MediaPipe Authors, licensed under\n"
        "the Apache License 2.0 (see LICENSE). Converted with tf2onnx by\n"
        "tools/convert_face_models.py; weights are unchanged.\n"
    )
    np.savez_compressed(TEST_DATA / "face_model_reference.npz", **reference)

    meshes = {"astronaut.png": mesh}
    for path in sorted(args.portraits.glob("*.png")) if args.portraits.is_dir() else []:
        image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        found = facemesh(image)
        if found is not None:
            meshes[path.name] = found
    np.savez_compressed(TEST_DATA / "facemesh_reference.npz", **meshes)
    print(f"wrote {PACK_DIR} and FaceMesh references for {sorted(meshes)}")


if __name__ == "__main__":
    main()
