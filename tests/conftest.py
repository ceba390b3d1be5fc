import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(__file__))

# fails the session when a test is skipped outside its allow-list (tests/skip_guard.py)
pytest_plugins = ["skip_guard"]

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_and_policy():
    """Each test starts seeded, in float32, and leaves the global policy as it found it."""
    keras.utils.set_random_seed(0)
    policy = keras.config.dtype_policy()
    yield
    keras.config.set_dtype_policy(policy)


def pytest_collection_modifyitems(config, items):
    """`jax_only` tests are deselected outside the JAX pass: a deselection, not a skip."""
    if keras.backend.backend() == "jax":
        return
    other = [item for item in items if item.get_closest_marker("jax_only")]
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = [item for item in items if not item.get_closest_marker("jax_only")]
