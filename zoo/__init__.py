"""keras-zoo: a Keras-native model zoo.

```python
import zoo
model = zoo.create("mlp", input_shape=(28, 28, 1), num_classes=10)
model.compile(optimizer="adam")
train, test = zoo.datasets.load("fashion_mnist", batch_size=128)
model.fit(train, validation_data=test, epochs=5)
```

Importing `zoo` registers every family, so `keras.saving.load_model` finds
them. Choose the backend (KERAS_BACKEND) before importing it.
"""

import os as _os

from zoo.utils import tensorflow_logs as _tensorflow_logs

if _os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
    # keras is about to import TensorFlow: without its C++ start-up notices
    _tensorflow_logs.import_tensorflow_quietly()

from zoo import datasets, models  # noqa: E402,F401  (models registers every family)
from zoo.api import create, model_info  # noqa: E402
from zoo.registry import list_models, register  # noqa: E402
from zoo.training import Player, PlayerOptimizers, ZooModel  # noqa: E402
from zoo.training.quantization import quantize  # noqa: E402
from zoo.weights import list_weights  # noqa: E402
from zoo.weights.classes import decode_predictions  # noqa: E402

__version__ = "0.1.0"

_TUNING = ("hypermodel", "tuner", "tuning")


def __getattr__(name):
    # keras-tuner is imported on first use, not by `import zoo`
    if name in _TUNING:
        import importlib

        tuning = importlib.import_module("zoo.tuning")
        return tuning if name == "tuning" else getattr(tuning, name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


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
    "model_info",
    "quantize",
    "register",
    "tuner",
]
