"""Tests for model packs (core.runtime.packs) and the ONNX Runtime wrapper (core.runtime.sessions).

Damaged packs are copies of the built-in pack in tmp_path; each must fail when opened with a
ModelPackError that names the file or the problem, never with a raw ONNX Runtime error.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from core.errors import ModelPackError, VasaError
from core.runtime.packs import BUILTIN_PACK_DIR, ModelPack, open_pack
from core.runtime.profiles import MEDIAPIPE_FACE_MODELS, get_profile
from core.runtime.sessions import Runtime, RuntimeConfig, default_runtime

MODEL_FILES = {
    "face_detector": "face_detection_short_range.onnx",
    "face_landmarks": "face_landmark.onnx",
    "iris_landmarks": "iris_landmark.onnx",
}


@pytest.fixture
def pack_copy(tmp_path) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(BUILTIN_PACK_DIR, folder)
    return folder


def edit_toml(folder: Path, change) -> None:
    toml = folder / "pack.toml"
    toml.write_text(change(toml.read_text(encoding="utf-8")), encoding="utf-8")


def drop_sha256(text: str) -> str:
    return re.sub(r"(?m)^sha256\s*=.*\n", "", text)


def truncate(path: Path, keep: int = 4096) -> None:
    path.write_bytes(path.read_bytes()[:keep])


def swap(a: Path, b: Path) -> None:
    data_a = a.read_bytes()
    a.write_bytes(b.read_bytes())
    b.write_bytes(data_a)


# -- 1. the built-in pack ------------------------------------------------------------------
def test_builtin_pack_opens_and_matches_pack_toml():
    pack = open_pack()
    assert isinstance(pack, ModelPack)
    assert pack.folder == BUILTIN_PACK_DIR
    assert pack.profile == "builtin"
    assert pack.name == "builtin"
    assert pack.license == "Apache-2.0"
    assert set(pack.files) == set(get_profile("builtin").models) == set(MODEL_FILES)
    meta = tomllib.loads((BUILTIN_PACK_DIR / "pack.toml").read_text(encoding="utf-8"))
    for key, path in pack.files.items():
        assert path.is_file()
        assert path.name == MODEL_FILES[key] == meta["models"][key]["file"]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest == meta["models"][key]["sha256"] == pack.sha256[key]
    described = pack.describe()
    assert described["profile"] == "builtin" and described["sha256"] == pack.sha256


def test_builtin_pack_ships_license_and_notice():
    license_text = (BUILTIN_PACK_DIR / "LICENSE").read_text(encoding="utf-8")
    notice = (BUILTIN_PACK_DIR / "NOTICE").read_text(encoding="utf-8")
    assert "Apache License" in license_text
    assert "mediapipe" in notice.lower() and "Apache" in notice


def test_builtin_sessions_have_the_profile_tensors():
    pack = open_pack()
    for key, spec in MEDIAPIPE_FACE_MODELS.items():
        sess = pack.session(key)
        assert [i.name for i in sess.get_inputs()] == [t.name for t in spec.inputs]
        assert {o.name for o in sess.get_outputs()} == {t.name for t in spec.outputs}
        # And the model runs on a zero input of the profile's shape.
        shape = spec.inputs[0].shape
        outputs = sess.run(None, {spec.inputs[0].name: np.zeros(shape, np.float32)})
        assert all(np.isfinite(o).all() for o in outputs)


def test_copied_pack_opens(pack_copy):
    pack = open_pack(pack_copy, runtime=Runtime())
    assert pack.folder == pack_copy
    assert all(p.parent == pack_copy for p in pack.files.values())


# -- 2. damaged packs ----------------------------------------------------------------------
def test_missing_folder(tmp_path):
    folder = tmp_path / "no-such-pack"
    with pytest.raises(ModelPackError, match="not found") as info:
        open_pack(folder)
    assert str(folder) in str(info.value)


def test_folder_without_pack_toml(pack_copy):
    (pack_copy / "pack.toml").unlink()
    with pytest.raises(ModelPackError, match="pack.toml") as info:
        open_pack(pack_copy)
    assert str(pack_copy) in str(info.value)


def test_invalid_toml(pack_copy):
    edit_toml(pack_copy, lambda text: text + "\n[models.face_detector\nfile = \n")
    with pytest.raises(ModelPackError, match="not valid TOML") as info:
        open_pack(pack_copy)
    assert "pack.toml" in str(info.value)


def test_unknown_profile(pack_copy):
    edit_toml(pack_copy, lambda t: t.replace('profile = "builtin"', 'profile = "hologram"'))
    with pytest.raises(ModelPackError, match="hologram") as info:
        open_pack(pack_copy)
    assert "builtin" in str(info.value)  # says which profiles are known


def test_model_entry_missing(pack_copy):
    edit_toml(pack_copy, lambda t: t.split("[models.iris_landmarks]")[0])
    with pytest.raises(ModelPackError, match=r"\[models\.iris_landmarks\]"):
        open_pack(pack_copy)


@pytest.mark.parametrize("key", sorted(MODEL_FILES))
def test_model_file_deleted(pack_copy, key):
    (pack_copy / MODEL_FILES[key]).unlink()
    with pytest.raises(ModelPackError, match="missing") as info:
        open_pack(pack_copy)
    assert MODEL_FILES[key] in str(info.value)


@pytest.mark.parametrize("key", sorted(MODEL_FILES))
def test_model_file_truncated_fails_sha256(pack_copy, key):
    truncate(pack_copy / MODEL_FILES[key])
    with pytest.raises(ModelPackError, match="sha256") as info:
        open_pack(pack_copy, runtime=Runtime())
    assert MODEL_FILES[key] in str(info.value)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_broken_onnx_without_hash_check(pack_copy, damage):
    path = pack_copy / MODEL_FILES["face_landmarks"]
    if damage == "truncated":
        truncate(path)
    elif damage == "garbage":
        path.write_bytes(np.random.default_rng(2).integers(0, 256, 20000, np.uint8).tobytes())
    else:
        path.write_bytes(b"")
    # A fresh runtime: the default one may already hold the built-in pack's sessions
    # (see test_damaged_copy_is_not_masked_by_session_cache).
    with pytest.raises(ModelPackError, match="ONNX Runtime could not load") as info:
        open_pack(pack_copy, runtime=Runtime(), verify_hashes=False)
    assert MODEL_FILES["face_landmarks"] in str(info.value)
    assert isinstance(info.value, VasaError)


def test_broken_onnx_with_sha256_removed(pack_copy):
    edit_toml(pack_copy, drop_sha256)
    truncate(pack_copy / MODEL_FILES["iris_landmarks"])
    with pytest.raises(ModelPackError, match="ONNX Runtime could not load") as info:
        open_pack(pack_copy, runtime=Runtime())
    assert MODEL_FILES["iris_landmarks"] in str(info.value)


def test_swapped_model_files(pack_copy):
    edit_toml(pack_copy, drop_sha256)
    swap(pack_copy / MODEL_FILES["face_landmarks"], pack_copy / MODEL_FILES["iris_landmarks"])
    with pytest.raises(ModelPackError) as info:
        open_pack(pack_copy, runtime=Runtime())
    message = str(info.value)
    # The iris model (64x64 input) now sits under the landmark entry (192x192 expected).
    assert MODEL_FILES["face_landmarks"] in message
    assert "input_1" in message
    assert "[1, 64, 64, 3]" in message and "[1, 192, 192, 3]" in message


def test_wrong_model_under_detector_entry(pack_copy):
    edit_toml(pack_copy, drop_sha256)
    shutil.copy(pack_copy / MODEL_FILES["iris_landmarks"], pack_copy / MODEL_FILES["face_detector"])
    with pytest.raises(ModelPackError, match="no input tensor 'input'") as info:
        open_pack(pack_copy, runtime=Runtime())
    assert MODEL_FILES["face_detector"] in str(info.value)


def test_sha256_mismatch_ignored_when_not_verifying(pack_copy):
    edit_toml(
        pack_copy, lambda t: re.sub(r'sha256 = "[0-9a-f]+"', 'sha256 = "' + "0" * 64 + '"', t)
    )
    with pytest.raises(ModelPackError, match="sha256"):
        open_pack(pack_copy, runtime=Runtime())
    pack = open_pack(pack_copy, runtime=Runtime(), verify_hashes=False)
    assert (
        pack.sha256["face_detector"]
        == hashlib.sha256((pack_copy / MODEL_FILES["face_detector"]).read_bytes()).hexdigest()
    )


def test_damaged_copy_is_not_masked_by_session_cache(pack_copy):
    open_pack()  # the default runtime now holds the built-in pack's (good) sessions
    truncate(pack_copy / MODEL_FILES["face_landmarks"])
    with pytest.raises(ModelPackError, match="ONNX Runtime could not load"):
        open_pack(pack_copy, verify_hashes=False)


def test_rejected_pack_does_not_poison_session_cache(pack_copy):
    runtime = Runtime()  # private: must not poison the default runtime other tests use
    edit_toml(pack_copy, drop_sha256)
    swap(pack_copy / MODEL_FILES["face_landmarks"], pack_copy / MODEL_FILES["iris_landmarks"])
    with pytest.raises(ModelPackError, match="input_1"):
        open_pack(pack_copy, runtime=runtime)
    open_pack(runtime=runtime)  # the intact built-in pack must still open


# -- 3. the runtime ------------------------------------------------------------------------
@pytest.mark.parametrize("provider", ["auto", "cpu", "CPU", "cuda", "directml", "coreml"])
def test_providers_end_with_cpu(provider):
    providers, reason = Runtime(RuntimeConfig(provider=provider)).providers()
    assert providers and providers[-1] == "CPUExecutionProvider"
    assert len(providers) == len(set(providers))
    assert isinstance(reason, str) and reason


def test_cuda_request_falls_back_to_cpu():
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime build offers CUDA")
    runtime = Runtime(RuntimeConfig(provider="cuda"))
    providers, reason = runtime.providers()
    assert providers == ["CPUExecutionProvider"]
    assert "CUDA" in reason and "CPU" in reason
    sess = runtime.session(BUILTIN_PACK_DIR / MODEL_FILES["face_detector"], name="det")
    assert sess.get_providers()[0] == "CPUExecutionProvider"
    report = runtime.report()
    assert report["det"]["provider"] == "CPU"
    assert "CUDA" in report["det"]["reason"]
    assert "CPU" in runtime.provider_summary()


def test_unknown_provider():
    runtime = Runtime(RuntimeConfig(provider="warpdrive"))
    with pytest.raises(ModelPackError, match="warpdrive"):
        runtime.providers()
    with pytest.raises(ModelPackError, match="warpdrive"):
        runtime.session(BUILTIN_PACK_DIR / MODEL_FILES["face_detector"])


def test_provider_summary_names_cpu():
    runtime = Runtime()
    before = runtime.provider_summary()  # no session yet: what would be used
    assert isinstance(before, str) and before.strip()
    runtime.session(BUILTIN_PACK_DIR / MODEL_FILES["iris_landmarks"], name="iris")
    after = runtime.provider_summary()
    assert isinstance(after, str) and after.strip()
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        assert "CPU" in before and "CPU" in after


def test_sessions_are_cached():
    runtime = Runtime()
    path = BUILTIN_PACK_DIR / MODEL_FILES["iris_landmarks"]
    first = runtime.session(path)
    assert runtime.session(path) is first
    assert runtime.session(path, name=None) is first
    pack = open_pack(runtime=runtime)
    assert pack.session("face_detector") is pack.session("face_detector")
    assert pack.session("face_detector") is not pack.session("iris_landmarks")
    assert default_runtime() is default_runtime()


def test_session_from_bytes_and_bad_bytes():
    runtime = Runtime()
    data = (BUILTIN_PACK_DIR / MODEL_FILES["iris_landmarks"]).read_bytes()
    sess = runtime.session(data, name="iris-bytes")
    assert sess.get_inputs()[0].name == "input_1"
    with pytest.raises(ModelPackError, match="could not load"):
        runtime.session(b"not a model", name="broken.onnx")
