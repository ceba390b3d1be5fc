"""The shared model test, run over every registered name by each family's tests.

Like keras-hub's `run_backbone_test` / `run_model_saving_test`: build, output
shape, a few steps lower the training loss on a fixed batch, config round-trip,
`.keras` round-trip with equal predictions.
"""

import warnings

import numpy as np

import keras


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
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded.predict(x, verbose=0)),
        keras.ops.convert_to_numpy(model.predict(x, verbose=0)),
        atol=atol,
    )
    return loaded


def run_model_test(model, x, y, expected_output_shape, tmp_path, steps=5, compile_kwargs=None):
    """Every check above on one model and one fixed batch."""
    out = model.predict(x, verbose=0)
    assert tuple(out.shape) == tuple(expected_output_shape)
    check_config_round_trip(model)
    check_training_lowers_loss(model, x, y, steps=steps, compile_kwargs=compile_kwargs)
    check_saving_round_trip(model, x, tmp_path)
