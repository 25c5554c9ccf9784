"""Ditto's audio-to-motion (antgroup/ditto-talkinghead) for ``ditto`` model packs: HuBERT
features, the LMDM sampler over cross-faded windows, and its motion as MotionTrack curves
(see docs/packs.md)."""

from .generator import DittoMotion

__all__ = ["DittoMotion"]
