"""Stage 3, the motion: voice features in, a ``MotionTrack`` (frames x named channels) out.

``track`` is the MotionTrack and its channel tables (the contract between motion and
rendering, saved as ``motion.npz``); ``procedural`` is the built-in generator and its user
controls, made from ``lipsync`` (mouth shapes from phones or acoustics), ``visemes`` (the
phone-to-shape tables) and ``emotion`` (steady expression offsets). Other generators plug in
through ``core.stages.MotionGenerator``.
"""
