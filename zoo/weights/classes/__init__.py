"""Class names that published logits follow, and `decode_predictions`.

`imagenet1k.json` holds the 1,000 ImageNet-1k class names in the order of
torchvision's and timm's logits; it is written by `scripts/make_imagenet_entries.py`
from torchvision's weights metadata (the `categories` of every ImageNet weights enum),
and states that source in its `source` field.
"""

import functools
import json
from pathlib import Path

import numpy as np

from zoo.errors import UserValueError

_FOLDER = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=None)
def _read(name):
    path = _FOLDER / f"{name}.json"
    if not isinstance(name, str) or not path.is_file():
        known = sorted(p.stem for p in _FOLDER.glob("*.json"))
        raise UserValueError(f"No class list named {name!r}; known: {known}. "
                             f"Received: class_names={name!r}")
    return json.loads(path.read_text())


def class_names(name="imagenet1k"):
    """The list of class names `name` (e.g. "imagenet1k": 1,000 names)."""
    return list(_read(name)["names"])


def class_names_source(name="imagenet1k"):
    """Where the list comes from."""
    return _read(name)["source"]


def decode_predictions(logits, top=5, class_names="imagenet1k"):
    """The `top` classes of each row of `logits`: [[(index, name, probability), ...], ...].

    Like `keras.applications.imagenet_utils.decode_predictions`, for the zoo's
    ImageNet weights (whose logits follow torchvision's class order);
    probabilities are the softmax of the logits.

    Args:
        logits: (batch, classes) array or tensor.
        top: how many classes per row, best first.
        class_names: the class list (default "imagenet1k").

    Example:

    ```python
    model = zoo.create("resnet50", weights="imagenet")
    zoo.decode_predictions(model.predict(images), top=3)
    # [[(207, 'golden retriever', 0.83), (208, 'Labrador retriever', 0.05), ...], ...]
    ```
    """
    import keras

    names = _read(class_names)["names"]
    logits = np.asarray(keras.ops.convert_to_numpy(logits), dtype="float64")
    if logits.ndim != 2 or logits.shape[1] != len(names):
        raise UserValueError(
            f"`logits` must have shape (batch, {len(names)}) for the {class_names!r} classes. "
            f"Received: logits of shape {logits.shape}")
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= len(names):
        raise UserValueError(f"`top` must be an int in [1, {len(names)}]. Received: top={top!r}")
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities = shifted / shifted.sum(axis=1, keepdims=True)
    order = np.argsort(-logits, axis=1, kind="stable")[:, :top]
    return [[(int(i), names[i], float(p[i])) for i in row] for row, p in zip(order, probabilities)]
