"""Data checks on every input path, and the stop at the first step with non-finite weights."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo

SHAPE = (6, 6, 1)


def _model(**attributes):
    model = zoo.create("mlp", input_shape=SHAPE, num_classes=4, hidden_units=(8,))
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    for key, value in attributes.items():
        setattr(model, key, value)
    return model


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(n, *SHAPE)).astype("float32"), rng.integers(0, 4, n).astype("int32")


def _steps(model):
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


def _finite(model):
    return all(np.isfinite(w).all() for w in model.get_weights())


def _dataset(x, y, batch=16):
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch)


def test_one_nan_pixel_in_numpy_inputs_is_named_before_any_update():
    """The issue's reproduction: x[0, 3, 3, 0] = nan, the logged loss would stay finite."""
    x, y = _data()
    x[0, 3, 3, 0] = np.nan
    model = _model()
    with pytest.raises(ValueError, match=r"`x` holds nan at x\[0, 3, 3, 0\]"):
        model.fit(x, y, epochs=2, verbose=0)
    x[0, 3, 3, 0] = np.inf
    with pytest.raises(ValueError, match=r"holds inf at x\[0, 3, 3, 0\]"):
        model.evaluate(x, y, verbose=0)
    with pytest.raises(ValueError, match=r"validation_data"):
        model.fit(*_data(), validation_data=(x, y), verbose=0)
    assert _steps(model) == 0


def test_tf_data_first_batch_nan_and_labels_fail_clearly_before_any_update():
    x, y = _data()
    bad = x.copy()
    bad[2, 1, 1, 0] = np.nan
    model = _model()
    with pytest.raises(ValueError, match=r"holds nan at x\[2, 1, 1, 0\] in batch 1"):
        model.fit(_dataset(bad, y), verbose=0)
    halves = np.full(64, 0.5, "float32")
    with pytest.raises(ValueError, match=r"integer class ids. Received: non-integer label 0.5"):
        model.fit(_dataset(x, halves), verbose=0)
    with pytest.raises(ValueError, match=r"\[0, 4\). Received: label 9 at index 3"):
        model.fit(_dataset(x, np.r_[y[:3], 9, y[4:]].astype("int32")), verbose=0)
    with pytest.raises(TypeError, match="must hold numbers"):
        model.fit(tf.data.Dataset.from_tensor_slices((x, y.astype(str))).batch(8), verbose=0)
    assert _steps(model) == 0


def test_a_label_out_of_range_in_a_later_batch_is_the_zoos_error_not_tensorflows():
    x, y = _data()
    y = y.copy()
    y[-1] = 7  # the last batch
    model = _model()
    with pytest.raises(ValueError, match=r"`y` labels must lie in \[0, 4\). Received: label 7"):
        model.fit(_dataset(x, y), verbose=0)


def test_every_batch_mode_stops_before_the_bad_batch_is_used():
    x, y = _data()
    bad = x.copy()
    bad[50, 0, 0, 0] = np.nan  # batch 4 of 16
    model = _model(data_checks="every_batch")
    ends = []
    spy = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: ends.append(batch))
    with pytest.raises(ValueError, match=r"holds NaN or inf in batch 4, at index \[2 0 0 0\]"):
        model.fit(_dataset(bad, y), verbose=0, callbacks=[spy])
    # TensorFlow may count the aborted step in `iterations`; no weight saw the batch
    assert ends == [0, 1, 2] and _finite(model)
    labels = y.copy()
    labels[40] = 5  # batch 3
    model = _model(data_checks="every_batch")
    with pytest.raises(ValueError, match=r"Received: label 5 at index 8 of batch 3"):
        model.fit(_dataset(x, labels), verbose=0)
    with pytest.raises(ValueError, match="data_checks"):
        _model(data_checks="sometimes").fit(_dataset(x, y), verbose=0)


def test_generators_are_checked_and_still_train():
    x, y = _data()
    bad = x.copy()
    bad[20, 0, 0, 0] = np.nan

    def batches(images):
        for i in range(0, 64, 16):
            yield images[i:i + 16], y[i:i + 16]

    model = _model(data_checks="every_batch")
    with pytest.raises(ValueError, match=r"holds nan at x\[4, 0, 0, 0\] in batch 2"):
        model.fit(batches(bad), epochs=1, verbose=0)
    assert _steps(model) <= 1 and _finite(model)  # keras may read ahead of the step
    history = _model().fit(batches(x), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("call, kwargs, match", [
    ("fit", dict(batch_size=0), "batch_size=0"),
    ("fit", dict(batch_size=-5), "batch_size=-5"),
    ("fit", dict(epochs=0), "epochs=0"),
    ("fit", dict(epochs=-1), "epochs=-1"),
    ("fit", dict(steps_per_epoch=0), "steps_per_epoch=0"),
    ("evaluate", dict(batch_size=0), "batch_size=0"),
    ("predict", dict(batch_size=-1), "batch_size=-1"),
])
def test_non_positive_batch_size_and_epochs_are_refused(call, kwargs, match):
    x, y = _data()
    model = _model()
    args = (x,) if call == "predict" else (x, y)
    with pytest.raises(ValueError, match=match):
        getattr(model, call)(*args, verbose=0, **kwargs)
    with pytest.raises(ValueError, match="epochs=0"):
        model.fit(x, y, 16, 0)  # keras's positional order
    assert _steps(model) == 0


def test_inputs_outside_the_range_the_weights_expect_are_refused():
    """uint8 0..255 to the Fashion-MNIST weights, which expect x / 255."""
    model = zoo.create("mlp", weights="fashion_mnist")
    model.compile()
    pixels = np.random.default_rng(0).integers(0, 256, (8, 28, 28, 1)).astype("uint8")
    labels = np.zeros(8, "int32")
    with pytest.raises(ValueError, match=r"values in \[\d+, 255\].*expect inputs in \[0, 1\] "
                                         r"\(uint8 pixels: divide by 255\)"):
        model.evaluate(pixels, labels, verbose=0)
    with pytest.raises(ValueError, match="mlp.fashion_mnist"):
        model.predict(tf.data.Dataset.from_tensor_slices(pixels).batch(4), verbose=0)
    scores = model.predict(pixels / 255.0, verbose=0)
    assert scores.shape == (8, 10)
    assert zoo.create("mlp").input_range is None  # nothing is assumed without weights


@pytest.mark.jax
@pytest.mark.torch
def test_non_finite_weights_stop_training_at_the_step_whatever_the_loss_shows():
    """A NaN the input checks do not see (a later batch): the loss stays finite
    (ReLU turns NaN pre-activations into 0) and TerminateOnNaN never fires."""
    x, y = _data(128)
    x[100, 2, 2, 0] = np.nan  # batch 7 of 8
    model = _model()
    terminate = keras.callbacks.TerminateOnNaN()
    with pytest.raises(zoo.training.NonFiniteError,
                       match=r"epoch 1, batch 7 \(step 7 of this fit\).*'mlp/dense_0/kernel'"):
        model.fit(_dataset(x, y), epochs=3, verbose=0, callbacks=[terminate])
    assert not _finite(model)  # stopped at the step that broke them: nothing hides it


@pytest.mark.jax
@pytest.mark.torch
def test_the_check_stays_out_of_the_logs():
    """It rides on the logged loss: no entry of its own, and the loss it logs is exact."""
    x, y = _data()
    model = _model()
    seen = []

    class Spy(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(set(logs))

    history = model.fit(_dataset(x, y), epochs=2, verbose=0, callbacks=[Spy()])
    assert all(s <= {"loss", "accuracy", "lr", "momentum"} for s in seen)
    assert {"loss", "accuracy", "lr"} <= set(history.history)
    keras.utils.set_random_seed(0)
    plain = _model()
    plain.check_finite_weights = False
    keras.utils.set_random_seed(0)
    checked = _model()
    a = plain.fit(_dataset(x, y), epochs=1, verbose=0).history["loss"]
    b = checked.fit(_dataset(x, y), epochs=1, verbose=0).history["loss"]
    assert a == b  # 0 * (a finite sum) changes no bit of the loss


def test_an_adversarial_model_stops_too():
    model = zoo.create("dcgan", input_shape=(8, 8, 1), latent_dim=4, filters=(4,),
                       variant="dense", hidden_units=(8,))
    model.compile()
    kernel = model.players()[0].variables[0]
    kernel.assign(np.full(kernel.shape, np.nan, "float32"))
    x = np.random.default_rng(0).uniform(size=(16, 8, 8, 1)).astype("float32")
    with pytest.raises(zoo.training.NonFiniteError, match="batch 1"):
        model.fit(x, epochs=1, batch_size=8, verbose=0)
