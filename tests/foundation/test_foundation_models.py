import numpy as np
import pytest

import keras
import zoo
from model_checks import run_model_test

pytestmark = [pytest.mark.jax, pytest.mark.torch]


def test_mlp_shared_checks(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((16, 6, 6, 1), dtype=np.float32)
    y = rng.integers(0, 3, 16)
    model = zoo.create(
        "mlp", input_shape=(6, 6, 1), num_classes=3, hidden_units=(16, 8), dropout=0.1
    )
    run_model_test(model, x, y, (16, 3), tmp_path)


def test_perceptron_learns_a_linearly_separable_set(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 2)).astype("float32")
    y = (x[:, 0] + 2 * x[:, 1] > 0).astype("float32")
    model = zoo.create("perceptron", input_shape=(2,))
    run_model_test(
        model, x, y, (200, 1), tmp_path, compile_kwargs={"optimizer": keras.optimizers.SGD(0.5)}
    )
    model.fit(x, y, epochs=30, batch_size=20, verbose=0)
    assert model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] >= 0.97
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        model.fit(x, y + 1, verbose=0)
