"""keras-zoo: a Keras-native model zoo.

```python
import zoo
model = zoo.create("mlp", input_shape=(28, 28, 1), num_classes=10)
model.compile(optimizer="adam")
train, val, test, sizes = zoo.datasets.load_split("fashion_mnist", batch_size=128)
model.fit(train, validation_data=val, epochs=5)
```

Importing `zoo` registers every family, so `keras.saving.load_model` finds
them. Choose the backend (KERAS_BACKEND) before importing it.

The `zoo list` and `zoo info NAME` commands answer from the generated index
(`zoo.catalogue`) without importing keras: in that process alone this package
loads its parts on first use.
"""

import importlib as _importlib
import os as _os
import sys as _sys

__version__ = "0.1.0"

_TUNING = ("hypermodel", "tuner", "tuning")
#: the package's names and the module each comes from
_EXPORTS = {
    "Player": "zoo.training", "PlayerOptimizers": "zoo.training", "ZooModel": "zoo.training",
    "create": "zoo.api", "model_info": "zoo.api", "list_models": "zoo.registry",
    "register": "zoo.registry", "list_weights": "zoo.weights",
    "decode_predictions": "zoo.weights.classes", "quantize": "zoo.training.quantization",
}
_SUBMODULES = ("datasets", "models", "registry", "weights", "compat", "api", "catalogue", "lora")


def _catalogue_command():
    """True in the process of `zoo list` / `zoo info` (the console script, or
    `python -m zoo.cli`): it needs the index only."""
    argv = getattr(_sys, "orig_argv", _sys.argv)
    commands = ("list", "info")
    if _os.path.basename(_sys.argv[0]) == "zoo" and _sys.argv[1:2] and _sys.argv[1] in commands:
        return True
    for i, arg in enumerate(argv[:-2]):
        if arg == "-m" and argv[i + 1] == "zoo.cli":
            return argv[i + 2] in commands
    return False


def _load():
    from zoo.utils import tensorflow_logs

    if _os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        # keras is about to import TensorFlow: without its C++ start-up notices
        tensorflow_logs.import_tensorflow_quietly()
    _importlib.import_module("zoo.datasets")
    _importlib.import_module("zoo.models")  # registers every family


def __getattr__(name):
    # keras-tuner is imported on first use, not by `import zoo`
    if name in _TUNING:
        tuning = _importlib.import_module("zoo.tuning")
        return tuning if name == "tuning" else getattr(tuning, name)
    if name in _EXPORTS:
        _load()
        return getattr(_importlib.import_module(_EXPORTS[name]), name)
    if name in _SUBMODULES:  # `from zoo import catalogue` asks here first
        return _importlib.import_module(f"zoo.{name}")
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


if not _catalogue_command():
    _load()
    from zoo import datasets, lora, models  # noqa: E402,F401
    from zoo.api import create, model_info  # noqa: E402
    from zoo.registry import list_models, register  # noqa: E402
    from zoo.training import Player, PlayerOptimizers, ZooModel  # noqa: E402
    from zoo.training.quantization import quantize  # noqa: E402,F401
    from zoo.weights import list_weights  # noqa: E402
    from zoo.weights.classes import decode_predictions  # noqa: E402


__all__ = [
    "Player",
    "PlayerOptimizers",
    "ZooModel",
    "create",
    "datasets",
    "decode_predictions",
    "hypermodel",
    "list_models",
    "list_weights",
    "lora",
    "model_info",
    "register",
    "tuner",
]
