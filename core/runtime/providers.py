"""Which execution provider runs each model, and why a faster one does not.

``sessions`` asks ONNX Runtime for providers; this module holds what it needs to say why a
model ended up where it did, without importing ``onnxruntime`` (``sessions`` stays its only
user): the reasons CUDA is not used (the CPU build of onnxruntime, no NVIDIA driver, no
device), the nodes of a graph that ONNX Runtime's CUDA provider cannot run, and the report
itself (``ProviderReport``), which goes into ``run.json`` and is printed by the CLI.

Nodes are predicted from the graph and ONNX Runtime's kernel registrations, not read back
from a session (ORT logs its node placement only at verbose level, on stderr). The one
rule encoded is the one that matters for the neural packs, GridSample:

- ORT's CUDA GridSample kernel is registered for float32 only: a float16 GridSample node
  runs on the CPU, with copies to and from the GPU around it.
- 5-D (volumetric) GridSample, which LivePortrait's warping network uses twice, has a CUDA
  kernel since onnxruntime 1.25: microsoft/onnxruntime PR #27201 (commit ``d8c1826``,
  merged February 2026, before the rel-1.25.0 branch was cut in April 2026) added
  ``GridSampleImpl3D`` and registered the kernel for opsets 16-19, 20-21 and 22+. Before
  it, the CUDA kernel (``core/providers/cuda/tensor/grid_sample.cc``) was assigned the node
  and then failed at run time with "Only 4-D tensor is supported", so on an older
  onnxruntime-gpu such a model is run on the CPU as a whole.
- 5-D with ``mode="cubic"`` is refused by CPU and CUDA kernels alike (not a fallback).
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
# onnxruntime's first version with a 5-D CUDA GridSample (PR #27201; see the docstring).
CUDA_GRIDSAMPLE_5D_SINCE = (1, 25)
GPU_HINT = "`make setup-gpu` installs onnxruntime-gpu and its CUDA libraries (README, GPU)"


@dataclass(frozen=True)
class CpuNode:
    """A node of a model that runs on the CPU although the model runs on a GPU."""

    node: str
    op: str
    reason: str

    def sentence(self) -> str:
        return f"node {self.op} '{self.node}' assigned to CPU: {self.reason}"


@dataclass(frozen=True)
class ModelPlacement:
    """Where one model runs: the provider's short name, why no faster one, CPU nodes."""

    model: str
    provider: str
    reason: str
    cpu_nodes: tuple[CpuNode, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"provider": self.provider, "reason": self.reason}
        if self.cpu_nodes:
            out["cpu_nodes"] = [n.sentence() for n in self.cpu_nodes]
        return out


@dataclass
class ProviderReport:
    """Every model a runtime made a session for: for run.json, the CLI and the panel."""

    onnxruntime: str
    available: tuple[str, ...]
    requested: str
    models: dict[str, ModelPlacement] = field(default_factory=dict)

    def to_json(self) -> dict[str, dict[str, Any]]:
        """``run.json``'s ``providers``: model name -> provider, reason (and CPU nodes)."""
        return {name: m.to_json() for name, m in self.models.items()}

    def lines(self) -> list[str]:
        """One line per provider and reason, then one per node assigned to the CPU."""
        return report_lines(self.to_json())


def report_lines(models: dict[str, dict[str, Any]]) -> list[str]:
    """``ProviderReport.lines`` from its JSON form (``run.json``'s ``providers``)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for name, m in models.items():
        groups.setdefault((m["provider"], m["reason"]), []).append(Path(name).name)
    out = []
    for (provider, reason), names in groups.items():
        what = names[0] if len(names) == 1 else f"{len(names)} models"
        out.append(f"{provider} runs {what}: {reason}")
    for name, m in models.items():
        out += [f"{Path(name).name}: {node}" for node in m.get("cpu_nodes", ())]
    return out


def short_version(version: str) -> tuple[int, int]:
    """(major, minor) of a version string such as "1.32.0" or "1.25.0.dev20260301"."""
    parts = [int("".join(c for c in p if c.isdigit()) or 0) for p in version.split(".")[:2]]
    return (parts + [0, 0])[0], (parts + [0, 0])[1]


def cuda_missing(version: str) -> str:
    """Why CUDA is not there when this onnxruntime build does not offer it."""
    return (
        f"CUDAExecutionProvider not installed (onnxruntime {version} is the CPU build; {GPU_HINT})"
    )


@lru_cache(maxsize=1)
def cuda_devices() -> tuple[int, str]:
    """CUDA devices the NVIDIA driver reports, and why there are none ("" when some).

    Asked of the driver library itself, so a session is not made only to fail; called only
    when the onnxruntime build offers CUDA."""
    names = ("nvcuda.dll",) if os.name == "nt" else ("libcuda.so.1", "libcuda.so")
    for name in names:
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        if lib.cuInit(0) != 0:
            return 0, "no CUDA device (the NVIDIA driver did not start)"
        count = ctypes.c_int(0)
        if lib.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value < 1:
            return 0, "no CUDA device"
        return count.value, ""
    return 0, "no CUDA device (no NVIDIA driver found)"


@dataclass(frozen=True)
class GridSampleNode:
    """A GridSample node as the CUDA rule needs it."""

    name: str
    rank: int | None  # of its input X (None: unknown)
    elem_type: str  # "float", "float16", ... or "" when unknown
    mode: str


def gridsample_nodes(model: str | Path | bytes) -> list[GridSampleNode]:
    """The GridSample nodes of an ONNX file or serialized model, with their input's rank and
    element type from ONNX shape inference (the weights are not loaded)."""
    import onnx

    if isinstance(model, bytes | bytearray):
        proto = onnx.load_from_string(bytes(model))
    else:
        proto = onnx.load(str(model), load_external_data=False)
    nodes = [
        n for n in proto.graph.node if n.op_type == "GridSample" and n.domain in ("", "ai.onnx")
    ]
    if not nodes:
        return []
    try:
        proto = onnx.shape_inference.infer_shapes(proto)
    except Exception:  # noqa: BLE001 - an uninferrable graph: ranks stay unknown
        pass
    graph = proto.graph
    infos = {v.name: v.type.tensor_type for v in [*graph.input, *graph.value_info, *graph.output]}
    for init in graph.initializer:
        made = onnx.helper.make_tensor_type_proto(init.data_type, init.dims)
        infos.setdefault(init.name, made.tensor_type)
    out = []
    for node in nodes:
        info = infos.get(node.input[0]) or infos.get(node.input[1])
        rank = len(info.shape.dim) if info is not None and info.HasField("shape") else None
        elem = ""
        if info is not None and info.elem_type:
            elem = onnx.helper.tensor_dtype_to_np_dtype(info.elem_type).name
            elem = {"float32": "float", "float64": "double"}.get(elem, elem)
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        mode = attrs.get("mode", b"linear")
        out.append(
            GridSampleNode(
                node.name or node.output[0],
                rank,
                elem,
                mode.decode() if isinstance(mode, bytes) else str(mode),
            )
        )
    return out


@dataclass(frozen=True)
class CudaPlan:
    """What the CUDA provider will do with one model: run it (with some nodes on the CPU),
    or not at all (``whole_model_on_cpu``: a node it would take and then fail on)."""

    cpu_nodes: tuple[CpuNode, ...] = ()
    whole_model_on_cpu: str = ""


def cuda_plan(nodes: list[GridSampleNode], version: str) -> CudaPlan:
    """The GridSample rule (module docstring) for onnxruntime ``version``."""
    cpu: list[CpuNode] = []
    for n in nodes:
        shape = f"{n.rank}-D" if n.rank else "rank unknown"
        if n.elem_type and n.elem_type != "float":
            cpu.append(
                CpuNode(
                    n.name,
                    "GridSample",
                    f"{shape}, {n.elem_type}: onnxruntime's CUDA GridSample kernel is float32 only",
                )
            )
        elif n.rank == 5 and short_version(version) < CUDA_GRIDSAMPLE_5D_SINCE:
            return CudaPlan(
                whole_model_on_cpu=(
                    f"its GridSample '{n.name}' is 5-D, which onnxruntime {version}'s CUDA "
                    "kernel takes and then fails on ('Only 4-D tensor is supported'; 5-D runs "
                    "on CUDA since onnxruntime 1.25), so the model runs on CPU"
                )
            )
    return CudaPlan(tuple(cpu))
