"""Capture: a talking-face video in, a MotionTrack out (the channels the generator writes).

``video`` reads frames and the frame rate with imageio-ffmpeg's ffmpeg; ``measure`` reads
every frame with the built-in landmark models (``face.measure``); ``fill`` fills frames
without a face; ``smooth`` is the One-Euro filter; ``channels`` turns measurements into
calibrated channels; ``capture`` runs them (``capture_video``, ``python -m core capture``).
"""
