"""Execution providers: which one each model runs on, why a faster one did not, and the
GridSample nodes ONNX Runtime's CUDA provider leaves to the CPU. No GPU is needed: the
provider list, the device probe and session creation are faked where CUDA is involved."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from core.cli import main
from core.runtime import providers as placement
from core.runtime.packs import BUILTIN_PACK_DIR
from core.runtime.sessions import Runtime, RuntimeConfig

CUDA, CPU = placement.CUDA, placement.CPU
DETECTOR = BUILTIN_PACK_DIR / "face_detection_short_range.onnx"


def gridsample_model(rank: int = 5, fp16: bool = False, opset: int = 20) -> bytes:
    """One GridSample node: 5-D (volumetric, as LivePortrait's warp) or 4-D."""
    elem = TensorProto.FLOAT16 if fp16 else TensorProto.FLOAT
    x_shape = [1, 2, 4, 8, 8] if rank == 5 else [1, 2, 8, 8]
    g_shape = [1, 2, 4, 4, 3] if rank == 5 else [1, 4, 4, 2]
    y_shape = [1, 2, 2, 4, 4] if rank == 5 else [1, 2, 4, 4]
    node = helper.make_node("GridSample", ["x", "grid"], ["y"], name="warp/GridSample")
    graph = helper.make_graph(
        [node],
        "gs",
        [helper.make_tensor_value_info("x", elem, x_shape)]
        + [helper.make_tensor_value_info("grid", elem, g_shape)],
        [helper.make_tensor_value_info("y", elem, y_shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model.SerializeToString()


class FakeSession:
    """What ``ort.InferenceSession`` would give where CUDA starts (or fails to)."""

    made: list[list[str]] = []

    def __init__(self, source, sess_options=None, providers=(), provider_options=()):
        self.asked = list(providers)
        FakeSession.made.append(self.asked)

    def get_providers(self) -> list[str]:
        return self.asked


@pytest.fixture
def fake_cuda(monkeypatch):
    """An onnxruntime-gpu build on a machine with one NVIDIA device."""
    FakeSession.made = []
    monkeypatch.setattr(ort, "get_available_providers", lambda: [CUDA, CPU])
    monkeypatch.setattr(placement, "cuda_devices", lambda: (1, ""))
    monkeypatch.setattr(ort, "InferenceSession", FakeSession)
    monkeypatch.setattr(ort, "preload_dlls", lambda directory=None: None, raising=False)
    return FakeSession


def test_cpu_build_says_cuda_is_not_installed(monkeypatch):
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["AzureExecutionProvider", CPU])
    runtime = Runtime(RuntimeConfig("auto", 1))
    chosen, reason = runtime.providers()
    assert chosen == [CPU]
    assert "CUDAExecutionProvider not installed" in reason and "make setup-gpu" in reason
    runtime.session(DETECTOR, name="builtin/face_detection_short_range.onnx")
    report = runtime.provider_report()
    placed = report.models["builtin/face_detection_short_range.onnx"]
    assert placed.provider == "CPU" and "not installed" in placed.reason
    assert report.lines() == [f"CPU runs face_detection_short_range.onnx: {reason}"]
    _, asked = Runtime(RuntimeConfig("cuda")).providers()
    assert asked.startswith("CUDA was requested but CUDAExecutionProvider not installed")


def test_cuda_is_chosen_when_installed_with_a_device(fake_cuda):
    runtime = Runtime(RuntimeConfig("auto", 1))
    assert runtime.providers() == ([CUDA, CPU], "fastest available")
    runtime.session(DETECTOR, name="det")
    assert fake_cuda.made == [[CUDA, CPU]]
    assert runtime.report() == {"det": {"provider": "CUDA", "reason": "fastest available"}}
    assert runtime.provider_summary() == "CUDA (fastest available)"


@pytest.mark.parametrize("provider", ["auto", "cuda"])
def test_no_cuda_device_runs_on_cpu_and_says_so(fake_cuda, monkeypatch, provider):
    monkeypatch.setattr(placement, "cuda_devices", lambda: (0, "no CUDA device"))
    runtime = Runtime(RuntimeConfig(provider, 1))
    chosen, reason = runtime.providers()
    assert chosen == [CPU] and "no CUDA device" in reason
    runtime.session(DETECTOR, name="det")
    assert fake_cuda.made == [[CPU]]
    assert runtime.report()["det"]["provider"] == "CPU"


def test_cuda_that_fails_to_start_is_reported(fake_cuda, monkeypatch):
    class Fails(FakeSession):
        def get_providers(self):
            return [CPU]

    monkeypatch.setattr(ort, "InferenceSession", Fails)
    runtime = Runtime(RuntimeConfig("auto", 1))
    runtime.session(DETECTOR, name="det")
    placed = runtime.report()["det"]
    assert placed["provider"] == "CPU"
    assert placed["reason"].startswith("CUDA failed to start")
    assert "make setup-gpu" in placed["reason"]


def test_volumetric_gridsample_runs_on_cuda_in_the_pinned_version(fake_cuda):
    assert placement.short_version(ort.__version__) >= placement.CUDA_GRIDSAMPLE_5D_SINCE
    runtime = Runtime(RuntimeConfig("auto", 1))
    runtime.session(gridsample_model(5), name="pack/warping_spade.onnx")
    assert fake_cuda.made == [[CUDA, CPU]]
    assert runtime.report()["pack/warping_spade.onnx"] == {
        "provider": "CUDA",
        "reason": "fastest available",
    }


def test_float16_gridsample_node_is_reported_on_cpu(fake_cuda):
    runtime = Runtime(RuntimeConfig("auto", 1))
    runtime.session(gridsample_model(5, fp16=True), name="pack/warping_spade.onnx")
    placed = runtime.report()["pack/warping_spade.onnx"]
    assert placed["provider"] == "CUDA"
    (node,) = placed["cpu_nodes"]
    assert node.startswith("node GridSample 'warp/GridSample' assigned to CPU")
    assert "5-D, float16" in node and "float32 only" in node
    assert runtime.provider_summary().endswith("; 1 node on CPU)")
    lines = runtime.provider_report().lines()
    assert lines[-1] == f"warping_spade.onnx: {node}"


def test_volumetric_gridsample_on_an_older_onnxruntime_runs_the_model_on_cpu(
    fake_cuda, monkeypatch
):
    monkeypatch.setattr(ort, "__version__", "1.24.4")
    runtime = Runtime(RuntimeConfig("auto", 1))
    runtime.session(gridsample_model(5), name="pack/warping_spade.onnx")
    runtime.session(gridsample_model(4), name="pack/other.onnx")
    assert fake_cuda.made == [[CPU], [CUDA, CPU]]  # 4-D GridSample: CUDA in every version
    report = runtime.report()
    assert report["pack/warping_spade.onnx"]["provider"] == "CPU"
    assert "5-D" in report["pack/warping_spade.onnx"]["reason"]
    assert "1.25" in report["pack/warping_spade.onnx"]["reason"]
    assert report["pack/other.onnx"]["provider"] == "CUDA"


def test_cpu_sessions_skip_the_graph_inspection(monkeypatch):
    def boom(model):
        raise AssertionError("inspected a graph for a CPU session")

    monkeypatch.setattr(placement, "gridsample_nodes", boom)
    Runtime(RuntimeConfig("cpu", 1)).session(gridsample_model(5), name="gs")


@pytest.mark.parametrize(("rank", "fp16"), [(5, False), (5, True), (4, False)])
def test_gridsample_nodes_are_read_from_the_graph(rank, fp16, tmp_path):
    path = tmp_path / "gs.onnx"
    path.write_bytes(gridsample_model(rank, fp16))
    for source in (path, path.read_bytes()):
        (node,) = placement.gridsample_nodes(source)
        assert (node.name, node.rank, node.elem_type) == (
            "warp/GridSample",
            rank,
            "float16" if fp16 else "float",
        )
    assert placement.gridsample_nodes(DETECTOR) == []


@pytest.mark.parametrize("fp16", [False, True])
def test_the_cpu_provider_runs_volumetric_gridsample(fp16):
    """What the fallback relies on: the CPU provider takes 5-D GridSample, fp16 too."""
    sess = Runtime(RuntimeConfig("cpu", 1)).session(gridsample_model(5, fp16), name="gs")
    dtype = np.float16 if fp16 else np.float32
    x = np.random.default_rng(0).random((1, 2, 4, 8, 8)).astype(dtype)
    grid = np.zeros((1, 2, 4, 4, 3), dtype)  # the volume's centre everywhere
    (y,) = sess.run(None, {"x": x, "grid": grid})
    assert y.shape == (1, 2, 2, 4, 4) and np.isfinite(y).all()


def test_short_version():
    assert placement.short_version("1.32.0") == (1, 32)
    assert placement.short_version("1.25.0.dev20260301") == (1, 25)
    assert placement.short_version("2") == (2, 0)


def test_cuda_device_probe_without_a_driver(monkeypatch):
    def missing(name):
        raise OSError(name)

    placement.cuda_devices.cache_clear()
    monkeypatch.setattr(placement.ctypes, "CDLL", missing)
    try:
        assert placement.cuda_devices() == (0, "no CUDA device (no NVIDIA driver found)")
    finally:
        placement.cuda_devices.cache_clear()


def test_pack_check_prints_the_provider_of_each_model(capsys, monkeypatch):
    monkeypatch.setattr(ort, "get_available_providers", lambda: [CPU])
    assert main(["pack", "check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("'builtin' pack") or "pack" in out[0]
    assert any(
        line.startswith("providers: CPU runs") and "not installed" in line for line in out
    ), out


def test_run_json_report_lines_match_the_report():
    report = placement.ProviderReport(
        "1.32.0",
        (CUDA, CPU),
        "auto",
        {
            "p/a.onnx": placement.ModelPlacement("a.onnx", "CUDA", "fastest available"),
            "p/b.onnx": placement.ModelPlacement(
                "b.onnx",
                "CUDA",
                "fastest available",
                (placement.CpuNode("gs", "GridSample", "why"),),
            ),
        },
    )
    text = json.loads(json.dumps(report.to_json()))
    assert placement.report_lines(text) == report.lines()
    assert report.lines() == [
        "CUDA runs 2 models: fastest available",
        "b.onnx: node GridSample 'gs' assigned to CPU: why",
    ]
