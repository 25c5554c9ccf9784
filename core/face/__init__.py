"""Stage 2, the portrait: an image file in, a ``SourceFace`` out.

``portrait`` reads the image; ``analyzer`` is the built-in face analysis (MediaPipe's face
detector, 468-point mesh and iris models, converted to ONNX), helped by ``detect`` (anchor
decoding, NMS), ``roi`` (rotated crops) and ``regions`` (named landmark groups); ``source``
holds the result type every later stage reads. Other analyses plug in through
``core.stages.FaceAnalysis`` and a model pack profile (``core.runtime.profiles``).
"""
