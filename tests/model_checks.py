"""The shared model test, run over every registered name by each family's tests.

Like keras-hub's `run_backbone_test` / `run_model_saving_test`: build, output
shape, a few steps lower the training loss on a fixed batch, config round-trip,
`.keras` round-trip with equal predictions.
"""

import warnings

import numpy as np

import keras
from zoo import registry as _registry


def tiny_model(name, **kwargs):
    """`name` at its family's tiny configuration, built through its named entry point."""
    declared = _registry.family(name).declaration("variants")
    return _registry.get(name).builder(**{**declared.tiny_arguments(name), **kwargs})


def tiny_batch(model, n=8):
    """(x, y) for `model`: the family's `tiny_batch`, else inputs in [0, 1) of the model's
    input shape and labels cycling over its classes (None for a model without labels)."""
    declared = _registry.family_of(model).declaration("variants")
    if hasattr(declared, "tiny_batch"):
        return declared.tiny_batch(model, n)
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(n, *model.expected_input_shape())).astype("float32")
    classes = model.num_output_classes()
    return x, (np.arange(n) % classes if classes else None)


def check_config_round_trip(model):
    config = model.get_config()
    clone = type(model).from_config(config)
    assert clone.get_config() == config
    assert clone.count_params() == model.count_params()
    return clone


def check_training_lowers_loss(model, x, y=None, steps=5, compile_kwargs=None):
    model.compile(**(compile_kwargs or {}))
    history = model.fit(x, y, epochs=steps, batch_size=len(x), shuffle=False, verbose=0)
    losses = history.history["loss"] if "loss" in history.history else next(
        v for k, v in history.history.items() if k.endswith("loss")
    )
    assert np.all(np.isfinite(losses)), losses
    assert losses[-1] < losses[0], losses
    return history


def check_saving_round_trip(model, x, tmp_path, atol=1e-5):
    path = str(tmp_path / f"{model.name}.keras")
    model.save(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = keras.saving.load_model(path)
    # keras warns when loading leaves a layer half-built
    unbuilt = [str(w.message) for w in caught if "build()" in str(w.message)]
    assert not unbuilt, unbuilt
    assert type(loaded) is type(model)
    got = keras.tree.flatten(loaded.predict(x, verbose=0))
    want = keras.tree.flatten(model.predict(x, verbose=0))
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b),
                                   atol=atol)
    return loaded


def run_model_test(model, x, y, expected_output_shape, tmp_path, steps=5, compile_kwargs=None):
    """Every check above on one model and one fixed batch."""
    out = model.predict(x, verbose=0)
    assert tuple(out.shape) == tuple(expected_output_shape)
    check_config_round_trip(model)
    check_training_lowers_loss(model, x, y, steps=steps, compile_kwargs=compile_kwargs)
    check_saving_round_trip(model, x, tmp_path)


def transfer_features(backbone, inputs):
    """keras.io's transfer pattern: `backbone(inputs, training=False)`, flattened to a vector."""
    features = backbone(inputs, training=False)
    if isinstance(features, dict):  # the VAE: its reconstruction
        features = features["reconstruction"]
    if len(features.shape) > 2:
        features = keras.layers.Flatten()(features)
    return features


_RELOAD_IN_NEW_PROCESS = """
import json
import sys
from pathlib import Path
import numpy as np
import keras
import zoo  # registers the families, as a user's script does
for path in sorted(Path(sys.argv[1]).glob("*.keras")):
    model = keras.saving.load_model(str(path))
    x = np.load(path.with_suffix(".x.npy"))
    np.save(path.with_suffix(".reloaded.npy"), model.predict(x, verbose=0))
    print(json.dumps({"label": path.stem, "config": model.get_config(), "dtypes": sorted(
        {keras.backend.standardize_dtype(v.dtype) for v in model.weights})}, default=str))
"""


def predict_in_new_process(cases, folder):
    """Saves each model to `.keras`, reloads them all in one fresh Python process (`import
    zoo`, then `keras.saving.load_model`) and predicts there.

    `cases`: {label: (model, x)}. Returns {label: (outputs before saving, outputs of the
    reloaded model, what the new process saw: its config and weight dtypes)}.
    """
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    expected = {}
    for label, (model, x) in cases.items():
        model.save(str(folder / f"{label}.keras"))
        np.save(folder / f"{label}.x.npy", x)
        expected[label] = model.predict(x, verbose=0)
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-c", _RELOAD_IN_NEW_PROCESS, str(folder)], env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    seen = {}
    for line in run.stdout.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            seen[record["label"]] = record
    return {label: (expected[label], np.load(folder / f"{label}.reloaded.npy"), seen[label])
            for label in cases}


def check_functional_reload_in_new_process(cases, tmp_path, atol=1e-5, num_classes=3):
    """keras.io's transfer pattern around each backbone: trained, saved, reloaded elsewhere.

    `cases`: {label: (backbone, x, y)}. Each backbone is frozen
    (`trainable = False`) under a new Dense head on `backbone(inputs,
    training=False)`, trained one epoch and saved to `.keras`; one fresh Python
    process (`import zoo`, then `keras.saving.load_model`) loads every file and
    predicts, and the predictions must not change. Frozen backbones keep the
    traced step small (no backward pass through them), as in keras.io's guide.
    """
    folder = tmp_path / "functional-reload"
    folder.mkdir()
    models = {}
    for label, (backbone, x, y) in cases.items():
        backbone.trainable = False
        inputs = keras.Input(x.shape[1:], dtype=str(x.dtype))
        outputs = keras.layers.Dense(num_classes)(transfer_features(backbone, inputs))
        model = keras.Model(inputs, outputs)
        # TensorFlow eager: tracing the graph costs more than running it once on 8
        # examples; JAX's eager ops each compile, its traced step compiles once
        eager = keras.backend.backend() == "tensorflow"
        model.compile(optimizer=keras.optimizers.Adam(1e-2), run_eagerly=eager,
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        head = [keras.ops.convert_to_numpy(w).copy() for w in model.layers[-1].weights]
        model.fit(x, y, epochs=1, batch_size=len(x), verbose=0)
        assert any(not np.array_equal(a, keras.ops.convert_to_numpy(b))
                   for a, b in zip(head, model.layers[-1].weights)), f"{label}: no training"
        models[label] = (model, x)
    for label, (before, after, _) in predict_in_new_process(models, folder).items():
        np.testing.assert_allclose(after, before, atol=atol, err_msg=label)
