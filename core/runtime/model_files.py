"""Model files are untrusted input: read them as data, check them, and only then run them.

A pack folder comes from the user's downloads. Nothing in it is ever unpickled or executed:
only ``.onnx`` files are opened, with the ``onnx`` package (a protobuf parser, no code runs),
checked by ``onnx.checker`` and for data kept outside the file, before ONNX Runtime is asked
to make a session. ``inspect`` gives the graph's inputs and outputs the way ONNX Runtime
reports them (``name``, ``shape``, ``type`` such as ``"tensor(float16)"``), so the tensor
check (``check_tensors``) is the same before and after a session exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import onnx
from onnx import TensorProto

from ..errors import ModelPackError
from .profiles import ModelSpec, TensorSpec

# Files some projects ship beside their ONNX models that could run code when loaded.
UNSAFE_SUFFIXES = (".pkl", ".pickle", ".pt", ".pth", ".ckpt", ".bin", ".so", ".dll", ".dylib")


@dataclass(frozen=True)
class TensorInfo:
    """A graph input or output, spelled as ONNX Runtime's ``NodeArg`` spells it."""

    name: str
    shape: tuple[int | str | None, ...]
    type: str


@dataclass(frozen=True)
class ModelIO:
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]


def refuse_unsafe(path: Path) -> None:
    """ModelPackError for any file that is not plain ONNX (pickles, checkpoints, libraries)."""
    if path.suffix.lower() != ".onnx":
        kind = "a pickle" if path.suffix.lower() in (".pkl", ".pickle") else "not an ONNX file"
        raise ModelPackError(
            f"{path.name} is {kind}; a model pack only loads .onnx files (nothing in a pack is "
            "unpickled or executed), so list an .onnx file instead."
        )


def _type_name(elem_type: int) -> str:
    name = TensorProto.DataType.Name(elem_type).lower()
    return "tensor(float)" if name == "float" else f"tensor({name})"


def _info(value: onnx.ValueInfoProto) -> TensorInfo:
    tensor = value.type.tensor_type
    dims: tuple[int | str | None, ...] = ()
    if tensor.HasField("shape"):
        dims = tuple(
            d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
            for d in tensor.shape.dim
        )
    return TensorInfo(value.name, dims, _type_name(tensor.elem_type))


def inspect(path: Path) -> ModelIO:
    """Parse and check an ONNX file without running it; one sentence naming it when it is
    not a whole, self-contained, standard ONNX model."""
    refuse_unsafe(path)
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises DecodeError and friends
        raise ModelPackError(
            f"ONNX Runtime could not load the model {path.name} (not a readable ONNX file: "
            f"{type(exc).__name__}); replace the file with an intact copy."
        ) from exc
    for tensor in model.graph.initializer:
        if tensor.data_location == TensorProto.EXTERNAL:
            raise ModelPackError(
                f"{path.name} keeps its weights in separate files; a pack only takes "
                "self-contained .onnx files, so save the model with its weights inside."
            )
    custom = sorted(
        {n.op_type for n in model.graph.node if n.op_type in ("GridSample3D", "GridSamplePlugin")}
    )
    if custom:
        raise ModelPackError(
            f"{path.name} uses the TensorRT plug-in op {custom[0]}, which ONNX Runtime cannot "
            "run; use the project's plain file (warping_spade.onnx, warp_network_ori.onnx)."
        )
    try:
        onnx.checker.check_model(model)
    except Exception as exc:  # ValidationError, or protobuf errors on odd files
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise ModelPackError(
            f"ONNX Runtime could not load the model {path.name} (the ONNX checker says: "
            f"{first.rstrip('.')}); replace the file with an intact copy."
        ) from exc
    initializers = {t.name for t in model.graph.initializer}
    inputs = tuple(_info(v) for v in model.graph.input if v.name not in initializers)
    return ModelIO(inputs, tuple(_info(v) for v in model.graph.output))


def _fits(got, spec: TensorSpec) -> bool:
    shape = tuple(d if isinstance(d, int) else None for d in got.shape)
    if spec.shape is not None:
        if len(shape) != len(spec.shape):
            return False
        for a, e in zip(shape, spec.shape, strict=True):
            if e is not None and a is not None and a != e:
                return False
    return got.type in spec.dtypes


def tensor_problem(
    label: str, actual: Sequence, expected: tuple[TensorSpec, ...], kind: str
) -> str | None:
    """One sentence on the first expected tensor that is missing or differs; None if all fit.

    ``actual`` holds objects with ``name``, ``shape`` and ``type`` (ONNX Runtime's NodeArg or
    ``TensorInfo``). Tensors are found by name; an unnamed spec takes the one at its place."""
    by_name = {t.name: t for t in actual}
    for i, spec in enumerate(expected):
        got = by_name.get(spec.name) if spec.name else (actual[i] if i < len(actual) else None)
        if got is None:
            what = f"'{spec.name}'" if spec.name else f"number {i + 1}"
            return (
                f"{label} has no {kind} tensor {what} (it has {sorted(by_name)}); "
                "it is not the model this pack profile expects."
            )
        if not _fits(got, spec):
            shape = [d if isinstance(d, int) else None for d in got.shape]
            want = "any rank" if spec.shape is None else list(spec.shape)
            return (
                f"{label}: {kind} '{got.name}' is {got.type} {shape}, expected "
                f"{' or '.join(spec.dtypes)} {want}; it is not the model this profile expects."
            )
    return None


def check_tensors(
    label: str, actual: Sequence, expected: tuple[TensorSpec, ...], kind: str
) -> None:
    problem = tensor_problem(label, actual, expected, kind)
    if problem:
        raise ModelPackError(problem)


def model_problem(label: str, io, spec: ModelSpec) -> str | None:
    """None when ``io`` (``inputs``/``outputs`` or a session) fits ``spec`` itself or one of
    its alternatives; else the sentence for the variant whose input names fit best."""
    inputs = list(io.get_inputs() if hasattr(io, "get_inputs") else io.inputs)
    outputs = list(io.get_outputs() if hasattr(io, "get_outputs") else io.outputs)
    names = {t.name for t in inputs}
    problems: list[tuple[int, int, str]] = []
    for variant in spec.variants():
        problem = tensor_problem(label, inputs, variant.inputs, "input") or tensor_problem(
            label, outputs, variant.outputs, "output"
        )
        if problem is None:
            return None
        overlap = len(names & {t.name for t in variant.inputs if t.name})
        problems.append((-overlap, len(problems), problem))
    return min(problems)[2]


def matching_variant(io, spec: ModelSpec) -> ModelSpec | None:
    """The variant of ``spec`` (itself or an alternative) that ``io`` fits, if any."""
    for variant in spec.variants():
        if model_problem("", io, ModelSpec(variant.inputs, variant.outputs)) is None:
            return variant
    return None
