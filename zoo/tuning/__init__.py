"""Keras Tuner over the zoo: one search space per family, `hypermodel`, `tuner`.

```python
import zoo
tuner = zoo.tuner("mlp", "hyperband", objective="val_accuracy", max_epochs=4)
tuner.search(train, validation_data=val, epochs=4)
```
"""

from zoo.tuning.zoo_hypermodel import ZooHyperModel, search_space, searchable_families
from zoo.tuning.space import Choice, Derived, Float, Int, SearchSpace
from zoo.tuning.tuners import ALGORITHMS, tuner


def hypermodel(name, fixed=None, overrides=None, extend=None, evaluation=None, weights=None,
               **kwargs):
    """A `keras_tuner.HyperModel` building and compiling the zoo model `name`.

    Args:
        name: a registered model name.
        fixed: dict {hyperparameter or constructor argument: value} not searched;
            keyword arguments add to it (`zoo.hypermodel("mlp", dropout=0.1)`).
            Dataset arguments (`input_shape`, `num_classes`) are fixed this way.
        overrides: dict {hyperparameter: new range or choices}: `(low, high)`,
            `(low, high, "log")`, `[choice, ...]` or a dict of fields.
        extend: dict {constructor argument or training knob: range or choices}
            searched in addition to the family's space.
        evaluation: arguments of `model.evaluation_metrics` for objectives
            measured after `fit` (e.g. `{"dataset": "fashion_mnist"}` for a
            GAN's `fid_fmnist`).
        weights: every trial's model starts from these weights (`zoo.create(name,
            weights=...)`: an entry's tag or name, or a weights file). With the
            `lora_rank` knob (fixed, or searched through `extend`), LoRA fine-tunes
            them (`zoo.lora.enable` before compiling).
        **kwargs: more fixed values.

    Returns:
        A `ZooHyperModel`; its `describe()` prints the resulting space.

    Example:

    ```python
    hm = zoo.hypermodel("mlp", input_shape=(28, 28, 1), num_classes=10, dropout=0.1,
                        overrides={"learning_rate": (1e-4, 1e-2)},
                        extend={"activation": ["relu", "gelu"]})
    tuner = zoo.tuner(hm, "random", max_trials=8)
    ```
    """
    return ZooHyperModel(name, fixed=fixed, overrides=overrides, extend=extend,
                         evaluation=evaluation, weights=weights, **kwargs)


__all__ = [
    "ALGORITHMS", "Choice", "Derived", "Float", "Int", "SearchSpace",
    "ZooHyperModel", "hypermodel", "search_space", "searchable_families",
    "tuner",
]
