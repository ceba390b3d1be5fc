"""SpeedNet's own tests: layout and parameter count, the pooling-first equivalence, its
arguments, feature taps, bad arguments.

The shared checks every name runs (training, `.keras` round trip) are in
tests/models/test_models_every_name.py.
"""

import keras
import numpy as np
import pytest

import zoo
from model_checks import check_config_round_trip, run_model_test


def fixed_batch(input_shape, n=8, num_classes=3):
    rng = np.random.default_rng(0)
    return rng.uniform(size=(n, *input_shape)).astype("float32"), np.arange(n) % num_classes


def test_layout_and_parameter_count():
    model = zoo.create("speednet")
    names = [layer.name for layer in model.layers]
    stage2 = names[names.index("stage2_conv1"):names.index("stage2") + 1]
    assert stage2 == ["stage2_conv1", "stage2_pool", "stage2_bn1", "stage2_conv1_relu", "stage2"]
    assert not model.get_layer("stage2_conv1").use_bias
    assert not model.get_layer("stage2_bn1").scale
    # 3x3 convs without bias 1->32->64->128, BN shift + moving statistics, logits no bias
    convs = 9 * (1 * 32 + 32 * 64 + 64 * 128)
    assert model.count_params() == convs + 3 * (32 + 64 + 128) + 128 * 10 == 94_400
    assert tuple(model(np.zeros((2, 28, 28, 1), "float32")).shape) == (2, 10)
    recipe = zoo.create("speednet", filters=(32, 64, 128, 256))
    assert recipe.count_params() == 94_400 + 9 * 128 * 256 + 3 * 256 + 128 * 10 == 391_360


def test_pooling_first_equals_pooling_after_the_activation():
    """max-pool commutes with BN's per-channel affine map (positive scale) and the ReLU."""
    model = zoo.create("speednet", input_shape=(12, 12, 1), num_classes=3, filters=(4,),
                       bn_scale=True)
    conv, pool, bn, act = (model.get_layer(n) for n in (
        "stage1_conv1", "stage1_pool", "stage1_bn1", "stage1_conv1_relu"))
    bn.gamma.assign(np.linspace(0.5, 2.0, 4))
    bn.beta.assign(np.linspace(-1.0, 1.0, 4))
    x = np.random.default_rng(0).normal(size=(2, 12, 12, 1)).astype("float32")
    y = conv(x)
    pooled_first = act(bn(pool(y)))
    pooled_last = keras.layers.MaxPooling2D(2)(act(bn(y)))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(pooled_first),
                               keras.ops.convert_to_numpy(pooled_last), atol=1e-6)


@pytest.mark.parametrize("kwargs", [
    dict(depth=(2, 1), activation="gelu", head="flatten", logit_scale=1 / 9, dropout=0.1,
         head_units=(6,)),
    dict(batch_norm=False, head="avg", augment="flip_translate", pool_last=False,
         pool_first=False),
])
def test_arguments_train_and_round_trip(kwargs, tmp_path):
    model = zoo.create("speednet", input_shape=(16, 16, 1), num_classes=3,
                       filters=(4, 8), **kwargs)
    x, y = fixed_batch((16, 16, 1))
    run_model_test(model, x, y, (8, 3), tmp_path, steps=3,
                   compile_kwargs={"optimizer": keras.optimizers.Adam(1e-3)})
    config = model.get_config()
    assert {k: config[k] for k in kwargs} == {k: v for k, v in kwargs.items()}


def test_features_only_pool_last_and_pooled_features():
    model = zoo.create("speednet", input_shape=(16, 16, 1), num_classes=3, filters=(4, 8),
                       features_only=True, pool_last=False)
    outs = model(np.zeros((1, 16, 16, 1), "float32"))
    assert [tuple(o.shape) for o in outs] == [(1, 8, 8, 4), (1, 8, 8, 8)]
    pooled = zoo.create("speednet", input_shape=(16, 16, 1), num_classes=3, filters=(4, 8),
                        include_top=False, pooling="avg")
    assert tuple(pooled(np.zeros((1, 16, 16, 1), "float32")).shape) == (1, 8)
    check_config_round_trip(pooled)


@pytest.mark.parametrize("kwargs,match", [
    (dict(depth=0), "depth"),
    (dict(depth=(1, 2)), "depth"),
    (dict(activation="tanh"), "activation"),
    (dict(head="mean"), "head"),
    (dict(logit_scale=0), "logit_scale"),
    (dict(head_units=(0,)), "head_units"),
    (dict(input_shape=(4, 4, 1)), "at least 8x8"),
])
def test_bad_arguments_name_themselves(kwargs, match):
    with pytest.raises(ValueError, match=match):
        zoo.create("speednet", **kwargs)


def test_pool_first_is_the_same_function_in_inference():
    """With the same weights, pooling before or after BN + ReLU predicts alike (training
    differs only in the batch statistics, taken on the pooled map)."""
    args = dict(input_shape=(16, 16, 1), num_classes=3, filters=(4, 8), head_units=(6,))
    first = zoo.create("speednet", **args)
    last = zoo.create("speednet", pool_first=False, **args)
    last.set_weights(first.get_weights())
    x = np.random.default_rng(1).normal(size=(4, 16, 16, 1)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(first(x)),
                               keras.ops.convert_to_numpy(last(x)), atol=1e-5)
