"""Vision families: the shared model test over every name, and each family's arguments."""

import math

import keras
import numpy as np
import pytest

import zoo
from zoo import compat
from model_checks import (
    check_config_round_trip,
    check_saving_round_trip,
    check_training_lowers_loss,
)
from zoo.registry import get as registry_entry

FAMILIES = ("alexnet", "vgg", "googlenet", "resnet", "densenet")
VISION_NAMES = [n for n in zoo.list_models() if registry_entry(n).family in FAMILIES]

# Small widths so a few steps on CPU take little time. Dropout (AlexNet/VGG 0.5,
# GoogLeNet 0.2 by default) makes a 3-step loss curve on 8 images a coin toss: off here.
TINY = {
    "alexnet": {"width_multiplier": 0.125, "dropout": 0.0},
    # the adaptive pool at 2x2, not 7x7: 49 copies of a 1x1 map make 3 steps of Adam overshoot
    "vgg": {"width_multiplier": 0.125, "dropout": 0.0, "head_pool_size": (2, 2)},
    "googlenet": {"width_multiplier": 0.125, "dropout": 0.0},
    "resnet": {"width_multiplier": 0.25},
    "densenet": {"width_multiplier": 0.25},
}


def tiny_model(name, input_shape, num_classes=3, **kwargs):
    """`name` at small widths; at most 3 blocks per stage, which keeps resnet20 whole.

    Deeper variants differ only in their depth table, which the parameter-count
    tests below check at full depth; everything else (block type, widths,
    stem, shortcuts, head) is the variant's own.
    """
    entry = registry_entry(name)
    kwargs = {**TINY[entry.family], **kwargs}
    if "depths" in entry.defaults and entry.family != "vgg":
        kwargs.setdefault("depths", tuple(min(d, 3) for d in entry.defaults["depths"]))
    return zoo.create(name, input_shape=input_shape, num_classes=num_classes, **kwargs)


def fixed_batch(input_shape, n=8, num_classes=3):
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(n, *input_shape)).astype("float32")
    y = np.arange(n) % num_classes
    return x, y


def trainable_count(model):
    return sum(math.prod(w.shape) for w in model.trainable_weights)


def build_only(name, **kwargs):
    """Builds without initialising the weights (shapes only): fast for 100M-parameter nets."""
    with keras.StatelessScope(initialize_variables=False):
        return zoo.create(name, **kwargs)


def test_every_name_is_registered():
    expected = {
        "alexnet", "googlenet",
        *(f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")), "vgg13_cifar",
        *(f"resnet{d}" for d in (18, 34, 50, 101, 152, 20, 32, 44, 56, 110)),
        "densenet121", "densenet169", "densenet201", "densenet_bc_100",
    }
    assert set(VISION_NAMES) == expected


# Alternate the two small input kinds over the names.
SHARED = [(n, (28, 28, 1) if i % 2 else (32, 32, 3)) for i, n in enumerate(VISION_NAMES)]


def vision_model_test(model, x, y, tmp_path, run_eagerly=True):
    """tests/model_checks.py's `run_model_test`, compiled first.

    On TensorFlow the tiny models run eagerly: tracing a 100-layer graph costs
    several times more than three eager steps on 2 CPU cores (the traced step
    runs in the JAX test below and in the benchmarks). The saved compile
    config keeps `run_eagerly`, so the reloaded model predicts eagerly too.
    """
    compile_kwargs = {"optimizer": keras.optimizers.Adam(1e-3), "run_eagerly": run_eagerly}
    check_training_lowers_loss(model, x, y, steps=3, compile_kwargs=compile_kwargs)
    out = model.predict(x, verbose=0)
    assert tuple(out.shape) == (len(x), 3)
    check_config_round_trip(model)
    check_saving_round_trip(model, x, tmp_path)


@pytest.mark.parametrize("name,input_shape", SHARED, ids=[n for n, _ in SHARED])
def test_shared_model_checks(name, input_shape, tmp_path):
    model = tiny_model(name, input_shape)
    x, y = fixed_batch(input_shape)
    vision_model_test(model, x, y, tmp_path)


@pytest.mark.jax
@pytest.mark.parametrize("name,input_shape", [
    pytest.param("resnet20", (32, 32, 3), marks=pytest.mark.torch),
    ("vgg11", (28, 28, 1)),
])
def test_shared_model_checks_traced(name, input_shape, tmp_path):
    # the compiled step (jax.jit under KERAS_BACKEND=jax, tf.function here; torch: eager)
    model = tiny_model(name, input_shape)
    x, y = fixed_batch(input_shape)
    vision_model_test(model, x, y, tmp_path, run_eagerly=False)


# torchvision 0.29: sum(p.numel() for p in model.parameters()) at 224x224x3, 1000 classes
TORCHVISION_PARAMS = {
    "alexnet": 61_100_840,
    "vgg11": 132_863_336, "vgg11_bn": 132_868_840, "vgg13": 133_047_848,
    "vgg13_bn": 133_053_736, "vgg16": 138_357_544, "vgg16_bn": 138_365_992,
    "vgg19": 143_667_240, "vgg19_bn": 143_678_248,
    "googlenet": 6_624_904,
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
    "resnet101": 44_549_160, "resnet152": 60_192_808,
    "densenet121": 7_978_856, "densenet169": 14_149_480, "densenet201": 20_013_928,
}
# He et al. 2016 option-A CIFAR ResNets (Table 6: 0.27M, 0.46M, 0.66M, 0.85M, 1.7M) and
# DenseNet-BC k=12 L=100 (Huang et al. 2017, Table 2: 0.8M), at 32x32x3, 10 classes.
PAPER_PARAMS = {
    "resnet20": (269_722, 0.27e6), "resnet32": (464_154, 0.46e6), "resnet44": (658_586, 0.66e6),
    "resnet56": (853_018, 0.85e6), "resnet110": (1_727_962, 1.7e6),
    "densenet_bc_100": (769_162, 0.8e6),
}


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_trainable_params_equal_torchvision(name):
    model = build_only(name)
    assert model.expected_input_shape() == (224, 224, 3)
    assert trainable_count(model) == TORCHVISION_PARAMS[name]


def test_googlenet_aux_heads_match_torchvision_default():
    # torchvision googlenet(aux_logits=True, init_weights=True): 13,004,888 parameters
    assert trainable_count(build_only("googlenet", aux_logits=True)) == 13_004_888


@pytest.mark.parametrize("name", sorted(PAPER_PARAMS))
def test_cifar_params_match_papers(name):
    model = build_only(name)
    assert model.expected_input_shape() == (32, 32, 3)
    exact, paper = PAPER_PARAMS[name]
    assert trainable_count(model) == exact
    assert abs(exact - paper) / paper < 0.04


def test_option_a_shortcuts_have_no_parameters():
    model = build_only("resnet20")
    assert not [w.path for w in model.weights if "downsample" in w.path]
    projection = build_only("resnet20", shortcut="projection")
    assert [w for w in projection.weights if "downsample" in w.path]


@pytest.mark.parametrize("family_name", ["alexnet", "vgg11_bn", "googlenet", "resnet18",
                                         "resnet50", "resnet20", "densenet121",
                                         "densenet_bc_100"])
@pytest.mark.parametrize("input_shape", [(28, 28, 1), (32, 32, 3), (224, 224, 3)])
def test_builds_on_standard_sizes(family_name, input_shape):
    model = build_only(family_name, input_shape=input_shape, num_classes=10,
                       width_multiplier=0.25)
    out = model.compute_output_spec(keras.KerasTensor((2, *input_shape)))
    assert tuple(out.shape) == (2, 10)


def test_small_inputs_raise_naming_the_minimum():
    with pytest.raises(ValueError,
                       match=r"at least 63x63.*stem='small'.*input_shape=\(28, 28, 1\)"):
        build_only("alexnet", input_shape=(28, 28, 1), stem="imagenet")
    with pytest.raises(ValueError, match=r"at least 29x29.*Received: input_shape=\(28, 28, 1\)"):
        build_only("densenet121", input_shape=(28, 28, 1), stem="imagenet")
    with pytest.raises(ValueError, match=r"at least 7x7.*input_shape=\(6, 6, 3\)"):
        build_only("alexnet", input_shape=(6, 6, 3))
    # the automatic choice, and the stated minimum of the ImageNet stems, build
    assert build_only("alexnet", input_shape=(28, 28, 1)).stem == "small"
    assert build_only("alexnet", input_shape=(63, 63, 3), width_multiplier=0.1).stem == "imagenet"
    assert build_only("densenet121", input_shape=(29, 29, 3), width_multiplier=0.1).stem == \
        "imagenet"


@pytest.mark.parametrize("kwargs,match", [
    ({"width_multiplier": 0}, "width_multiplier=0"),
    ({"width_multiplier": "big"}, "width_multiplier='big'"),
    ({"filters": (16, 32)}, "filters=\\(16, 32\\)"),
    ({"dropout": 1.5}, "dropout=1.5"),
    ({"pooling": "sum", "include_top": False}, "pooling='sum'"),
    ({"pooling": "avg"}, "include_top=True"),
    ({"input_shape": (32, 32)}, "input_shape=\\(32, 32\\)"),
    ({"stem": "tiny"}, "stem='tiny'"),
    ({"shortcut": "C"}, "shortcut='C'"),
    ({"features_only": 1}, "features_only=1"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        zoo.create("resnet20", **kwargs)


@pytest.mark.parametrize("name,channels", [
    ("resnet18", [64, 128, 256, 512]), ("resnet50", [256, 512, 1024, 2048]),
    ("resnet20", [16, 32, 64]), ("vgg11", [64, 128, 256, 512, 512]),
    ("alexnet", [64, 192, 256]), ("googlenet", [192, 480, 832, 1024]),
    ("densenet121", [256, 512, 1024, 1024]), ("densenet_bc_100", [216, 300, 342]),
])
def test_features_only_and_stage_outputs(name, channels):
    shape = (64, 64, 3)
    x = np.random.default_rng(0).uniform(size=(2, *shape)).astype("float32")
    model = build_only(name, input_shape=shape, features_only=True)
    specs = model.compute_output_spec(keras.KerasTensor((2, *shape)))
    assert [s.shape[-1] for s in specs] == channels
    sizes = [s.shape[1] for s in specs]
    assert sizes == sorted(sizes, reverse=True)
    # stage_outputs of a classifier: same maps, computed for real
    small = zoo.create(name, input_shape=shape, width_multiplier=0.125, num_classes=4)
    maps = small.stage_outputs(x)
    assert [tuple(m.shape[1:3]) for m in maps] == [tuple(s.shape[1:3]) for s in specs]


@pytest.mark.parametrize("pooling,shape", [(None, (2, 2, 2, 16)), ("avg", (2, 16)),
                                           ("max", (2, 16))])
def test_include_top_false_pooling(pooling, shape):
    model = zoo.create("resnet18", input_shape=(64, 64, 3), include_top=False, pooling=pooling,
                       width_multiplier=1 / 32)
    out = model(np.zeros((2, 64, 64, 3), "float32"))
    assert tuple(out.shape) == shape
    assert not [layer for layer in model.head if isinstance(layer, keras.layers.Dense)]


def test_filters_and_width_multiplier():
    model = build_only("resnet20", filters=(8, 16, 24), width_multiplier=2.0)
    names = {w.path.split("/")[-2]: w.shape for w in model.weights if w.path.endswith("kernel")}
    assert names["stem_conv"][-1] == 16
    assert names["stage3_block2_conv2"][-1] == 48


def test_layer_names_are_deterministic_and_unique():
    def paths():  # without the first part, the model's own (auto-numbered) name
        return [w.path.split("/", 1)[1] for w in build_only("resnet50").weights]

    first = paths()
    assert len(set(first)) == len(first)
    assert first == paths()
    layer_names = {p.split("/")[-2] for p in first}
    assert {"stem_conv", "stage1_block0_conv1", "stage4_block2_bn3",
            "stage2_block0_downsample_conv", "logits"} <= layer_names


def test_fast_batch_norm_matches_keras_batch_norm():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(16, 8, 8, 4)).astype("float32")
    args = {"input_shape": (8, 8, 4), "num_classes": 5, "width_multiplier": 0.25}
    plain = zoo.create("resnet20", **args)
    fast = zoo.create("resnet20", fast_batch_norm=True, **args)
    fast.set_weights(plain.get_weights())
    np.testing.assert_allclose(fast(x, training=True), plain(x, training=True), atol=1e-4)
    for a, b in zip(fast.get_weights(), plain.get_weights()):  # moving statistics too
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert any(getattr(layer, "fast_variance", False) for layer in compat.nested_layers(fast))


def test_googlenet_aux_heads_train_only(tmp_path):
    shape = (28, 28, 1)
    model = tiny_model("googlenet", shape, aux_logits=True)
    x, y = fixed_batch(shape)
    assert tuple(model(x).shape) == (8, 3)
    logits, aux1, aux2 = model(x, training=True)
    assert tuple(aux1.shape) == tuple(aux2.shape) == (8, 3)
    model.compile()
    main = float(model.compute_loss(x, y, logits))
    total = float(model.compute_loss(x, y, (logits, aux1, aux2)))
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    expected = main + 0.3 * (float(ce(y, aux1)) + float(ce(y, aux2)))
    assert total == pytest.approx(expected, rel=1e-5)
    check_training_lowers_loss(model, x, y, steps=3, compile_kwargs={
        "optimizer": keras.optimizers.Adam(1e-3), "run_eagerly": True})
    assert tuple(model.predict(x, verbose=0).shape) == (8, 3)
