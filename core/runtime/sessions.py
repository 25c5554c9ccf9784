"""The one place that creates ONNX Runtime sessions.

It picks execution providers (CUDA, then DirectML or CoreML where present, then CPU), sets
thread counts, caches sessions, and records which provider each model really runs on and
why a faster one was not used (``providers.ProviderReport``), so the UI, the CLI and
``run.json`` can say so. Nothing else in the project imports ``onnxruntime``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnxruntime as ort

from ..errors import ModelPackError
from . import providers as placement
from .providers import CpuNode, ModelPlacement, ProviderReport

PREFERRED_ORDER = (
    "CUDAExecutionProvider",
    "DmlExecutionProvider",
    "CoreMLExecutionProvider",
    "CPUExecutionProvider",
)
SHORT_NAMES = {
    "CUDAExecutionProvider": "CUDA",
    "DmlExecutionProvider": "DirectML",
    "CoreMLExecutionProvider": "CoreML",
    "CPUExecutionProvider": "CPU",
}
# The provider setting's choices (lower-case short names) and what each means, for the
# command line and the Blender preferences.
PROVIDERS = {
    "auto": "The fastest this onnxruntime build offers (CUDA, DirectML, CoreML), else CPU",
    "cuda": "NVIDIA GPU (CUDA)",
    "directml": "Windows GPU (DirectML)",
    "coreml": "Apple Core ML",
    "cpu": "Processor only",
}


@dataclass
class RuntimeConfig:
    """How sessions are made. ``provider`` is "auto", "cuda", "directml", "coreml" or "cpu"."""

    provider: str = "auto"
    threads: int = 0  # 0: default_threads()
    device_id: int = 0


@dataclass
class Runtime:
    """Creates and caches sessions; remembers what each one runs on."""

    config: RuntimeConfig = field(default_factory=RuntimeConfig)
    _cache: dict[tuple[str, str], ort.InferenceSession] = field(default_factory=dict)
    _info: dict[str, ModelPlacement] = field(default_factory=dict)
    _preloaded: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def providers(self) -> tuple[list[str], str]:
        """Providers to ask for, best first, and a sentence on why no faster one is used."""
        available = ort.get_available_providers()
        wanted = self.config.provider.lower()
        version = ort.__version__
        if wanted != "auto":
            full = {v.lower(): k for k, v in SHORT_NAMES.items()}.get(wanted)
            if full is None:
                raise ModelPackError(
                    f"Unknown execution provider '{self.config.provider}'; "
                    f"use {', '.join(PROVIDERS)}."
                )
            if full not in available:
                why = (
                    placement.cuda_missing(version)
                    if full == placement.CUDA
                    else f"this onnxruntime build does not offer it (available: "
                    f"{', '.join(available)})"
                )
                return [placement.CPU], (
                    f"{SHORT_NAMES[full]} was requested but {why}; running on CPU."
                )
            if full == placement.CUDA:
                count, why = placement.cuda_devices()
                if count < 1:
                    return [placement.CPU], f"CUDA was requested but {why}; running on CPU."
            return list(dict.fromkeys([full, placement.CPU])), "as requested"
        chosen = [p for p in PREFERRED_ORDER if p in available]
        skipped = [] if placement.CUDA in available else [placement.cuda_missing(version)]
        if placement.CUDA in chosen:
            count, why = placement.cuda_devices()
            if count < 1:
                chosen.remove(placement.CUDA)
                skipped.append(f"CUDAExecutionProvider installed but {why}")
        if chosen[0] == placement.CPU:
            return chosen, "; ".join(skipped) or "no GPU execution provider in this build"
        return chosen, "fastest available"

    def session_options(self) -> ort.SessionOptions:
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = (
            self.config.threads or int(os.environ.get("VASA_THREADS", "0")) or default_threads()
        )
        opts.inter_op_num_threads = 1
        # Spinning workers would steal the core the PNG writer thread runs on.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3
        return opts

    def session(self, model: str | Path | bytes, name: str | None = None) -> ort.InferenceSession:
        """A cached session for an ONNX file path or serialized model bytes."""
        key_name = name or str(model)
        key = (_identity(model), self.config.provider)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            providers, reason = self.providers()
            plan = placement.CudaPlan()
            if placement.CUDA in providers:
                self._preload_cuda()
                plan = placement.cuda_plan(placement.gridsample_nodes(model), ort.__version__)
                if plan.whole_model_on_cpu:
                    providers, reason = [placement.CPU], plan.whole_model_on_cpu
            options = [
                {"device_id": str(self.config.device_id)} if p == placement.CUDA else {}
                for p in providers
            ]
            source = str(model) if isinstance(model, Path) else model
            try:
                sess = ort.InferenceSession(
                    source,
                    sess_options=self.session_options(),
                    providers=providers,
                    provider_options=options,
                )
            except Exception as exc:  # ORT raises several private exception types
                label = Path(key_name).name
                raise ModelPackError(
                    f"ONNX Runtime could not load the model {label} ({_first_line(exc)}); "
                    "replace the file with an intact copy."
                ) from exc
            used = sess.get_providers()[0]
            cpu_nodes: tuple[CpuNode, ...] = plan.cpu_nodes if used == placement.CUDA else ()
            if used != providers[0]:
                reason = f"{SHORT_NAMES.get(providers[0], providers[0])} failed to start" + (
                    f" (its CUDA or cuDNN libraries were not found? {placement.GPU_HINT})"
                    if providers[0] == placement.CUDA
                    else ""
                )
            self._info[key_name] = ModelPlacement(
                Path(key_name).name, SHORT_NAMES.get(used, used), reason, cpu_nodes
            )
            self._cache[key] = sess
            return sess

    def _preload_cuda(self) -> None:
        """Load the CUDA and cuDNN libraries from the nvidia-* pip packages (requirements-
        gpu.txt) before the first CUDA session: onnxruntime-gpu does not find them by
        itself. Once per runtime; harmless where they are installed system-wide."""
        if self._preloaded:
            return
        self._preloaded = True
        preload = getattr(ort, "preload_dlls", None)
        if preload is not None:
            try:
                preload(directory="")
            except Exception:  # noqa: BLE001 - then ORT looks on the system's library path
                pass

    def provider_report(self) -> ProviderReport:
        """Where every model so far runs and why: for run.json, the CLI and the panel."""
        return ProviderReport(
            ort.__version__,
            tuple(ort.get_available_providers()),
            self.config.provider,
            dict(self._info),
        )

    def report(self) -> dict[str, dict[str, Any]]:
        """Provider per model (and nodes on the CPU), for run.json's ``providers``."""
        return self.provider_report().to_json()

    def provider_summary(self) -> str:
        """One line, e.g. 'CPU (CUDAExecutionProvider not installed (...))'."""
        if not self._info:
            providers, reason = self.providers()
            return f"{SHORT_NAMES.get(providers[0], providers[0])} ({reason})"
        used = sorted({v.provider for v in self._info.values()})
        reasons = sorted({v.reason for v in self._info.values()})
        nodes = sum(len(v.cpu_nodes) for v in self._info.values())
        extra = f"; {nodes} node{'s' * (nodes != 1)} on CPU" if nodes else ""
        return f"{', '.join(used)} ({'; '.join(reasons)}{extra})"


def default_threads() -> int:
    """One core is left to the PNG writer thread: on the 2-core CI machine a second ONNX
    Runtime thread fighting it cut end-to-end speed from 54 to 31 frames/s (``make bench``)."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


def _identity(model: str | Path | bytes) -> str:
    """What a cached session stands for: the file (path, size, mtime) or the bytes' digest."""
    if isinstance(model, bytes | bytearray):
        return "sha256:" + hashlib.sha256(model).hexdigest()
    path = Path(model).resolve()
    try:
        st = path.stat()
    except OSError:
        return str(path)
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def onnxruntime_version() -> str:
    return ort.__version__


_DEFAULT: Runtime | None = None


def default_runtime() -> Runtime:
    """A process-wide runtime with default settings (CLI and tests)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Runtime()
    return _DEFAULT
