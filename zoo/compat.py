"""The one module that touches keras internals. Each function says why; each has a test in
tests/foundation/test_foundation_compat.py that fails when keras changes what it relies on."""

import keras
import numpy as np


def create_uninitialized(factory):
    """`factory()` with the variables it creates left uninitialized (keras's deferred variables).

    Public API (`keras.StatelessScope(initialize_variables=False)`). For a
    model whose weights all come from a file next: drawing random values first
    is wasted, and on JAX each new variable shape compiles its initializer
    (about a second per shape on CPU: minutes for a DenseNet). Follow with
    `initialize_uninitialized`; until then the variables have shapes but no
    values (fine for `count_params`, symbolic calls, `keras.StatelessScope`).
    """
    with keras.StatelessScope(initialize_variables=False):
        return factory()


class _Value:
    """An initializer returning one fixed array (numpy, cast to the variable's dtype)."""

    def __init__(self, value):
        self.value = value

    def __call__(self, shape, dtype=None):
        value = np.asarray(self.value)
        return value.astype(keras.backend.standardize_dtype(dtype)) if dtype else value


def initialize_uninitialized(values):
    """Gives deferred variables their first values: `values` (pairs `(variable, array)`)
    where given, each one's own initializer for every other deferred variable.

    Private: keras has no public way to set a deferred variable's first value
    (`assign` writes into the backend variable, which does not exist yet on
    TensorFlow). Replacing its `_initializer` and then letting keras run its own
    deferred initialization (the exit of an outermost `keras.StatelessScope`
    calls it) works the same on every backend.
    """
    values = list(values)
    for variable, value in values:
        # checked before anything changes: a failure inside keras's deferred
        # initialization would leave its list of pending variables half done
        if tuple(np.shape(value)) != tuple(variable.shape):
            raise ValueError(
                f"Variable {variable.path} has shape {tuple(variable.shape)}. "
                f"Received: a value of shape {tuple(np.shape(value))}"
            )
    for variable, value in values:
        variable._initializer = _Value(value)
    with keras.StatelessScope():
        pass
