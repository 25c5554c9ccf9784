"""The one place that creates ONNX Runtime sessions.

It picks execution providers (CUDA, then DirectML or CoreML where present, then CPU), sets
thread counts, caches sessions, and records which provider each model really runs on and
why a faster one was not used, so the UI and ``run.json`` can say so. Nothing else in the
project imports ``onnxruntime``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import onnxruntime as ort

from ..errors import ModelPackError

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
class SessionInfo:
    model: str
    provider: str
    reason: str


@dataclass
class Runtime:
    """Creates and caches sessions; remembers what each one runs on."""

    config: RuntimeConfig = field(default_factory=RuntimeConfig)
    _cache: dict[tuple[str, str], ort.InferenceSession] = field(default_factory=dict)
    _info: dict[str, SessionInfo] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def providers(self) -> tuple[list[str], str]:
        """Providers to ask for, best first, and a sentence on why no faster one is used."""
        available = ort.get_available_providers()
        wanted = self.config.provider.lower()
        if wanted != "auto":
            full = {v.lower(): k for k, v in SHORT_NAMES.items()}.get(wanted)
            if full is None:
                raise ModelPackError(
                    f"Unknown execution provider '{self.config.provider}'; "
                    f"use {', '.join(PROVIDERS)}."
                )
            if full not in available:
                return ["CPUExecutionProvider"], (
                    f"{SHORT_NAMES[full]} was requested but this onnxruntime build does not "
                    f"offer it (available: {', '.join(available)}); running on CPU."
                )
            return list(dict.fromkeys([full, "CPUExecutionProvider"])), "as requested"
        chosen = [p for p in PREFERRED_ORDER if p in available]
        if chosen[0] == "CPUExecutionProvider":
            return chosen, "no GPU execution provider in this onnxruntime build"
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
            options = [
                {"device_id": str(self.config.device_id)} if p == "CUDAExecutionProvider" else {}
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
            if used != providers[0]:
                reason = f"{SHORT_NAMES.get(providers[0], providers[0])} failed to start"
            self._info[key_name] = SessionInfo(
                Path(key_name).name, SHORT_NAMES.get(used, used), reason
            )
            self._cache[key] = sess
            return sess

    def report(self) -> dict[str, dict[str, str]]:
        """Provider per model, for run.json and the UI."""
        return {k: {"provider": v.provider, "reason": v.reason} for k, v in self._info.items()}

    def provider_summary(self) -> str:
        """One line, e.g. 'CPU (no GPU execution provider in this onnxruntime build)'."""
        if not self._info:
            providers, reason = self.providers()
            return f"{SHORT_NAMES.get(providers[0], providers[0])} ({reason})"
        used = sorted({v.provider for v in self._info.values()})
        reasons = sorted({v.reason for v in self._info.values()})
        return f"{', '.join(used)} ({'; '.join(reasons)})"


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
