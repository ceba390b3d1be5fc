"""Checks the vision families' own tests share: building without weights, parameter counts,
stage outputs, the standard input sizes.

```python
def test_builds_on_standard_sizes(name, input_shape):
    check_standard_size(name, input_shape)
```
"""

import math

import keras
import numpy as np

import zoo
from zoo import compat

STANDARD_SIZES = [(28, 28, 1), (32, 32, 3), (224, 224, 3)]


def build_only(name, **kwargs):
    """Builds without initialising the weights (shapes only): fast for large nets."""
    return compat.build_shapes_only(lambda: zoo.create(name, **kwargs))


def trainable_count(model):
    return sum(math.prod(w.shape) for w in model.trainable_weights)


def check_trainable_params(name, expected, input_shape=(224, 224, 3), **kwargs):
    """`name` at its defaults takes `input_shape` and has `expected` trainable parameters
    (the reference's `sum(p.numel() for p in model.parameters())`)."""
    model = build_only(name, **kwargs)
    assert model.expected_input_shape() == input_shape
    assert trainable_count(model) == expected


def check_standard_size(name, input_shape, num_classes=10):
    """`name` builds at `input_shape` (a quarter of its width) and gives one row of logits."""
    model = build_only(name, input_shape=input_shape, num_classes=num_classes,
                       width_multiplier=0.25)
    out = model.compute_output_spec(keras.KerasTensor((2, *input_shape)))
    assert [tuple(o.shape) for o in keras.tree.flatten(out)] == [(2, num_classes)]


def check_stage_outputs(name, channels, shape=(64, 64, 3)):
    """`features_only=True` gives every stage's map, `channels` wide and shrinking, the same
    maps the classifier's `stage_outputs` computes for real and its `stage<i>` taps name."""
    model = build_only(name, input_shape=shape, features_only=True)
    assert [s.shape[-1] for s in model.outputs] == channels
    sizes = [s.shape[1] for s in model.outputs]
    assert sizes == sorted(sizes, reverse=True)
    small = zoo.create(name, input_shape=shape, width_multiplier=0.125, num_classes=4)
    assert small.feature_layer_names() == [f"stage{i + 1}" for i in range(len(channels))]
    x = np.random.default_rng(0).uniform(size=(2, *shape)).astype("float32")
    maps = small.stage_outputs(x)
    assert [tuple(m.shape[1:3]) for m in maps] == [tuple(s.shape[1:3]) for s in model.outputs]
    tap = keras.Model(small.input, small.get_layer("stage2").output)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(tap(x)),
                               keras.ops.convert_to_numpy(maps[1]), atol=1e-6)
