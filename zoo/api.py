"""The zoo's front door: `create` (with or without pretrained weights) and `model_info`.

A thin facade over the registry (architectures) and `zoo.weights` (published
files), so neither has to know the other's layer.
"""

from zoo import registry
from zoo import weights as zoo_weights


def create(name, /, weights=None, **kwargs):
    """Builds the registered architecture `name`, optionally with pretrained weights.

    Args:
        name: a registered name (see `zoo.list_models`).
        weights: None (random initialisation), the tag of a published
            weights entry for this model (e.g. "fashion_mnist"), its full name
            ("mlp.fashion_mnist"), or a path to a `.weights.h5` file.
        **kwargs: arguments of the family's constructor, overriding the
            variant's defaults (and, with published weights, the entry's
            configuration; `skip_mismatch=True` loads what fits).

    Example:

    ```python
    model = zoo.create("mlp", input_shape=(28, 28, 1), num_classes=10)
    clf = zoo.create("mlp", weights="fashion_mnist")
    ```
    """
    if weights is None:
        return registry.create(name, **kwargs)
    return zoo_weights.create_with_weights(name, weights, **kwargs)


def model_info(name):
    """Family, class, defaults, parameter count (built without initialising) and weights."""
    info = registry.model_info(name)
    info["weights"] = [w.name for w in zoo_weights.list_weights(f"{name}.*")]
    return info
