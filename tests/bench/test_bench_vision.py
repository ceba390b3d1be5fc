"""`scripts/bench.py vision`: the pairs of issue 22's speed table parse and build alike."""

import math

import keras
import pytest

import zoo
from zoo.bench import vision_bench as vision

SIX = ("convnext_tiny", "efficientnet_b0", "efficientnet_v2_s", "mobilenet_v3_large",
       "regnet_y_800mf", "inception_v3")


def test_the_peer_option_selects_the_six_pairs_of_issue_22():
    args = vision.build_parser().parse_args(["--peer", "keras.applications"])
    pairs, variants = vision.check_args(args)
    assert set(SIX) <= set(pairs) and "resnet20" not in pairs and variants == []
    for pair, (constructor, _) in vision.APPLICATIONS.items():
        assert callable(getattr(keras.applications, constructor)), pair


def test_bad_pairs_raise_naming_them():
    args = vision.build_parser().parse_args(["--models", "regnet_y_800mf,nosuch"])
    with pytest.raises(ValueError, match="nosuch"):
        vision.check_args(args)


def test_rows_keep_inception_at_its_smallest_input_and_add_regnets_same_width_row():
    args = vision.build_parser().parse_args(["--image-size", "32"])
    shape, classes, rows = vision.make_rows("inception_v3", args, [])
    assert shape == (75, 75, 3) and classes == 1000
    assert [label for label, _ in rows] == ["zoo inception_v3",
                                            "keras.applications.InceptionV3"]
    shape, _, rows = vision.make_rows("regnet_y_800mf", args, [])
    assert shape == (32, 32, 3)
    assert [label for label, _ in rows] == [
        "zoo regnet_y_800mf", "zoo regnet_y_800mf [RegNetY008 widths]",
        "keras 2 applications.RegNetY008 layout"]


def _trainable(model):
    return sum(math.prod(w.shape) for w in model.trainable_weights)


def test_the_regnet_reference_is_the_zoo_network_with_its_widths():
    # reduced depths, the reference's widths and group width: every layer kind of both
    config = {**vision.REGNET_Y008, "depths": (1, 2, 1, 1)}
    reference = vision.plain_regnet_y(**config, input_shape=(32, 32, 3), num_classes=10)
    model = zoo.create("regnet_y_800mf", input_shape=(32, 32, 3), num_classes=10,
                       depths=config["depths"], filters=config["widths"])
    assert _trainable(model) == _trainable(reference)
    assert model.output_shape == reference.output_shape == (None, 10)
