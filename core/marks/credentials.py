"""Content Credentials (C2PA manifests) on a take's frames and videos, and reading them back.

Made with the official ``c2pa-python`` bindings (c2pa-rs). Each manifest says the file is
AI-generated (IPTC digital source type ``trainedAlgorithmicMedia`` on a ``c2pa.created``
action), which engine and version made it, with which model pack, and the sha256 of the
source portrait and voice (never the inputs themselves), plus the payload of the invisible
watermark in the take's frames (``watermark_payload``, when the take is watermarked), so
``verify`` can check that what the picture carries is what the credentials say
(``core/marks/verify.py``). Signing and reading never use the network: no timestamp
authority, no remote manifests, no OCSP.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import ENGINE_NAME, __version__
from ..errors import MarkError
from .keys import SigningKey

SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
TAKE_LABEL = "org.talking-head.take"  # our own assertion: engine, pack, input hashes, payload
MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".mp4": "video/mp4"}
# Read and sign offline: a manifest pointing to a remote copy is not fetched, nor OCSP.
# No thumbnail in the manifest: making one costs ~100 ms a frame, and the file is its own.
_OFFLINE = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    "builder": {"thumbnail": {"enabled": False}},
}


@dataclass(frozen=True)
class TakeFacts:
    """What a take's manifests say about it (plain data, from run.json's parts)."""

    take_id: str  # hex; the watermark payload
    pack: Mapping[str, str]  # name, profile
    inputs: Mapping[str, str]  # role ("portrait", "voice") -> sha256 hex
    created: str  # ISO 8601 UTC
    watermark: str | None = None  # the frames' watermark payload (hex); None: not marked


def manifest_definition(facts: TakeFacts, title: str, mime: str) -> dict[str, Any]:
    """The C2PA manifest definition for one file of a take."""
    agent = {"name": ENGINE_NAME, "version": __version__}
    return {
        "claim_generator_info": [agent],
        "title": title,
        "format": mime,
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": SOURCE_TYPE,
                            "softwareAgent": agent,
                            "when": facts.created,
                            "description": "Talking-head video generated from one portrait "
                            "and one voice recording",
                        }
                    ]
                },
            },
            {
                "label": TAKE_LABEL,
                "data": take_assertion(facts, agent),
            },
        ],
    }


def take_assertion(facts: TakeFacts, agent: dict[str, str]) -> dict[str, Any]:
    """Our assertion's data: engine, pack, input hashes, take id and, for a watermarked
    take, the watermark's payload (absent when the frames carry none)."""
    data: dict[str, Any] = {
        "engine": agent,
        "model_pack": dict(facts.pack),
        "inputs_sha256": dict(facts.inputs),
        "take_id": facts.take_id,
        "created": facts.created,
    }
    if facts.watermark:
        data["watermark_payload"] = facts.watermark
    return data


def _context(signer=None):
    import c2pa

    builder = c2pa.Context.builder().with_settings(c2pa.Settings.from_dict(_OFFLINE))
    if signer is not None:
        builder = builder.with_signer(signer)
    return builder.build()


class Signer:
    """Signs files of one take with one key; ``sign_bytes`` is thread-safe to call from the
    frame writer (each call makes its own builder)."""

    def __init__(self, key: SigningKey, facts: TakeFacts):
        self.key, self.facts = key, facts

    def _signer(self):
        import c2pa

        info = c2pa.C2paSignerInfo(
            c2pa.C2paSigningAlg.ES256, self.key.chain_pem, self.key.key_pem, None
        )
        try:
            return c2pa.Signer.from_info(info)
        except c2pa.C2paError as exc:
            raise MarkError(
                f"The signing certificate from {self.key.source} was refused ({exc}); give an "
                "ES256 certificate chain, end-entity first, and its private key."
            ) from exc

    def sign_bytes(self, data: bytes, mime: str, title: str) -> bytes:
        """``data`` (a PNG, JPEG or MP4 file's bytes) with a manifest embedded."""
        import c2pa

        definition = json.dumps(manifest_definition(self.facts, title, mime))
        out = io.BytesIO()
        try:
            with c2pa.Builder(definition, context=_context()) as builder:
                builder.sign(self._signer(), mime, io.BytesIO(data), out)
        except c2pa.C2paError as exc:
            raise MarkError(f"Content Credentials could not be added to {title} ({exc}).") from exc
        return out.getvalue()

    def sign_file(self, path: Path) -> None:
        """Embed a manifest in ``path`` (PNG, JPEG or MP4), replaced atomically."""
        from ..take.frames import write_atomic

        mime = MIME.get(path.suffix.lower())
        if mime is None:
            raise MarkError(f"{path.name} is not a PNG, JPEG or MP4 file; it cannot be signed.")
        write_atomic(path, self.sign_bytes(path.read_bytes(), mime, path.name))


@dataclass
class Credentials:
    """What a file's Content Credentials say, as read and validated by c2pa-rs."""

    state: str  # "valid" (intact), "changed" (edited after signing), "invalid", "none"
    signer: str = ""  # the certificate's common name and issuer
    signed_at: str = ""  # the signature's time, else the action's "when"
    generator: str = ""  # claim generator: name and version
    source_type: str = ""
    take: dict[str, Any] = field(default_factory=dict)  # our assertion, if present
    problems: list[str] = field(default_factory=list)  # validation failure codes
    unverified_signer: bool = False  # the certificate is on no trust list

    @property
    def take_id(self) -> str | None:
        value = self.take.get("take_id")
        return str(value) if value else None

    @property
    def watermark_payload(self) -> str | None:
        """The watermark payload the credentials name (None: a take without a watermark,
        or credentials made before the payload was recorded)."""
        value = self.take.get("watermark_payload")
        return str(value) if value else None


# c2pa-rs failure codes that mean the bytes changed after signing (hash mismatches).
_CHANGED = ("assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash")
# Codes that only say the signer is not on a trust list: expected for local credentials.
_UNTRUSTED = ("signingCredential.untrusted",)


def read_credentials(path: Path) -> Credentials:
    """The Content Credentials of ``path``; state "none" when it has none. MarkError when
    the file cannot be read or is not a kind that can carry them."""
    import c2pa

    mime = MIME.get(path.suffix.lower())
    if mime is None:
        raise MarkError(
            f"{path.name} is not a PNG, JPEG or MP4 file; give a frame or a video of a take."
        )
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise MarkError(f"{path} cannot be read ({exc.strerror or exc}).") from exc
    with stream:
        head = stream.read(12)
        stream.seek(0)
        if not _looks_like(head, mime):
            raise MarkError(
                f"{path.name} is not a {mime.split('/')[1].upper()} file; give a frame or a "
                "video of a take."
            )
        try:
            with c2pa.Reader(mime, stream, context=_context()) as reader:
                store = json.loads(reader.json())
        except c2pa.C2paError as exc:
            if "ManifestNotFound" in type(exc).__name__ or "no JUMBF" in str(exc):
                return Credentials("none")
            raise MarkError(f"{path.name} could not be read as {mime} ({exc}).") from exc
    return _summarise(store)


def _looks_like(head: bytes, mime: str) -> bool:
    if mime == "image/png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if mime == "image/jpeg":
        return head.startswith(b"\xff\xd8")
    return head[4:8] == b"ftyp"


def _summarise(store: dict[str, Any]) -> Credentials:
    active = store.get("manifests", {}).get(store.get("active_manifest", ""), {})
    results = store.get("validation_results", {}).get("activeManifest", {})
    failures = [f.get("code", "") for f in results.get("failure", [])]
    if not failures:
        failures = [s.get("code", "") for s in store.get("validation_status", []) or []]
    untrusted = any(code in _UNTRUSTED for code in failures)
    problems = [code for code in failures if code not in _UNTRUSTED]
    if any(code.startswith(_CHANGED) for code in problems):
        state = "changed"
    elif problems:
        state = "invalid"
    else:
        state = "valid"
    sig = active.get("signature_info", {})
    gen = (active.get("claim_generator_info") or [{}])[0]
    out = Credentials(
        state,
        signer=", ".join(v for v in (sig.get("common_name"), sig.get("issuer")) if v),
        generator=" ".join(str(v) for v in (gen.get("name"), gen.get("version")) if v),
        problems=problems,
        unverified_signer=untrusted,
    )
    for assertion in active.get("assertions", []):
        label, data = assertion.get("label", ""), assertion.get("data", {})
        if label.startswith("c2pa.actions"):
            for action in data.get("actions", []):
                if action.get("action") == "c2pa.created":
                    out.source_type = action.get("digitalSourceType", "")
                    out.signed_at = action.get("when", "")
        elif label == TAKE_LABEL:
            out.take = dict(data)
    out.signed_at = sig.get("time") or out.signed_at
    return out


def take_facts(run: Mapping[str, Any]) -> TakeFacts:
    """A take's facts from its ``run.json`` object: the take's identity is a hash of what
    made it (inputs, settings, start time), so two takes never share one; the watermark
    payload is the one run.json records (``watermark.payload``, present when the take's
    frames are watermarked)."""
    import hashlib

    inputs = run.get("inputs", {}) or {}
    roles = {"image": "portrait", "audio": "voice", "motion": "motion"}
    hashes = {
        roles.get(k, k): str(v["sha256"])
        for k, v in inputs.items()
        if isinstance(v, dict) and v.get("sha256")
    }
    pack = run.get("pack") or {}
    mark = run.get("watermark") or {}
    identity = json.dumps(
        [hashes, run.get("settings"), run.get("started_at"), run.get("seed")], sort_keys=True
    )
    return TakeFacts(
        take_id=hashlib.sha256(identity.encode()).hexdigest()[:16],
        pack={k: str(pack[k]) for k in ("name", "profile") if k in pack},
        inputs=hashes,
        created=str(run.get("started_at") or ""),
        watermark=str(mark["payload"]) if mark.get("payload") else None,
    )
