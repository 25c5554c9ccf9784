"""The LivePortrait renderer for ``liveportrait`` model packs (see docs/packs.md)."""

from .renderer import LivePortraitRenderer

__all__ = ["LivePortraitRenderer"]
