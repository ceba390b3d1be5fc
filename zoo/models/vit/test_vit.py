"""ViT, DeiT and DINOv2's own tests: parameter counts against torchvision and timm, ported
weights against them (logits, tokens and every block, at the trained size, at another size
and with dynamic sizes), the resampling rule, the outputs, remat, bad arguments, and a
short epoch of Fashion-MNIST on every backend.

The shared checks every name runs (training, `.keras` round trip) are in
tests/models/test_models_every_name.py; every published entry's full key set is checked in
tests/weights/test_weights_ported.py (which, key for key and shape for shape, also makes
the entries' parameter counts the reference's); LoRA in tests/lora.
"""

import hashlib
import math
import warnings

import keras
import numpy as np
import pytest

import zoo
from loopback import LoopbackServer
from ported_checks import assert_close, infer, make_spec, serialize
from vision_checks import build_only, trainable_count
from zoo.jobs import references
from zoo.models.transformer_layers import resample_matrix
from zoo.weights import convert

import torch  # noqa: E402  (installed by `make install`)

SIZE = 32  # the references' image size: a 4x4 grid of 8x8 patches
SMALL = dict(hidden_dim=32, depth=2, num_heads=4, mlp_dim=128, patch_size=8,
             position_size=(SIZE, SIZE))
TIMM_SMALL = dict(img_size=SIZE, patch_size=8, embed_dim=32, depth=2, num_heads=4)


def _torchvision_vit(tv):
    return tv.models.vision_transformer.VisionTransformer(
        image_size=SIZE, patch_size=8, num_layers=2, num_heads=4, hidden_dim=32, mlp_dim=128,
        num_classes=7)


def _timm(name, **kwargs):
    return lambda timm: timm.create_model(name, pretrained=False, dynamic_img_size=True,
                                          **TIMM_SMALL, **kwargs)


# case -> (zoo name, zoo arguments, reference builder, source)
CASES = {
    "vit": ("vit_b_16", dict(SMALL, num_classes=7), _torchvision_vit, "torchvision"),
    "deit": ("deit_tiny_distilled_patch16_224", dict(SMALL, num_classes=7),
             _timm("deit_tiny_distilled_patch16_224", num_classes=7), "timm"),
    "dinov2": ("vit_small_patch14_reg4_dinov2", dict(SMALL, pooling=None),
               _timm("vit_small_patch14_reg4_dinov2", num_classes=0), "timm"),
}


def _randomized(module, seed):
    """`references.randomize`, then the position embeddings, prefix tokens and layer scales at
    unit scale (its fan-in rule would leave them near zero, hiding a misplaced one)."""
    module = references.randomize(module.eval(), seed=seed)
    generator = torch.Generator().manual_seed(seed + 1)
    parameters = ("pos_embed", "pos_embedding", "cls_token", "class_token", "dist_token",
                  "reg_token", ".gamma")
    with torch.no_grad():
        for key, tensor in module.state_dict(keep_vars=True).items():
            if any(p in key for p in parameters):
                tensor.copy_(torch.randn(tensor.shape, generator=generator))
    return module


def _images(size, n=2, seed=0):
    height, width = size if isinstance(size, tuple) else (size, size)
    return np.random.default_rng(seed).normal(size=(n, height, width, 3)).astype("float32")


def _torch(x):
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def reference_outputs(case, reference, x):
    """(the head's output, [every block's patch tokens as an NHWC map]) of the reference."""
    with torch.no_grad():
        if case == "vit":
            blocks, taps = reference.encoder.layers, []
            hooks = [b.register_forward_hook(lambda m, i, o: taps.append(o)) for b in blocks]
            out = reference(_torch(x)).numpy()
            for hook in hooks:
                hook.remove()
            side = x.shape[1] // 8
            maps = [t[:, 1:].reshape(len(x), side, side, -1).numpy() for t in taps]
            return out, maps
        out = (reference.forward_features if case == "dinov2" else reference)(_torch(x))
        maps = reference.forward_intermediates(_torch(x), intermediates_only=True)
        return out.numpy(), [m.numpy().transpose(0, 2, 3, 1) for m in maps]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Each case's random reference saved in its real format, served from a loopback server."""
    home = tmp_path_factory.mktemp("zoo-home")
    server = LoopbackServer()
    cases = {}
    for i, (case, (name, zoo_args, build, source)) in enumerate(CASES.items()):
        library = references.import_timm() if source == "timm" \
            else references.import_torchvision()
        reference = _randomized(build(library), seed=i)
        data, suffix = serialize(reference.state_dict(), source)
        path = f"/models/{name}-{hashlib.sha256(data).hexdigest()[:8]}{suffix}"
        server.files[path] = data
        spec = make_spec(name, zoo_args, server.url + path, data, source, size=SIZE)
        cases[case] = {"spec": spec, "reference": reference, "data": data}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZOO_HOME", str(home))
        yield cases
    server.close()


def _create(served, case, **kwargs):
    spec = served[case]["spec"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a faithful port loads without one
        return zoo.create(spec.model, weights=spec, **kwargs)


def _check_case(served, case, sizes):
    """The head's output at each (model arguments, input size), and every block's map at
    the trained size, against the reference on the same images."""
    reference = served[case]["reference"]
    for kwargs, size in sizes:
        x = _images(size)
        want, _ = reference_outputs(case, reference, x)
        assert_close(infer(_create(served, case, **kwargs), x), want, f"{case} at {size}")
    x = _images(SIZE)
    _, maps = reference_outputs(case, reference, x)
    features = infer(_create(served, case, features_only=True), x)
    assert len(features) == len(maps) == 2
    for i, (got, want) in enumerate(zip(features, maps)):
        assert_close(got, want, f"{case} block {i}")


@pytest.mark.jax
def test_ported_vit_equals_torchvision(served):
    _check_case(served, "vit", [({}, SIZE)])


@pytest.mark.jax
def test_ported_distilled_deit_equals_timm_at_its_size_and_another(served):
    """Logits (the mean of both heads) at 32x32, and for a model created at 48x48 (its
    position embeddings resampled from 4x4 to 6x6) against timm's `dynamic_img_size`."""
    _check_case(served, "deit", [({}, SIZE), ({"input_shape": (48, 48, 3)}, 48)])


@pytest.mark.jax
def test_ported_dinov2_with_registers_gives_timms_tokens_at_any_size(served):
    """Every token after the final norm (class, registers, patches: timm's
    `forward_features`), and with `dynamic_size=True` at 24x56 (the embeddings shrunk on one
    axis, grown on the other) as timm's `dynamic_img_size=True`."""
    _check_case(served, "dinov2", [({}, SIZE), ({"dynamic_size": True}, (24, 56))])


@pytest.mark.jax
def test_conv_stem_equals_torchvisions_conv_stem_configs():
    """`conv_stem` is torchvision's `conv_stem_configs` (conv-BN-ReLU, then a 1x1 to the
    width): random weights and BatchNorm statistics, every tensor used, the same logits."""
    tv = references.import_torchvision()
    vit = tv.models.vision_transformer
    stem = [[8, 3, 2], [16, 3, 2], [16, 3, 2]]  # strides 2 x 2 x 2 = patch 8
    reference = _randomized(vit.VisionTransformer(
        image_size=SIZE, patch_size=8, num_layers=2, num_heads=4, hidden_dim=32, mlp_dim=128,
        num_classes=7, conv_stem_configs=[vit.ConvStemConfig(*s) for s in stem]), seed=5)
    model = zoo.create("vit_b_16", **SMALL, num_classes=7, input_shape=(SIZE, SIZE, 3),
                       conv_stem=stem)
    tensors = {k: v.numpy() for k, v in reference.state_dict().items()}
    convert.assign(model, convert.convert(model, tensors))
    x = _images(SIZE)
    with torch.no_grad():
        want = reference(_torch(x)).numpy()
    assert_close(infer(model, x), want, "conv stem")
    with pytest.raises(ValueError, match=r"conv_stem=\[\[8, 3, 2\]\]"):
        zoo.create("vit_b_16", **SMALL, conv_stem=[[8, 3, 2]])  # strides 2 != patch 8


def _authors_layout(state, seed=7):
    """A timm DINOv2-with-registers state dict in the DINOv2 authors' layout (their
    `dinov2_vits14_reg4_pretrain.pth`): a mask token, `register_tokens`, and the class token's
    position embedding (random, so a dropped one shows) first in `pos_embed`."""
    first = torch.randn((1, 1, state["cls_token"].shape[-1]),
                        generator=torch.Generator().manual_seed(seed))
    out = {k: v for k, v in state.items() if k not in ("cls_token", "reg_token", "pos_embed")}
    out.update(cls_token=state["cls_token"] - first, register_tokens=state["reg_token"],
               pos_embed=torch.cat([first, state["pos_embed"]], dim=1),
               mask_token=torch.randn((1, first.shape[-1])))
    return out


@pytest.mark.jax
def test_dinov2_authors_file_loads_as_timms_checkpoint_filter_reads_it(served, tmp_path):
    """The `lvd142m` entry of vit_small_patch14_reg4_dinov2 is the authors' own `.pth`: a
    random one, served under its full sha256, gives the tokens of a timm model that loaded the
    same file through timm's own `checkpoint_filter_fn`, with every tensor used."""
    timm = references.import_timm()
    authors = _authors_layout(served["dinov2"]["reference"].state_dict())
    reference = _timm("vit_small_patch14_reg4_dinov2", num_classes=0)(timm).eval()
    filtered = timm.models.vision_transformer.checkpoint_filter_fn(dict(authors), reference)
    reference.load_state_dict(filtered, strict=True)
    data, suffix = serialize(authors, "torchvision")  # torch.save, as the authors' file
    server = LoopbackServer()
    try:
        path = "/dinov2/dinov2_vits14_reg4_pretrain" + suffix
        server.files[path] = data
        name, zoo_args = CASES["dinov2"][:2]
        spec = make_spec(name, zoo_args, server.url + path, data, "timm", size=SIZE)
        model = zoo.create(name, weights=spec)
    finally:
        server.close()
    x = _images(SIZE)
    with torch.no_grad():
        want = reference.forward_features(_torch(x)).numpy()
    assert_close(infer(model, x), want, "the authors' DINOv2 file")


def test_resampling_is_torchs_antialiased_bicubic():
    """timm's `resample_abs_pos_embed` is `F.interpolate(..., "bicubic", antialias=True)`."""
    grid = np.random.default_rng(0).normal(size=(1, 3, 5, 4)).astype("float32")  # NCHW
    for size in [(5, 7), (2, 3), (9, 2), (5, 4)]:
        want = torch.nn.functional.interpolate(torch.from_numpy(grid), size=size,
                                               mode="bicubic", antialias=True,
                                               align_corners=False).numpy()
        rows = keras.ops.convert_to_numpy(resample_matrix(size[0], 5))
        cols = keras.ops.convert_to_numpy(resample_matrix(size[1], 4))
        got = np.einsum("ih,bchw,jw->bcij", rows, grid, cols)
        np.testing.assert_allclose(got, want, atol=1e-5, err_msg=str(size))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(resample_matrix(6, 6)), np.eye(6),
                               atol=1e-6)


# ---------------------------------------------------------------- parameter counts


@pytest.mark.parametrize("name", ["vit_h_14", "deit_small_distilled_patch16_224",
                                  "vit_small_patch14_dinov2", "vit_base_patch14_dinov2",
                                  "vit_large_patch14_dinov2", "vit_small_patch14_reg4_dinov2"])
def test_trainable_params_equal_the_reference(name):
    """At the defaults (vit_h_14: 224x224, its builder's default; DINOv2: 518x518, no
    classifier): torchvision's or timm's `sum(p.numel() for p in parameters())`. The names
    with published weights are also checked tensor by tensor (tests/weights)."""
    if name.startswith("vit_") and "patch" not in name:
        reference = references.torchvision_model(name, device="meta", image_size=224)
    else:
        reference = references.timm_model(name, device="meta")
    want = sum(p.numel() for p in reference.parameters())
    assert trainable_count(build_only(name)) == want


# ---------------------------------------------------------------- outputs and arguments


def _tiny(name="deit_tiny_distilled_patch16_224", **kwargs):
    args = dict(hidden_dim=16, num_heads=2, mlp_dim=32, depth=3, patch_size=4,
                input_shape=(16, 16, 3), num_classes=5)
    return zoo.create(name, **{**args, **kwargs})


def test_pooling_and_features_only_outputs():
    x = _images(16)
    full = _tiny(include_top=False)
    tokens = keras.ops.convert_to_numpy(full(x))
    assert tokens.shape == (2, 2 + 16, 16)  # class, distillation, 4x4 patches
    token = _tiny(include_top=False, pooling="token")
    token.set_weights(full.get_weights())
    np.testing.assert_allclose(token(x), (tokens[:, 0] + tokens[:, 1]) / 2, atol=1e-6)
    avg = _tiny(include_top=False, pooling="avg")
    avg.set_weights(full.get_weights())
    np.testing.assert_allclose(avg(x), np.mean(tokens[:, 2:], axis=1), atol=1e-6)
    model = _tiny(features_only=True, feature_blocks=[0, -1])
    assert [tuple(m.shape) for m in model(x)] == [(2, 4, 4, 16)] * 2
    assert model.feature_layer_names() == ["stage1", "stage3"]
    assert len(_tiny(features_only=True, feature_blocks=2).outputs) == 2
    assert len(_tiny(features_only=True).outputs) == 3


def test_dynamic_size_matches_the_fixed_model_and_takes_other_sizes():
    fixed = _tiny("vit_small_patch14_reg4_dinov2")
    dynamic = _tiny("vit_small_patch14_reg4_dinov2", dynamic_size=True)
    dynamic.set_weights(fixed.get_weights())
    assert dynamic.expected_input_shape() == (None, None, 3)
    x = _images(16)
    np.testing.assert_allclose(dynamic(x), fixed(x), atol=1e-5)
    assert tuple(dynamic(_images((8, 24))).shape) == (2, 16)


def test_remat_computes_the_same_step():
    """Rematerialized blocks give the same loss and the same updated weights."""
    x, y = _images(16, n=2), np.arange(2) % 5
    models = [_tiny("vit_b_16", remat=remat, depth=1) for remat in (False, True)]
    models[1].set_weights(models[0].get_weights())
    losses = []
    for model in models:
        model.compile(optimizer=keras.optimizers.SGD(0.1))
        losses.append(model.train_on_batch(x, y))
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    for a, b in zip(*(m.get_weights() for m in models)):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_drop_path_acts_in_training_only_and_is_seeded():
    x = _images(16, n=8)
    outputs = []
    for _ in range(2):  # the same seed: the same weights and the same dropped paths
        keras.utils.set_random_seed(1)
        model = _tiny("vit_b_16", drop_path=0.5)
        outputs.append(keras.ops.convert_to_numpy(model(x, training=True)))
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-6)
    inference = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(model(x, training=False), inference, atol=0)
    assert not np.allclose(outputs[0], inference)


@pytest.mark.parametrize("kwargs,match", [
    ({"hidden_dim": 16, "num_heads": 3}, "hidden_dim=16, num_heads=3"),
    ({"patch_size": 5}, r"input_shape=\(16, 16\)"),
    ({"position_size": (18, 18)}, r"position_size=\(18, 18\)"),
    ({"feature_blocks": 4}, "feature_blocks=4"),
    ({"feature_blocks": [0, 9]}, r"feature_blocks=\[0, 9\]"),
    ({"pooling": "max", "include_top": False}, "pooling='max'"),
    ({"register_tokens": -1}, "register_tokens=-1"),
    ({"layer_scale": 0}, "layer_scale=0"),
    ({"drop_path": 1.0}, "drop_path=1.0"),
    ({"dynamic_size": True, "preprocessing": {"crop": 16}}, "dynamic_size=True"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _tiny(**kwargs)


def test_constructor_arguments_are_keyword_only():
    with pytest.raises(TypeError, match="positional"):
        zoo.models.vit.VisionTransformer((32, 32, 3), 10)


def test_a_file_of_another_architecture_names_the_first_mismatched_layer(served):
    """The torchvision ViT's file (width 32) for a DeiT of width 64."""
    vit = served["vit"]
    spec = make_spec("deit_tiny_patch16_224", dict(SMALL, hidden_dim=64, num_classes=7),
                     vit["spec"].url, vit["data"], "torchvision", size=SIZE)
    with pytest.raises(convert.ConversionError,
                       match=r"layer 'patch_embed'.*\(32, 3, 8, 8\).*\(64, 3, 8, 8\)"):
        zoo.create("deit_tiny_patch16_224", weights=spec)


# ---------------------------------------------------------------- real data


@pytest.mark.jax
@pytest.mark.torch
def test_the_smallest_variant_trains_a_short_epoch_of_fashion_mnist():
    """DeiT-Ti's layout (reduced) on 28x28x1 Fashion-MNIST images (`input_shape` and a
    7x7 patch): one epoch of 256 images through the zoo's step lowers the loss."""
    (x, y), _ = zoo.datasets.load_arrays("fashion_mnist")
    x, y = x[:256].astype("float32") / 255.0, y[:256]
    model = zoo.create("deit_tiny_patch16_224", input_shape=(28, 28, 1), num_classes=10,
                       patch_size=7, hidden_dim=16, num_heads=2, mlp_dim=32, depth=1)
    model.compile(optimizer=keras.optimizers.AdamW(1e-2))
    before = model.evaluate(x, y, batch_size=256, verbose=0, return_dict=True)["loss"]
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    after = model.evaluate(x, y, batch_size=256, verbose=0, return_dict=True)["loss"]
    assert math.isfinite(after) and after < before, (before, after)


def test_drop_path_of_earlier_files_loads_as_the_shared_stochastic_depth():
    """`.keras` files saved before ViT used the shared layer name `zoo>DropPath`."""
    import keras

    from zoo.models.stochastic_depth import StochasticDepth

    layer = keras.saving.deserialize_keras_object({
        "module": None, "class_name": "DropPath", "registered_name": "zoo>DropPath",
        "config": {"name": "block0_drop_path1", "rate": 0.1, "seed": 3, "trainable": True,
                   "dtype": "float32"}})
    assert type(layer) is StochasticDepth and (layer.rate, layer.seed) == (0.1, 3)
