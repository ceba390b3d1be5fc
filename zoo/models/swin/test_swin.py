"""Swin's own tests: parameter counts and full key sets against torchvision, ported weights
against torchvision (logits and every stage, V1 and V2, at two sizes), the fixed buffers,
outputs, LoRA on the attention projections, stochastic depth, freezing, bad arguments, and
a short epoch of Fashion-MNIST on every backend.

The shared checks every name runs (training, `.keras` round trip) are in
tests/models/test_models_every_name.py; the export round trip in
tests/export/test_export_parity.py.
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
from zoo.models.swin import window_attention
from zoo.weights import convert

import torch  # noqa: E402  (installed by `make install`)

SIZE, OTHER = 64, 72  # 72: odd maps (18 -> 9 -> 5 -> 3 tokens) pad before merging
# every layer kind at a quarter of Swin-T's width: 16x16 tokens in the first stage (shifted
# windows and their mask), padded windows in the later ones
SMALL = dict(width_multiplier=0.25, depths=(2, 2, 2, 2), num_classes=7)

# torchvision 0.28: sum(p.numel() for p in model.parameters()), its weights' `num_params`
TORCHVISION_PARAMS = {"swin_t": 28_288_354, "swin_s": 49_606_258, "swin_b": 87_768_224,
                      "swin_v2_t": 28_351_570, "swin_v2_s": 49_737_442,
                      "swin_v2_b": 87_930_848}


def _torchvision_swin(tv, version):
    swin = tv.models.swin_transformer
    v2 = dict(block=swin.SwinTransformerBlockV2, downsample_layer=swin.PatchMergingV2)
    return swin.SwinTransformer([4, 4], 24, [2, 2, 2, 2], [3, 6, 12, 24],
                                [7, 7] if version == 1 else [8, 8], num_classes=7,
                                **(v2 if version == 2 else {}))


CASES = {"v1": ("swin_t", 1), "v2": ("swin_v2_t", 2)}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Each version's random reference saved as a torchvision `.pth`, on a loopback server."""
    home = tmp_path_factory.mktemp("zoo-home")
    server = LoopbackServer()
    tv = references.import_torchvision()
    cases = {}
    for i, (case, (name, version)) in enumerate(CASES.items()):
        # random weights, LayerNorm scales and shifts, position tables, logit scales (and
        # the V2 key bias torchvision leaves out)
        reference = references.randomize(_torchvision_swin(tv, version).eval(), seed=i)
        data, suffix = serialize(reference.state_dict(), "torchvision")
        path = f"/models/{name}-{hashlib.sha256(data).hexdigest()[:8]}{suffix}"
        server.files[path] = data
        spec = make_spec(name, SMALL, server.url + path, data, "torchvision", size=SIZE)
        cases[case] = {"name": name, "spec": spec, "reference": reference, "data": data}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZOO_HOME", str(home))
        yield cases
    server.close()


def _create(served, case, **kwargs):
    spec = served[case]["spec"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a faithful port loads without one
        return zoo.create(spec.model, weights=spec, **kwargs)


def _images(size, n=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, size, size, 3)).astype("float32")


@pytest.mark.jax
@pytest.mark.parametrize("case", sorted(CASES))
def test_ported_swin_equals_torchvision(served, case):
    """Logits and every stage at 64x64 against torchvision on the same images (one traced
    model per version on JAX)."""
    name, reference = served[case]["name"], served[case]["reference"]
    x = _images(SIZE)
    logits, stages = references.logits_and_stages(reference, name, x)
    model = _create(served, case)
    taps = keras.Model(model.input, [model.output] + [
        model.get_layer(n).output for n in model.feature_layer_names()])
    outputs = infer(taps, x)
    assert_close(outputs[0], logits, f"{name} logits")
    assert len(outputs) - 1 == len(stages) == 4
    for i, (got, want) in enumerate(zip(outputs[1:], stages)):
        assert_close(got, want, f"{name} stage {i + 1}")


@pytest.mark.parametrize("case", sorted(CASES))
def test_ported_swin_equals_torchvision_at_another_size(served, case):
    """The logits of a model created at 72x72 from the same file (odd maps padded before
    patch merging, other window paddings)."""
    name, reference = served[case]["name"], served[case]["reference"]
    x = _images(OTHER, seed=1)
    other = _create(served, case, input_shape=(OTHER, OTHER, 3))
    assert_close(infer(other, x), references.logits(reference, x), f"{name} at {OTHER}")


def test_features_only_and_pooling_keep_every_backbone_weight(served):
    """`features_only` (no head: the checkpoint's `head.*` left out, nothing else) and
    `include_top=False` give torchvision's stage maps and their average."""
    reference = served["v2"]["reference"]
    x = _images(SIZE)
    _, stages = references.logits_and_stages(reference, "swin_v2_t", x)
    features = infer(_create(served, "v2", features_only=True), x)
    for i, (got, want) in enumerate(zip(features, stages)):
        assert_close(got, want, f"features_only stage {i + 1}")
    pooled = _create(served, "v2", include_top=False, pooling="avg")
    assert_close(infer(pooled, x), stages[-1].mean(axis=(1, 2)), "pooled")
    assert tuple(_create(served, "v2", num_classes=3)(x).shape) == (2, 3)  # a fresh head


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_trainable_params_and_full_key_set_equal_torchvision(name):
    """From shapes alone (nothing allocated, the reference on torch's meta device): equal
    trainable parameters, and every tensor of torchvision's state dict (buffers included)
    converts, none missing, none left over."""
    model = build_only(name)
    assert trainable_count(model) == TORCHVISION_PARAMS[name]
    reference = references.torchvision_model(name, device="meta")
    assert sum(p.numel() for p in reference.parameters()) == TORCHVISION_PARAMS[name]
    shapes = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    plan = convert.plan(model)
    convert.check(plan, shapes, model, name)
    assert {a.key for a in plan} == set(shapes)
    keras.backend.clear_session(free_memory=False)  # the next model reuses the layer names


@pytest.mark.parametrize("version", [1, 2])
def test_fixed_buffers_and_mask_equal_torchvisions(version):
    """The relative position index and V2's log-spaced coordinates of a fresh model are
    torchvision's buffers; the shifted-window mask is its `attn_mask`."""
    tv = references.import_torchvision()
    swin = tv.models.swin_transformer
    attention = (swin.ShiftedWindowAttention if version == 1 else
                 swin.ShiftedWindowAttentionV2)(16, [7, 7], [3, 3], 2)
    layer = window_attention.WindowAttention(2, (7, 7), (3, 3), cosine=version == 2)
    layer.build((None, 14, 14, 48))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.relative_position_index),
                                  attention.relative_position_index.numpy())
    if version == 2:
        np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.relative_coords_table),
                                   attention.relative_coords_table.numpy(), atol=1e-6)
    # torchvision's mask on a 14x21 map of 7x7 windows shifted by (3, 3), read back from the
    # attention it computes with zero weights: only the position bias and the mask remain
    with torch.no_grad():
        for p in attention.parameters():
            p.zero_()
        captured = {}
        original = torch.nn.functional.softmax
        torch.nn.functional.softmax = lambda a, dim: captured.setdefault("a", a) * 0 + \
            original(a, dim=dim)
        try:
            attention(torch.zeros(1, 14, 21, 16))
        finally:
            torch.nn.functional.softmax = original
    logits = captured["a"].numpy()  # (windows, heads, N, N): bias (zero table or 16 x 0.5)
    mask = window_attention.shift_mask(14, 21, (7, 7), (3, 3))
    offset = 0.0 if version == 1 else 8.0
    np.testing.assert_allclose(logits, np.broadcast_to(mask[:, None] + offset, logits.shape))


def test_stage_outputs_and_feature_taps():
    model = build_only("swin_t", input_shape=(64, 64, 3), features_only=True)
    assert [tuple(s.shape[1:]) for s in model.outputs] == [
        (16, 16, 96), (8, 8, 192), (4, 4, 384), (2, 2, 768)]
    small = zoo.create("swin_v2_t", input_shape=(64, 64, 3), width_multiplier=0.125,
                       depths=(1, 1, 1, 1), num_classes=4)
    assert small.feature_layer_names() == ["stage1", "stage2", "stage3", "stage4"]
    maps = small.stage_outputs(_images(64))
    assert [tuple(m.shape[1:]) for m in maps] == [(16, 16, 12), (8, 8, 24), (4, 4, 48),
                                                  (2, 2, 96)]
    pooled = zoo.create("swin_v2_t", input_shape=(64, 64, 3), width_multiplier=0.125,
                        depths=(1, 1, 1, 1), include_top=False, pooling="max")
    assert tuple(pooled(_images(64)).shape) == (2, 96)


def _tiny(name="swin_t", **kwargs):
    return zoo.create(name, **{"input_shape": (32, 32, 3), "width_multiplier": 0.25,
                               "depths": (2, 2, 1, 1), "num_classes": 5, "patch_size": 2,
                               "window_size": 4, **kwargs})


def _values(model):
    return {v.path: keras.ops.convert_to_numpy(v).copy() for v in model.weights}


@pytest.mark.torch
def test_lora_adapts_the_query_and_value_parts_of_the_fused_projection(tmp_path):
    """`zoo.lora.enable`'s default targets on Swin's fused `qkv` (a `QKVDense`): a rank-r
    update on the query and the value thirds, none on the key's; only the adapters
    change in a step; merged equals unmerged; the adapters load onto their base alone.
    (JAX: passes too, but compiling Swin's step costs ~100 s; zoo.lora's own tests run
    the workflow on JAX with a ViT.)"""
    base = tmp_path / "base.weights.h5"
    _tiny("swin_v2_t").save_weights(base)
    model = _tiny("swin_v2_t", weights=str(base))
    x, y = _images(32, n=4), np.arange(4) % 5

    def outputs(m):
        return keras.ops.convert_to_numpy(m(x))

    before = outputs(model)
    report = zoo.lora.enable(model, rank=2, train_head=False)
    qkv = [layer for layer in model.layers if layer.name.endswith("_attn_qkv")]
    assert len(qkv) == 6 and report.layers == tuple(layer.name for layer in qkv)
    # per layer and part: A (dim x 2), B (2 x dim); the key's third has none
    assert report.trainable_params == sum(2 * 2 * 2 * (q.units // 3) for q in qkv) == sum(
        int(np.prod(v.shape)) for v in model.trainable_weights)
    np.testing.assert_allclose(outputs(model), before, atol=1e-5)  # B starts at zero
    start = _values(model)
    # TensorFlow eager: tracing the step costs more than one step of this tiny model
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  run_eagerly=keras.backend.backend() == "tensorflow")
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    changed = {k for k, v in _values(model).items() if not np.array_equal(start[k], v)}
    assert changed and all(k.endswith(("lora_kernel_a", "lora_kernel_b")) for k in changed)
    merged = zoo.lora.merge(model)
    assert not zoo.lora.lora_layers(merged)
    adapted = outputs(model)
    np.testing.assert_allclose(outputs(merged), adapted, atol=1e-5)
    plain = _tiny("swin_v2_t", weights=str(base))
    for layer in qkv:  # the merged kernel moved in its query and value thirds only
        dim = layer.units // 3
        new, old = (keras.ops.convert_to_numpy(m.get_layer(layer.name).kernel)
                    for m in (merged, plain))
        assert not np.allclose(new[:, :dim], old[:, :dim])
        np.testing.assert_array_equal(new[:, dim:2 * dim], old[:, dim:2 * dim])
        assert not np.allclose(new[:, 2 * dim:], old[:, 2 * dim:])
    path = zoo.lora.save(model, tmp_path / "adapters.lora.h5")
    assert zoo.lora.read(path)["parts"] == {q.name: ["query", "value"] for q in qkv}
    zoo.lora.load(plain, path)  # enables the same part-wise adapters
    np.testing.assert_allclose(outputs(plain), adapted, atol=1e-5)
    layer = qkv[0]  # a layer's config keeps its part-wise LoRA (a .keras round trip)
    copy = type(layer).from_config(layer.get_config())
    copy.build((None, layer.kernel.shape[0]))
    assert copy.lora_parts == ("query", "value") and [tuple(v.shape) for v in copy.weights] \
        == [tuple(v.shape) for v in layer.weights]
    with pytest.raises(ValueError, match=r"parts=\('query', 'bias'\)"):
        type(layer)(12).enable_lora(2, parts=("query", "bias"))


@pytest.mark.jax
def test_v2_trains_with_a_padded_window_to_finite_weights():
    """One step of Swin V2 on a 4x4 map padded to 6x6 (3x3 windows): a padded token's key
    is a zero vector (zero input, no key bias), and the cosine attention's normalisation of
    it must have a finite gradient (`sqrt` at 0: NaN on JAX without the clamp under the
    root in `window_attention._normalize`)."""
    keras.utils.set_random_seed(0)
    model = zoo.create("swin_v2_t", input_shape=(8, 8, 3), patch_size=2, filters=(8,),
                       depths=(1,), num_heads=(1,), window_size=3, num_classes=3)
    assert model.get_layer("stage1_block0_attn_pad").output.shape[1:3] == (6, 6)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    loss = model.train_on_batch(_images(8), np.array([0, 1]))
    assert [path for path, v in _values(model).items() if not np.isfinite(v).all()] == []
    assert np.isfinite(np.asarray(loss, dtype="float64")).all(), loss


def test_drop_path_acts_in_training_only_and_is_seeded():
    x = _images(32, n=8)
    outputs = []
    for _ in range(2):  # the same seed: the same weights and the same dropped paths
        keras.utils.set_random_seed(1)
        model = _tiny(drop_path=0.5)
        outputs.append(keras.ops.convert_to_numpy(model(x, training=True)))
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-6)
    inference = keras.ops.convert_to_numpy(model(x))
    assert not np.allclose(outputs[0], inference)
    rates = [layer.rate for layer in model.layers if layer.name.endswith("_drop_path1")]
    np.testing.assert_allclose(rates, np.linspace(0, 0.5, 6))  # torchvision's linear rule


def test_trainable_false_freezes_every_layer_norm():
    model = _tiny()
    model.trainable = False
    norms = [layer for layer in model.layers
             if isinstance(layer, keras.layers.LayerNormalization)]
    assert norms and not model.trainable_weights
    x, y = _images(32, n=4), np.arange(4) % 5
    model.compile(optimizer=keras.optimizers.Adam(0.1), run_eagerly=True)
    values = [keras.ops.convert_to_numpy(w) for w in norms[0].weights]
    model.fit(x, y, epochs=1, verbose=0)
    for w, v in zip(norms[0].weights, values):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(w), v)


@pytest.mark.parametrize("kwargs,match", [
    ({"num_heads": (3, 6, 12)}, r"num_heads=\(3, 6, 12\)"),
    ({"width_multiplier": 0.3}, r"width_multiplier=0.3"),
    ({"window_size": 0}, "window_size=0"),
    ({"version": 3}, "version=3"),
    ({"version": 2, "window_size": 1}, "window_size=1"),
    ({"patch_size": 40}, r"input_shape=\(32, 32, 3\)"),
    ({"drop_path": 1.0}, "drop_path=1.0"),
    ({"mlp_ratio": 0}, "mlp_ratio=0"),
    ({"pooling": "token", "include_top": False}, "pooling='token'"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _tiny(**kwargs)


def test_constructor_arguments_are_keyword_only():
    with pytest.raises(TypeError, match="positional"):
        zoo.models.swin.SwinTransformer((32, 32, 3), 10)


def test_a_file_of_another_architecture_names_the_first_mismatched_layer(served):
    """Swin-T's file (width 24) for a Swin-B layout of width 32."""
    v1 = served["v1"]
    spec = make_spec("swin_b", dict(SMALL, num_heads=(4, 8, 16, 32)), v1["spec"].url,
                     v1["data"], "torchvision", size=SIZE)
    with pytest.raises(convert.ConversionError,
                       match=r"layer 'patch_embed_conv'.*\(24, 3, 4, 4\).*\(32, 3, 4, 4\)"):
        zoo.create("swin_b", weights=spec)


# ---------------------------------------------------------------- real data


@pytest.mark.jax
@pytest.mark.torch
def test_the_smallest_variant_trains_a_short_epoch_of_fashion_mnist():
    """Swin-T's layout (reduced to one stage of one window block) on 28x28x1 Fashion-MNIST
    images (`input_shape`, 2x2 patches, 7x7 windows over 14x14 tokens): one epoch of 256
    images through the zoo's step lowers the loss (TensorFlow eager: tracing the step
    costs more than running it on 8 batches)."""
    (x, y), _ = zoo.datasets.load_arrays("fashion_mnist")
    x, y = x[:256].astype("float32") / 255.0, y[:256]
    model = zoo.create("swin_t", input_shape=(28, 28, 1), num_classes=10, patch_size=2,
                       filters=(16,), depths=(1,), num_heads=(2,))
    model.compile(optimizer=keras.optimizers.AdamW(3e-3),
                  run_eagerly=keras.backend.backend() == "tensorflow")
    before = model.evaluate(x, y, batch_size=256, verbose=0, return_dict=True)["loss"]
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    after = model.evaluate(x, y, batch_size=256, verbose=0, return_dict=True)["loss"]
    assert math.isfinite(after) and after < before, (before, after)
