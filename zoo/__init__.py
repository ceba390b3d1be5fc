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

from zoo import datasets, models  # noqa: F401  (models registers every family)
from zoo.registry import create, list_models, model_info, register
from zoo.training import Player, PlayerOptimizers, ZooModel
from zoo.weights import list_weights

__version__ = "0.1.0"

__all__ = [
    "Player",
    "PlayerOptimizers",
    "ZooModel",
    "create",
    "datasets",
    "list_models",
    "list_weights",
    "model_info",
    "register",
]
