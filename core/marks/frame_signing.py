"""Content Credentials in every PNG and JPEG frame as it is written: libc2pa's data-hash
calls.

Why ctypes: c2pa-python 0.38.0 (pinned in requirements.txt) signs a file only through
``Builder.sign``, which reads the whole asset through Python stream callbacks, parses it,
writes it out again and (by default) reads the result back to verify it: about 2.5 ms plus
11 ms per MB for each file, +29 % end to end at 512x512 and +72 % at 1080p. The C library
it loads (``libc2pa_c``, c2pa-rs's ``c2pa_c_ffi``) also exports the data-hash calls, which
the 0.38 bindings name in their list of exports but do not wrap:

* ``c2pa_builder_data_hashed_placeholder(builder, reserved_size, format, &manifest_bytes)``
  -> a manifest of the final size, already wrapped for ``format`` (for PNG, a whole
  ``caBX`` chunk; for JPEG, APP11 segments);
* ``c2pa_builder_sign_data_hashed_embeddable(builder, signer, data_hash_json, format,
  asset, &manifest_bytes)`` -> the signed manifest, the same size, for a ``DataHash``
  (sha256 of the file, the placeholder's byte range excluded) computed by the caller.

c2pa-rs ``c2pa_c_ffi/src/c_api.rs`` documents both: "Returns -1 if there were errors,
otherwise returns the size of the manifest_bytes. The error string can be retrieved by
calling c2pa_error", and the bytes "MUST be released by calling c2pa_free". They are
called here on the library c2pa-python has loaded (``c2pa.c2pa._lib``), with its
Builder's and Signer's native handles, so the manifest is the official library's, made
from the same definition and key as the take's MP4 (``credentials.manifest_definition``).

Per frame: a fresh placeholder (0.2 ms; it gives each frame its own instance id), sha256
of the file with hashlib (1.25 GB/s), the signing call (0.6 ms with ``verify_after_sign``
off, which triples it), the signed chunk put right after IHDR. One Builder serves every
frame of a writer. Measured 1.35 ms a 512x512 frame (0.59 MB) and 3.6 ms a 1080p one
(3.3 MB), on the frame writer thread (README "Responsible use" has the end-to-end cost).

Fallback: when the loaded library lacks either symbol (another c2pa-python than 0.38.0),
frames are still signed, through ``Builder.sign`` (``credentials.Signer.sign_bytes``):
correct, but several times slower (the figures above); ``method`` says which is in use.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import struct
import threading
from typing import Any, overload

from ..errors import MarkError
from .credentials import Signer, TakeFacts, manifest_definition
from .keys import SigningKey

PNG = "image/png"
JPEG = "image/jpeg"
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_U8P = ctypes.POINTER(ctypes.c_ubyte)
_SYMBOLS = ("c2pa_builder_data_hashed_placeholder", "c2pa_builder_sign_data_hashed_embeddable")
# Signing settings: credentials._OFFLINE's, and no read-back of each signed manifest.
_FAST = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_after_sign": False},
    "builder": {"thumbnail": {"enabled": False}},
}


def native_library() -> Any | None:
    """c2pa-python's loaded ``libc2pa_c`` with the data-hash calls typed, or None when it
    lacks them (then ``FrameSigner`` falls back to ``Builder.sign``)."""
    from c2pa import c2pa as bindings

    lib = getattr(bindings, "_lib", None)
    if lib is None or not all(hasattr(lib, name) for name in (*_SYMBOLS, "c2pa_free")):
        return None
    lib.c2pa_builder_data_hashed_placeholder.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_char_p,
        ctypes.POINTER(_U8P),
    ]
    lib.c2pa_builder_data_hashed_placeholder.restype = ctypes.c_int64
    lib.c2pa_builder_sign_data_hashed_embeddable.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_void_p,
        ctypes.POINTER(_U8P),
    ]
    lib.c2pa_builder_sign_data_hashed_embeddable.restype = ctypes.c_int64
    lib.c2pa_signer_reserve_size.argtypes = [ctypes.c_void_p]
    lib.c2pa_signer_reserve_size.restype = ctypes.c_int64
    return lib


def _native_error(lib: Any) -> str:
    """The library's last error message (its thread-local slot), freed."""
    pointer = lib.c2pa_error()
    if not pointer:
        return "no message"
    try:
        return ctypes.string_at(pointer).decode("utf-8", "replace")
    finally:
        lib.c2pa_string_free(pointer)


def _handle(obj: Any) -> ctypes.c_void_p:
    return ctypes.cast(obj._handle, ctypes.c_void_p)


def manifest_offset(data: bytes, mime: str) -> int:
    """Where a frame's manifest goes: right after a PNG's IHDR, a JPEG's SOI marker."""
    if mime == JPEG:
        if not data.startswith(b"\xff\xd8"):
            raise MarkError("A frame is not a JPEG file; it cannot be signed as one.")
        return 2
    return ihdr_end(data)


def ihdr_end(data: bytes) -> int:
    """Offset just past a PNG's IHDR chunk (33 for any valid PNG); MarkError otherwise."""
    if not data.startswith(_SIGNATURE) or data[12:16] != b"IHDR":
        raise MarkError("A frame is not a PNG file; it cannot be signed as one.")
    (length,) = struct.unpack(">I", data[8:12])
    return 8 + 12 + length


class FrameSigner:
    """Signs the PNG or JPEG frames of one take (``facts``) with ``key``; ``sign`` is called
    from a frame writer's thread (thread-safe: the native calls hold a lock)."""

    def __init__(
        self, key: SigningKey, facts: TakeFacts, title: str = "frame.png", mime: str = PNG
    ):
        self.signer = Signer(key, facts)
        self.title = title
        self.mime = mime
        self.lib = native_library()
        self.method = "data hash" if self.lib is not None else "Builder.sign"
        self._lock = threading.Lock()
        if self.lib is None:
            return
        import c2pa

        self._c2pa_signer = self.signer._signer()
        context = c2pa.Context.builder().with_settings(c2pa.Settings.from_dict(_FAST)).build()
        definition = json.dumps(manifest_definition(facts, title, mime))
        try:
            self._builder = c2pa.Builder(definition, context=context)
        except c2pa.C2paError as exc:
            raise MarkError(
                f"Content Credentials for the frames could not be made ({exc})."
            ) from exc
        self._reserve = int(self.lib.c2pa_signer_reserve_size(_handle(self._c2pa_signer)))
        if self._reserve < 0:
            raise MarkError(
                f"The signer's manifest size is unknown ({_native_error(self.lib)}); frames "
                "cannot be signed."
            )

    def _call(self, function: Any, *args: Any) -> bytes:
        """Call a native function that returns a buffer (size, out pointer); its bytes."""
        lib = self.lib
        assert lib is not None
        out = _U8P()
        size = function(*args, ctypes.byref(out))
        if size < 0 or not out:
            raise MarkError(
                f"Content Credentials could not be added to a frame ({_native_error(lib)})."
            )
        try:
            return ctypes.string_at(out, size)
        finally:
            lib.c2pa_free(out)

    @overload
    def sign(self, data: bytes) -> bytes: ...
    @overload
    def sign(self, data: list[bytes]) -> list[bytes]: ...

    def sign(self, data: bytes | list[bytes]) -> bytes | list[bytes]:
        """``data`` (a PNG or JPEG file as ``mime`` says, or its pieces in order as
        ``png.StillRegionPng.encode_parts`` gives them: not joined, one copy fewer of a 3 MB
        frame) with the signed manifest right after a PNG's IHDR (a ``caBX`` chunk) or a
        JPEG's SOI (APP11 segments); pieces come back as pieces."""
        parts = [data] if isinstance(data, bytes) else data
        if self.lib is None:
            signed_file = self.signer.sign_bytes(b"".join(parts), self.mime, self.title)
            return signed_file if isinstance(data, bytes) else [signed_file]
        first = parts[0]
        at = manifest_offset(first, self.mime)
        builder, lib = _handle(self._builder), self.lib
        with self._lock:  # a fresh placeholder: the frame's own instance id
            placeholder = self._call(
                lib.c2pa_builder_data_hashed_placeholder, builder, self._reserve, self.mime.encode()
            )
        hasher = hashlib.sha256()  # the file but the chunk: the chunk's range
        for part in parts:
            hasher.update(part)
        digest = hasher.digest()
        data_hash = {
            "exclusions": [{"start": at, "length": len(placeholder)}],
            "name": "jumbf manifest",
            "alg": "sha256",
            "hash": list(digest),
            "pad": [],
        }
        with self._lock:
            signed = self._call(
                lib.c2pa_builder_sign_data_hashed_embeddable,
                builder,
                _handle(self._c2pa_signer),
                json.dumps(data_hash).encode(),
                self.mime.encode(),
                None,
            )
        if len(signed) != len(placeholder):
            raise MarkError(
                f"The signed manifest ({len(signed)} bytes) does not fit its placeholder "
                f"({len(placeholder)} bytes); the frame cannot be signed."
            )
        pieces = [first[:at], signed, first[at:], *parts[1:]]
        return b"".join(pieces) if isinstance(data, bytes) else pieces
