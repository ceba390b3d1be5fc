"""Transfer learning as users write it, on the shipped Fashion-MNIST resnet20; class names."""

import warnings

import keras
import numpy as np
import pytest

import zoo
from zoo.weights import classes

pytestmark = pytest.mark.jax


def _values(model):
    return [keras.ops.convert_to_numpy(v).copy() for v in model.weights]


def test_shipped_weights_as_a_backbone_without_skip_mismatch():
    full = zoo.create("resnet20", weights="fashion_mnist")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        pooled = zoo.create("resnet20", weights="fashion_mnist", include_top=False, pooling="avg")
        stages = zoo.create("resnet20", weights="fashion_mnist", features_only=True)
        five = zoo.create("resnet20", weights="fashion_mnist", num_classes=5)
    x = np.random.default_rng(0).uniform(size=(4, 28, 28, 1)).astype("float32")
    want = [keras.ops.convert_to_numpy(s) for s in full.stage_outputs(x)]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(pooled(x)), want[-1].mean(axis=(1, 2)),
                               rtol=1e-5, atol=1e-5)
    for got, w in zip(stages(x), want):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got), w, rtol=1e-5, atol=1e-5)
    assert five(x).shape == (4, 5)
    body = [v for v in five.weights if "logits" not in v.path]
    assert len(body) == len(full.weights) - 2
    for mine, theirs in zip(body, [v for v in full.weights if "logits" not in v.path]):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(mine),
                                      keras.ops.convert_to_numpy(theirs))


def test_frozen_backbone_stays_frozen_batch_norm_included():
    backbone = zoo.create("resnet20", weights="fashion_mnist", include_top=False, pooling="avg")
    backbone.trainable = False
    assert not backbone.trainable_weights
    before = _values(backbone)
    inputs = keras.Input((28, 28, 1))
    # no training=False here: a frozen BatchNorm runs in inference mode anyway, as in keras
    outputs = keras.layers.Dense(3)(backbone(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(16, 28, 28, 1)).astype("float32")
    head = keras.ops.convert_to_numpy(model.layers[-1].kernel).copy()
    model.fit(x, np.arange(16) % 3, epochs=2, batch_size=8, verbose=0)
    for a, b in zip(before, _values(backbone)):  # moving means and variances too
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(head, keras.ops.convert_to_numpy(model.layers[-1].kernel))
    # unfrozen, the same training moves the backbone (the check above can fail)
    backbone.trainable = True
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, np.arange(16) % 3, epochs=1, batch_size=8, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, _values(backbone)))


def test_decode_predictions_names_the_imagenet_classes():
    names = classes.class_names("imagenet1k")
    assert len(names) == 1000 and len(set(names)) == 1000
    assert names[0] == "tench" and names[207] == "golden retriever"
    assert "torchvision" in classes.class_names_source("imagenet1k")
    logits = np.zeros((2, 1000), "float32")
    logits[0, 207], logits[0, 1] = 5.0, 4.0
    logits[1, 999] = 3.0
    top = zoo.decode_predictions(logits, top=2)
    assert [(i, n) for i, n, _ in top[0]] == [(207, "golden retriever"), (1, "goldfish")]
    assert top[1][0][:2] == (999, names[999])
    p = np.exp(logits[0]) / np.exp(logits[0]).sum()
    np.testing.assert_allclose(top[0][0][2], p[207], rtol=1e-6)
    with pytest.raises(ValueError, match=r"shape \(batch, 1000\).*\(2, 10\)"):
        zoo.decode_predictions(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="top=0"):
        zoo.decode_predictions(logits, top=0)
    with pytest.raises(ValueError, match="class_names='imagenet21k'"):
        zoo.decode_predictions(logits, class_names="imagenet21k")
