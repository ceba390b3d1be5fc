"""keras-zoo: a Keras-native model zoo.

```python
import zoo
model = zoo.create("mlp", input_shape=(28, 28, 1), num_classes=10)
model.compile(optimizer="adam")
train, test = zoo.datasets.load("fashion_mnist", batch_size=128)
model.fit(train, validation_data=test, epochs=5)
```

Names resolve on first use, so `import zoo.cli` can still choose the keras
backend before keras is imported.
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "create": "zoo.registry",
    "list_models": "zoo.registry",
    "model_info": "zoo.registry",
    "register": "zoo.registry",
    "ZooModel": "zoo.training",
    "Player": "zoo.training",
    "PlayerOptimizers": "zoo.training",
    "list_weights": "zoo.weights",
}
_SUBMODULES = ("datasets", "training", "models", "weights", "registry", "tuning", "jobs")

__all__ = sorted(_EXPORTS) + ["datasets"]


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"zoo.{name}")
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
