"""zoo.compat: each use of keras internals, checked against the installed keras."""

import keras
import numpy as np
import pytest

from zoo import compat

pytestmark = [pytest.mark.jax, pytest.mark.torch]


def test_uninitialized_variables_take_given_values_and_the_rest_their_initializers():
    def factory():
        dense = keras.layers.Dense(3, bias_initializer="ones")
        dense.build((None, 2))
        return dense

    dense = compat.create_uninitialized(factory)
    kernel = np.arange(6, dtype="float64").reshape(2, 3)
    compat.initialize_uninitialized([(dense.kernel, kernel)])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(dense.kernel), kernel)
    assert keras.backend.standardize_dtype(dense.kernel.dtype) == "float32"
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(dense.bias), np.ones(3))
    # initialized for good: usable and assignable as any variable
    dense.bias.assign(np.zeros(3))
    out = dense(np.ones((1, 2), "float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), [[3.0, 5.0, 7.0]])


def test_a_wrong_shape_is_refused():
    dense = compat.create_uninitialized(lambda: keras.layers.Dense(3))
    dense = compat.create_uninitialized(lambda: (dense.build((None, 2)), dense)[1])
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*\(3, 3\)"):
        compat.initialize_uninitialized([(dense.kernel, np.zeros((3, 3)))])
    compat.initialize_uninitialized([])  # nothing half done: the pending ones still initialize
    assert keras.ops.convert_to_numpy(dense.kernel).shape == (2, 3)
