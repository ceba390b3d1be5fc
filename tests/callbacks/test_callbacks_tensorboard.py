"""TensorBoard: step-wise lr/momentum from scripts/train.py, epochs, images, HParams, histograms.

keras's own `keras.callbacks.TensorBoard` writes the epoch summaries; the zoo's
`StepScalars` the steps, HParams and images, in the same log directory."""

import numpy as np
import pytest

import keras

import callbacks
from callbacks_testlib import plugin_names, read_events, tiny_data, tiny_model


@pytest.mark.slow
@pytest.mark.jax
def test_train_py_onecycle_logs_lr_and_momentum_every_step(tmp_path, capsys):
    from zoo.jobs import train

    run_dir = tmp_path / "x"
    # the acceptance command on the first 256 examples (8 steps an epoch)
    code = train.main(
        [
            "mlp",
            "--dataset",
            "fashion_mnist",
            "--epochs",
            "3",
            "--schedule",
            "onecycle",
            "--run-dir",
            str(run_dir),
            "--limit",
            "256",
            "--batch-size",
            "32",
            "--verbose",
            "0",
        ]
    )
    assert code == 0, capsys.readouterr().err
    events = read_events(run_dir / "tensorboard" / "train")
    total = 3 * 8
    steps = [s for s, _ in events["batch_lr"]]
    assert steps == list(range(1, total + 1))
    # the values the updates used: OneCycle from the default Adam's rate, beta_1 cycling
    sched = callbacks.OneCycle(1e-3, total_steps=total)
    mom = sched.momentum_schedule()
    lr = np.array([v for _, v in events["batch_lr"]])
    momentum = np.array([v for _, v in events["batch_momentum"]])
    np.testing.assert_allclose(lr, [float(sched(s)) for s in range(total)], rtol=1e-5)
    np.testing.assert_allclose(momentum, [float(mom(s)) for s in range(total)], rtol=1e-5)
    assert np.all(np.diff(lr) != 0) and np.all(np.diff(momentum) != 0)  # changes every step
    assert lr.argmax() == int(0.3 * total) - 1 and momentum.argmin() == int(0.3 * total) - 1
    for tag in ("epoch_loss", "epoch_accuracy", "epoch_lr", "epoch_momentum"):
        assert [s for s, _ in events[tag]] == [0, 1, 2], tag
    val = read_events(run_dir / "tensorboard" / "validation")
    assert [s for s, _ in val["epoch_loss"]] == [0, 1, 2]
    assert "hparams" in plugin_names(run_dir / "tensorboard")


@pytest.mark.jax
def test_epoch_summaries_images_hparams_and_histograms(tmp_path):
    x, y = tiny_data(n=64)
    model = tiny_model()
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9))
    log_dir = tmp_path / "tb"
    board, tb = callbacks.tensorboard_callbacks(
        log_dir,
        update_freq=3,
        histogram_freq=1,
        hparams={"lr": 0.05, "width": np.int64(16), "opt": keras.optimizers.SGD},
        trial_id="t0",
    )
    assert type(board) is keras.callbacks.TensorBoard and isinstance(tb, callbacks.StepScalars)
    # 4 steps an epoch, steps logged every 3: the epoch summaries are all there too
    model.fit(x, y, batch_size=16, epochs=2, validation_data=(x, y), verbose=0,
              callbacks=[board, tb])
    grid = np.random.default_rng(0).random((2, 8, 8, 3)).astype("float32")
    tb.log_images("samples", grid, step=1)
    callbacks.log_images(log_dir, "grid", (grid[0] * 255).astype("uint8"), step=2)
    events = read_events(log_dir / "train")
    assert [s for s, _ in events["batch_lr"]] == [3, 6]
    assert [s for s, _ in events["epoch_loss"]] == [0, 1]
    assert [s for s, _ in events["epoch_momentum"]] == [0, 1]
    assert any(tag.endswith("/histogram") for tag in events)
    assert [s for s, _ in events["samples"]] == [1] and [s for s, _ in events["grid"]] == [2]
    assert "images" in plugin_names(log_dir / "train")
    assert "hparams" in plugin_names(log_dir)
    with pytest.raises(ValueError, match=r"shape \(2, 8, 8, 2\)"):
        tb.log_images("bad", np.zeros((2, 8, 8, 2)), step=0)


def test_plain_keras_model_logs_scheduled_lr_per_step(tmp_path):
    x, y = tiny_data(n=32)
    model = keras.Sequential([keras.layers.Input((6,)), keras.layers.Dense(3)])
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    sched = callbacks.StepDecay(0.1, step_size=1, gamma=0.5, unit="step")
    model.fit(
        x,
        y,
        batch_size=8,
        epochs=1,
        verbose=0,
        callbacks=[callbacks.Scheduler(sched), callbacks.StepScalars(tmp_path)],
    )
    lr = [v for _, v in read_events(tmp_path / "train")["batch_lr"]]
    np.testing.assert_allclose(lr, [0.1, 0.05, 0.025, 0.0125], rtol=1e-6)


def test_hparams_config_and_bad_arguments(tmp_path):
    callbacks.write_hparams_config(
        tmp_path, {"lr": (1e-4, 1e-1), "width": [16, 32], "depth": (1, 4)}
    )
    assert "hparams" in plugin_names(tmp_path)
    with pytest.raises(ValueError, match="update_freq=0"):
        callbacks.StepScalars(tmp_path, update_freq=0)
    with pytest.raises(TypeError, match="hparams=\\[1\\]"):
        callbacks.StepScalars(tmp_path, hparams=[1])
    with pytest.raises(ValueError, match="lr=3"):
        callbacks.write_hparams_config(tmp_path, {"lr": 3})
