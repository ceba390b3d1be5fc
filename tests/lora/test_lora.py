"""zoo.lora: only the adapters train, merged equals unmerged, the adapters saved alone load
onto their base and are refused on another, with fit, the shared callbacks and the tuner."""

import keras
import numpy as np
import pytest

import zoo
from callbacks import standard_callbacks

TINY = dict(input_shape=(16, 16, 3), num_classes=4, patch_size=8, hidden_dim=16, num_heads=2,
            mlp_dim=32, depth=2)


def _batch(n=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(n, 16, 16, 3)).astype("float32"), np.arange(n) % 4


@pytest.fixture
def base(tmp_path):
    """A weights file of a tiny ViT: the base the adapters adapt."""
    path = tmp_path / "base.weights.h5"
    zoo.create("vit_b_16", **TINY).save_weights(path)
    return path


def _values(model):
    return {v.path: keras.ops.convert_to_numpy(v).copy() for v in model.weights}


@pytest.mark.jax
@pytest.mark.torch
def test_only_the_adapters_change_in_a_step_and_merging_keeps_the_outputs(base):
    model = zoo.create("vit_b_16", weights=str(base), **TINY)
    report = zoo.lora.enable(model, rank=2, train_head=False)
    assert report.layers == ("block0_query", "block0_value", "block1_query", "block1_value")
    # each adapter: A (16 x 2) and B (2 x 16)
    assert report.trainable_params == 4 * (16 * 2 + 2 * 16) == sum(
        int(np.prod(v.shape)) for v in model.trainable_weights)
    assert "4 layers" in str(report) and "256 trainable" in str(report)
    x, y = _batch()
    before = _values(model)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    after = _values(model)
    changed = {k for k in before if not np.array_equal(before[k], after[k])}
    assert changed and all(k.endswith(("lora_kernel_a", "lora_kernel_b")) for k in changed)
    merged = zoo.lora.merge(model)
    assert not zoo.lora.lora_layers(merged) and zoo.lora.lora_layers(model)
    assert merged.count_params() == zoo.create("vit_b_16", **TINY).count_params()
    np.testing.assert_allclose(merged.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-5)


def test_adapters_save_alone_load_onto_their_base_and_are_refused_on_another(base, tmp_path):
    model = zoo.create("vit_b_16", weights=str(base), **TINY)
    zoo.lora.enable(model, rank=4, alpha=8)
    x, y = _batch()
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(x, y, epochs=2, batch_size=8, verbose=0,
              callbacks=standard_callbacks(str(tmp_path / "run"), tensorboard=False))
    path = zoo.lora.save(model, tmp_path / "adapters.lora.h5")
    meta = zoo.lora.read(path)
    assert meta["base"]["sha256"] == zoo.weights.sha256_of(base)
    assert (meta["rank"], meta["alpha"], meta["head"]) == (4, 8.0, ["logits"])
    assert path.stat().st_size < base.stat().st_size / 2
    fresh = zoo.create("vit_b_16", weights=str(base), **TINY)
    zoo.lora.load(fresh, path)  # enables LoRA with the file's rank and layers
    np.testing.assert_allclose(fresh.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-5)
    other = tmp_path / "other.weights.h5"
    zoo.create("vit_b_16", **TINY).save_weights(other)
    with pytest.raises(ValueError, match=r"adapt the base weights 'base\.weights\.h5'.*"
                                         r"the model holds 'other\.weights\.h5'"):
        zoo.lora.load(zoo.create("vit_b_16", weights=str(other), **TINY), path)
    unrecorded = zoo.create("vit_b_16", **TINY)  # random weights: no base to record
    zoo.lora.enable(unrecorded, 2)
    with pytest.raises(ValueError, match="records none"):
        zoo.lora.save(unrecorded, tmp_path / "none.lora.h5")


@pytest.mark.parametrize("call,match", [
    (lambda m: zoo.lora.enable(m, 0), "rank=0"),
    (lambda m: zoo.lora.enable(m, 2, targets=("nothing",)), r"targets=\('nothing',\)"),
    (lambda m: zoo.lora.enable(m, 2, targets=("norm1",)), "are not"),
    (lambda m: zoo.lora.merge(m), "no LoRA layers"),
    (lambda m: zoo.lora.save(m, "adapters.h5"), "must end with .lora.h5"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call(zoo.create("vit_b_16", **TINY))


def test_a_keras_model_around_the_backbone_trains_its_head_and_adapters(base, tmp_path):
    """The transfer pattern: LoRA on the backbone, a new head around it."""
    backbone = zoo.create("vit_b_16", weights=str(base), include_top=False, pooling="token",
                          **TINY)
    report = zoo.lora.enable(backbone, rank=2)
    inputs = keras.Input((16, 16, 3))
    model = keras.Model(inputs, keras.layers.Dense(3, name="head")(backbone(inputs)))
    assert sum(int(np.prod(v.shape)) for v in model.trainable_weights) == \
        report.trainable_params + 16 * 3 + 3
    x, y = _batch()
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(True))
    model.fit(x, y % 3, epochs=1, verbose=0)
    path = zoo.lora.save(model, tmp_path / "wrapped.lora.h5")
    assert zoo.lora.read(path)["head"] == ["head"]
    merged = zoo.lora.merge(model)
    np.testing.assert_allclose(merged.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-5)


def test_the_tuner_searches_the_rank_and_the_learning_rate(base, tmp_path):
    hm = zoo.hypermodel("vit_b_16", weights=str(base), **TINY,
                        extend={"lora_rank": [2, 4]},
                        overrides={"learning_rate": (1e-4, 1e-2, "log")})
    assert {"lora_rank", "learning_rate"} <= set(hm.space.names)
    tuner = zoo.tuner(hm, "random", objective="val_accuracy", max_trials=1,
                      directory=tmp_path, seed=1)
    x, y = _batch(16)
    tuner.search(x, y, validation_data=(x, y), epochs=1, batch_size=8, verbose=0)
    (trial,) = tuner.oracle.trials.values()
    assert trial.status == "COMPLETED"
    model = hm.build(trial.hyperparameters)
    layers = zoo.lora.lora_layers(model)
    assert layers and layers[0].lora_rank == trial.hyperparameters.get("lora_rank")
