"""Stage 4, the pictures: portrait + ``SourceFace`` + one MotionTrack row in, an RGB frame out.

The built-in renderer is a 2.5-D warp of the photo. ``warp`` (``WarpRenderer``) puts it
together per frame: ``deform`` (``Deformer``) composes where the face's control points go
from the feature modules, each of which owns one part of the face from motion to paint:
``mouth`` (jaw, lips, the opened mouth and its teeth), ``eyes`` (lids, blinks, gaze and the
iris layer), ``brows``, and ``head`` (the rigid pose and how far it reaches), all measured in
the upright face frame of ``frame``. ``tps`` turns the points into a dense backward grid,
``overlays`` is the mask buffer the mouth and lids are painted into (what a warp cannot
show), and ``graph`` builds the ONNX graph that samples and paints the pixels. Other
renderers plug in through ``core.stages.Renderer``.
"""
