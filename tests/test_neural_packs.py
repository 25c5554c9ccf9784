"""Neural model packs without weights: stand-in ONNX files with the published tensor names,
shapes and element types (tests/neural_standins.py) are detected as LivePortrait
(FasterLivePortrait's or FaceFusion's files) or Ditto by ``pack init``, which writes a
pack.toml that ``open_pack`` accepts; every kind of wrong file is one sentence naming it."""

from __future__ import annotations

import shutil
from pathlib import Path

import neural_standins as standins
import onnx
import pytest
from onnx import TensorProto, helper

from core.cli import main
from core.errors import ModelPackError
from core.runtime.factory import open_stages
from core.runtime.pack_init import detect, init_pack
from core.runtime.packs import open_pack
from core.runtime.sessions import Runtime, RuntimeConfig


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("neural")
    return {
        "flp": standins.liveportrait_folder(root / "flp"),
        "ff16": standins.liveportrait_folder(root / "ff16", "ff", fp16=True),
        "flp16": standins.liveportrait_folder(root / "flp16", fp16=True, optional=False),
        "ditto": standins.ditto_folder(root / "ditto", fp16=True),
    }


@pytest.fixture
def flp(folders, tmp_path) -> Path:
    """A fresh copy of the FasterLivePortrait stand-in folder to damage."""
    return Path(shutil.copytree(folders["flp"], tmp_path / "flp"))


def one_sentence(message: str) -> bool:
    return message.count(". ") == 0 and message.endswith(".") and "Traceback" not in message


def runtime() -> Runtime:
    return Runtime(RuntimeConfig("cpu", 1))


# -- detection and pack init ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "profile", "keys"),
    [
        (
            "flp",
            "liveportrait",
            {"warping_spade": "warping_spade.onnx", "landmark": "landmark.onnx"},
        ),
        ("ff16", "liveportrait", {"warping_spade": "live_portrait_generator.onnx"}),
        ("flp16", "liveportrait", {"stitching": "stitching.onnx"}),
        (
            "ditto",
            "ditto",
            {"warp_network": "warp_network_ori.onnx", "lmdm": "lmdm_v0.4_hubert.onnx"},
        ),
    ],
)
def test_pack_init_detects_the_profile_and_the_pack_opens(folders, tmp_path, name, profile, keys):
    folder = Path(shutil.copytree(folders[name], tmp_path / name))
    found = init_pack(folder)
    assert found.profile == profile and not found.errors
    assert {k: found.files[k].name for k in keys} == keys
    pack = open_pack(folder, runtime=runtime())
    assert pack.profile == profile and set(pack.files) == set(found.files)
    assert all(len(d) == 64 for d in pack.sha256.values())
    toml = (folder / "pack.toml").read_text()
    assert f'profile = "{profile}"' in toml and toml.count("sha256 = ") == len(found.files)


def test_facefusion_files_are_labelled_and_fp16_accepted(folders):
    found = detect(folders["ff16"])
    assert set(found.labels.values()) == {"FaceFusion"}
    assert "stitching_eye" in found.files  # the optional retargeters are taken when present
    flp = detect(folders["flp16"])
    assert "stitching_eye" not in flp.files and not flp.errors  # and may be left out


def test_ditto_pickle_is_refused_by_name_and_never_opened(folders):
    found = detect(folders["ditto"])
    assert any("v0.4_hubert_cfg_trt.pkl is a pickle" in n for n in found.notes)
    assert all(p.suffix == ".onnx" for p in found.files.values())


def test_cli_pack_init(folders, tmp_path, capsys):
    folder = Path(shutil.copytree(folders["flp"], tmp_path / "cli"))
    assert main(["pack", "init", str(folder)]) == 0
    assert "'liveportrait' pack written" in capsys.readouterr().out
    assert main(["pack", "init", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "already exists" in err and "\n" not in err
    assert main(["pack", "init", str(folder), "--overwrite"]) == 0


def test_a_ditto_pack_opens_its_motion_model_and_renderer(folders, tmp_path):
    folder = Path(shutil.copytree(folders["ditto"], tmp_path / "d"))
    init_pack(folder)
    stages = open_stages(folder, runtime=runtime())
    assert type(stages.motion).__name__ == "DittoMotion"
    assert stages.profile.renderer.__name__ == "ditto_renderer"


# -- every kind of wrong file: one sentence each --------------------------------------------


def errors_of(folder: Path) -> list[str]:
    found = detect(folder)
    assert all(one_sentence(e) for e in found.errors), found.errors
    with pytest.raises(ModelPackError):
        init_pack(folder)
    assert not (folder / "pack.toml").exists()
    return found.errors


def test_missing_model(flp):
    (flp / "warping_spade.onnx").unlink()
    (error,) = errors_of(flp)
    assert "'warping_spade'" in error and "live_portrait_generator" in error


def test_truncated_model(flp):
    path = flp / "motion_extractor.onnx"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    errors = errors_of(flp)
    assert any("motion_extractor.onnx" in e and "could not load" in e for e in errors), errors


def test_wrong_tensor_name(flp):
    model = standins.liveportrait_model("warping_spade")
    for value in model.graph.input:
        if value.name == "kp_source":
            value.name = "kp_src"
    for node in model.graph.node:
        node.input[:] = ["kp_src" if i == "kp_source" else i for i in node.input]
    standins.save(model, flp / "warping_spade.onnx")
    errors = errors_of(flp)
    assert any("warping_spade.onnx has no input tensor 'kp_source'" in e for e in errors), errors


def test_wrong_tensor_shape(flp):
    g = standins._Graph(False, 1)
    standins._dense_model(g, "input", 120, "output", 65)
    standins.save(g.model("bad"), flp / "stitching.onnx")
    errors = errors_of(flp)
    assert any("[1, 120]" in e and "[1, 126]" in e and "stitching.onnx" in e for e in errors)


def test_wrong_element_type(flp):
    model = standins.liveportrait_model("stitching")
    model.graph.input[0].type.tensor_type.elem_type = TensorProto.DOUBLE
    onnx.save(model, str(flp / "stitching.onnx"))  # invalid on purpose: no checker here
    errors = errors_of(flp)
    assert any("stitching.onnx" in e for e in errors), errors


def test_tensorrt_plugin_variant_is_refused(flp):
    node = helper.make_node("GridSample3D", ["feature_3d", "kp_driving"], ["out"])
    graph = helper.make_graph(
        [node],
        "plugin",
        [
            helper.make_tensor_value_info("feature_3d", TensorProto.FLOAT, [1, 32, 16, 64, 64]),
            helper.make_tensor_value_info("kp_driving", TensorProto.FLOAT, [1, 21, 3]),
        ],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3, 512, 512])],
    )
    onnx.save(helper.make_model(graph), str(flp / "warping_spade.onnx"))
    errors = errors_of(flp)
    assert any("GridSample3D" in e and "warping_spade.onnx" in e for e in errors), errors


def test_pickle_listed_in_pack_toml_is_refused(flp):
    init_pack(flp)
    (flp / "motion.pkl").write_bytes(b"never unpickled")
    toml = (flp / "pack.toml").read_text()
    toml = toml.replace('file = "motion_extractor.onnx"', 'file = "motion.pkl"')
    (flp / "pack.toml").write_text(toml.replace("sha256 = ", "# sha256 = "))
    with pytest.raises(ModelPackError, match="motion.pkl is a pickle") as info:
        open_pack(flp, runtime=runtime())
    assert one_sentence(str(info.value))


def test_file_changed_after_init_fails_its_sha256(flp):
    init_pack(flp)
    standins.save(standins.liveportrait_model("stitching_lip"), flp / "stitching_eye.onnx")
    with pytest.raises(ModelPackError, match="stitching_eye.onnx does not match the sha256"):
        open_pack(flp, runtime=runtime())


def test_folder_of_unrelated_models(tmp_path):
    standins.save(standins.tiny_model("x", "y"), tmp_path / "something.onnx")
    with pytest.raises(ModelPackError, match="is a model of a known profile") as info:
        detect(tmp_path)
    assert one_sentence(str(info.value))
