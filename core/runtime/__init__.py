"""Where models run: ONNX Runtime sessions, model packs, and the profiles that name stages.

``sessions`` is the only module in the project that imports ``onnxruntime`` (providers,
threads, cached sessions, what ran where and why); ``packs`` opens and verifies a model pack
folder against its profile's tensor contract; ``profiles`` is the registry of profiles (what
a pack of each kind holds and which stages it runs); ``factory`` is the one factory
(``open_stages``) that turns a pack into the stage implementations its profile names.
"""

# The shipped neural profiles (LivePortrait, Ditto) register themselves beside the built-in
# one; their stage code is imported lazily.
from . import neural_profiles as _neural_profiles  # noqa: E402, F401
