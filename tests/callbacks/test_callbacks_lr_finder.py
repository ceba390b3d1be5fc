"""LRFinder: sweep, divergence stop, exact restore of weights and optimizer, suggestion, plot."""

import numpy as np
import pytest

import keras

import callbacks
from zoo import compat
from callbacks_testlib import all_weights, optimizer_state, tiny_data, tiny_model

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.jax
def test_find_restores_weights_and_optimizer_state_exactly(tmp_path):
    x, y = tiny_data(n=64)
    model = tiny_model()
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9))
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)  # momentum slots and iterations != 0
    weights, state = all_weights(model), optimizer_state(model)
    lr_variable = compat.learning_rate_object(model.optimizer)
    finder = callbacks.LRFinder(
        min_lr=1e-4, max_lr=10.0, num_steps=60, plot_path=tmp_path / "lr.png"
    )
    suggestion = finder.find(model, x, y, batch_size=16)  # 4 batches: cycles through the data
    for a, b in zip(all_weights(model), weights):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(optimizer_state(model), state):
        np.testing.assert_array_equal(a, b)
    assert compat.learning_rate_object(model.optimizer) is lr_variable
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)
    # the sweep: exponential, from min_lr, stopped by divergence before max_lr
    lrs = np.array(finder.lrs)
    np.testing.assert_allclose(lrs[0], 1e-4, rtol=1e-5)
    np.testing.assert_allclose(np.diff(np.log(lrs)), np.log(1e5) / 59, rtol=1e-3)
    assert finder.diverged and len(lrs) < 60
    assert 1e-4 <= suggestion < lrs[-1]
    assert (tmp_path / "lr.png").read_bytes()[:8] == PNG
    # training still works, with the optimizer as it was
    before = int(model.optimizer.iterations)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert int(model.optimizer.iterations) == before + 4


def test_suggestion_is_the_steepest_descent_of_the_smoothed_loss():
    finder = callbacks.LRFinder(smoothing=0.0, num_steps=50)
    lrs = np.logspace(-5, 0, 50)
    # loss falls fastest (per decade) around lr = 1e-2, then rises
    loss = 2.0 - np.tanh(2.0 * (np.log10(lrs) + 2.0)) + np.where(lrs > 0.2, 20 * lrs, 0)
    finder.lrs, finder.losses, finder.smoothed = list(lrs), list(loss), list(loss)
    assert finder.suggest() == pytest.approx(1e-2, rel=0.3)


def test_as_fit_callback_stops_after_num_steps_and_restores(tmp_path):
    x, y = tiny_data(n=64)
    model = tiny_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    weights = all_weights(model)
    finder = callbacks.LRFinder(min_lr=1e-5, max_lr=1e-2, num_steps=10)
    model.fit(x, y, batch_size=8, epochs=5, verbose=0, callbacks=[finder])
    assert int(model.optimizer.iterations) == 0  # restored
    for a, b in zip(all_weights(model), weights):
        np.testing.assert_array_equal(a, b)
    assert 8 <= len(finder.lrs) <= 10  # the last batch of each epoch may be skipped


@pytest.mark.slow
def test_train_py_find_lr_prints_suggestion_and_writes_plot(tmp_path, capsys):
    from zoo.jobs import train

    run_dir = tmp_path / "f"
    code = train.main(
        [
            "mlp",
            "--dataset",
            "fashion_mnist",
            "--find-lr",
            "--run-dir",
            str(run_dir),
            "--limit",
            "2048",
            "--find-lr-steps",
            "60",
            "--verbose",
            "0",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "suggested learning rate: " in out
    value = float(out.split("suggested learning rate: ")[1].split()[0])
    assert 1e-7 <= value <= 10.0
    assert (run_dir / "lr_finder.png").read_bytes()[:8] == PNG
    assert not (run_dir / "model.keras").exists()  # no training
