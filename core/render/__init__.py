"""Stage 4, the pictures: portrait + ``SourceFace`` + one MotionTrack row in, an RGB frame out.

The built-in renderer is a 2.5-D warp of the photo. ``warp`` (``WarpRenderer``) puts it
together per frame: ``deform`` moves the face's control points for the channels (head pose,
mouth, lids, brows), ``tps`` turns them into a dense backward grid, ``overlays`` rasterises
what a warp cannot show (the opened mouth, closing lids), ``eyes`` slides the irises and
``graph`` builds the ONNX graph that samples and paints the pixels. Other renderers plug in
through ``core.stages.Renderer``.
"""
